// The node's JSON configuration: the commented example parses back, every field's bounds are
// checked and named by path, unknown and duplicate fields are refused, credentials never appear
// in printed configs or errors, and no input makes the parser throw.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.RealNode.Config;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Configuration;

public class NodeConfigTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    internal const string Minimal = """
        { "Overlay": { "Id": "ov" },
          "Signaling": { "Host": "127.0.0.1", "Account": "alice@xmpp.test", "Password": "s3cret-pw" } }
        """;

    /// <summary>Every field set (the example's commented-out ones too), as a mutable tree.</summary>
    internal static JsonObject Full()
    {
        var o = JsonNode.Parse(ConfigExample.Text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        o["Node"]!["Id"] = "0123456789abcdef0123456789abcdef";
        o["Node"]!["Seed"] = 7;
        o["Signaling"]!["CertificateSha256"] = new string('a', 64);
        o["Topology"]!["LongLinksMax"] = 4;
        o["Control"]!["Socket"] = "/tmp/edgevpn-test.sock";
        o["Trace"]!["Path"] = "/tmp/edgevpn-test.trace";
        return o;
    }

    private static ConfigResult Parse(string text) => NodeConfigParser.Parse(text, NoEnv);

    private static ConfigResult ParseWith(string path, JsonNode? value)
    {
        var o = Full();
        var parts = path.Split('.');
        JsonNode node = o;
        foreach (var p in parts[..^1]) node = node[p]!;
        node.AsObject()[parts[^1]] = value;
        return Parse(o.ToJsonString());
    }

    [Fact]
    public void The_commented_example_parses_back_with_its_values()
    {
        var r = Parse(ConfigExample.Text);
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        var c = r.Config!;
        Assert.Equal("overlay1", c.OverlayId);
        Assert.Null(c.NodeId);
        Assert.Equal("xmpp.example.org", c.Signaling.Host);
        Assert.Equal(5222, c.Signaling.Port);
        Assert.Equal("alice@xmpp.example.org", c.Signaling.Account.ToString());
        Assert.Equal("change-me", c.Signaling.Password.Reveal());
        Assert.Equal("overlay1", c.Signaling.Group);
        Assert.IsType<TlsTrust.SystemStore>(c.Signaling.Trust);
        Assert.Equal(new ServerAddress("stun.example.org", 3478), Assert.Single(c.Ice.Stun));
        var turn = Assert.Single(c.Ice.Turn);
        Assert.Equal(("turn.example.org:3478", "edgevpn", "change-me-too"), (turn.Address.ToString(), turn.User, turn.Password.Reveal()));
        Assert.Equal(new TapSettings("edgevpn0", System.Net.IPAddress.Parse("10.10.0.1"), 24, 1410), c.Tap);
        Assert.Equal(1460, c.Ice.DatagramBytesMax);
        Assert.Equal(new TopologyConfig(), c.Protocol.Topology);
        Assert.Equal(new Protocol.Links.LinkConfig(), c.Protocol.Links);
        Assert.Equal(new FlowConfig(), c.Protocol.Flows);
        Assert.Equal(new Protocol.Membership.MembershipConfig(), c.Protocol.Membership);
        Assert.Equal("/run/edgevpn/overlay1.sock", c.ControlSocket);
        Assert.Null(c.TracePath);
    }

    [Fact]
    public void Every_field_set_parses_and_maps_onto_the_protocol_configs()
    {
        var o = Full();
        o["Topology"]!["SuccessorsMin"] = 3;
        o["Topology"]!["TickIntervalSeconds"] = 2.5;
        o["Links"]!["SetupTimeoutSeconds"] = 12;
        o["Flows"]!["UnknownUnicast"] = "flood";
        var r = Parse(o.ToJsonString());
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        var c = r.Config!;
        Assert.Equal("0123456789abcdef0123456789abcdef", c.NodeId.ToString());
        Assert.Equal(7UL, c.Seed);
        Assert.IsType<TlsTrust.Fingerprint>(c.Signaling.Trust);
        Assert.Equal(3, c.Protocol.Topology.SuccessorsMin);
        Assert.Equal(4, c.Protocol.Topology.LongLinksMax);
        Assert.Equal(TimeSpan.FromSeconds(2.5), c.Protocol.Topology.TickInterval);
        Assert.Equal(TimeSpan.FromSeconds(12), c.Protocol.Links.SetupTimeout);
        Assert.Equal(UnknownUnicastPolicy.Flood, c.Protocol.Flows.UnknownUnicast);
        Assert.Equal("/tmp/edgevpn-test.sock", c.ControlSocket);
        Assert.Equal("/tmp/edgevpn-test.trace", c.TracePath);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("9223372036854775808", 9223372036854775808UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    public void Any_seed_the_node_can_print_is_accepted_back(string seed, ulong expected) =>
        Assert.Equal(expected, Parse(MinimalWith($"\"Node\": {{ \"Seed\": {seed} }}")).Config?.Seed);

    [Fact]
    public void A_minimal_config_takes_the_defaults_and_the_socket_under_XDG_RUNTIME_DIR_when_set()
    {
        var r = NodeConfigParser.Parse(Minimal, k => k == "XDG_RUNTIME_DIR" ? "/run/user/1000" : null);
        Assert.True(r.Ok, string.Join("\n", r.Errors));
        Assert.Equal("/run/user/1000/edgevpn/ov.sock", r.Config!.ControlSocket);
        Assert.Equal("ov", r.Config.Signaling.Group);
        Assert.Null(r.Config.Tap);
        Assert.Equal("/run/edgevpn/ov.sock", Parse(Minimal).Config!.ControlSocket);
    }

    [Fact]
    public void A_default_socket_path_longer_than_a_Unix_socket_allows_is_refused_and_asks_for_Control_Socket()
    {
        string xdg = "/run/" + new string('x', 80);   // + "/edgevpn/" + a 64-character overlay id + ".sock"
        string config = Minimal.Replace("\"ov\"", "\"" + new string('o', 64) + "\"", StringComparison.Ordinal);
        var r = NodeConfigParser.Parse(config, k => k == "XDG_RUNTIME_DIR" ? xdg : null);
        string error = Assert.Single(r.Errors);
        Assert.StartsWith($"Control.Socket: not set, and the default path {xdg}/edgevpn/", error, StringComparison.Ordinal);
        Assert.EndsWith("is 163 bytes, more than a Unix socket path's 107; set Control.Socket to a shorter path", error, StringComparison.Ordinal);
        Assert.True(NodeConfigParser.Parse(config.Replace("\"Signaling\"", "\"Control\": { \"Socket\": \"/run/a.sock\" }, \"Signaling\"", StringComparison.Ordinal), k => k == "XDG_RUNTIME_DIR" ? xdg : null).Ok);
    }

    [Theory]
    [InlineData("missing.pem", "does not exist")]
    [InlineData("", "is a directory, not a PEM file")]
    [InlineData("garbage.pem", "holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")")]
    [InlineData("broken.pem", "holds a certificate that cannot be read")]
    public void A_CA_file_that_cannot_give_a_certificate_is_refused_when_parsed(string name, string problem)
    {
        string dir = Directory.CreateTempSubdirectory("edgevpn-ca-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "garbage.pem"), Minimal);
            File.WriteAllText(Path.Combine(dir, "broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
            string path = Path.Combine(dir, name);
            var r = Parse(Minimal.Replace("\"s3cret-pw\"", $"\"s3cret-pw\", \"CaFile\": {JsonSerializer.Serialize(path)}", StringComparison.Ordinal));
            Assert.StartsWith($"Signaling.CaFile: {path} {problem}", Assert.Single(r.Errors), StringComparison.Ordinal);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_CA_file_with_a_PEM_certificate_is_accepted_as_the_trust()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("edgevpn-ca-").FullName, "ca.pem");
        try
        {
            using var key = System.Security.Cryptography.ECDsa.Create();
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=edgevpn test CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
            File.WriteAllText(path, "a comment before the block\n" + certificate.ExportCertificatePem());
            var r = Parse(Minimal.Replace("\"s3cret-pw\"", $"\"s3cret-pw\", \"CaFile\": {JsonSerializer.Serialize(path)}", StringComparison.Ordinal));
            Assert.True(r.Ok, string.Join("\n", r.Errors));
            Assert.Equal(new TlsTrust.CaFile(path), r.Config!.Signaling.Trust);
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    [Theory]
    [InlineData("a:b:c")]
    [InlineData("-xmpp.example.org")]
    [InlineData("xmpp..example.org")]
    [InlineData("10.0.0.256")]
    [InlineData("10.0.1")]
    [InlineData("fe80::1%eth0")]
    public void A_host_that_is_neither_a_DNS_name_nor_an_IP_address_is_refused(string host) =>
        Assert.Equal("Signaling.Host: must be a host name or an IP address", Assert.Single(Parse(Minimal.Replace("127.0.0.1", host, StringComparison.Ordinal)).Errors));

    [Theory]
    [InlineData("xmpp.example.org")]
    [InlineData("xmpp.example.org.")]
    [InlineData("localhost")]
    [InlineData("10.0.0.1")]
    [InlineData("::1")]
    [InlineData("2001:db8::5222")]
    [InlineData("1password.example")]
    public void A_DNS_name_or_an_IP_address_is_accepted_as_the_host(string host) =>
        Assert.Equal(host, Parse(Minimal.Replace("127.0.0.1", host, StringComparison.Ordinal)).Config?.Signaling.Host);

    // One bad value per field, and the "Path: problem" it must produce.
    public static TheoryData<string, string, string> BadValues() => new()
    {
        { "Overlay.Id", "\"\"", "Overlay.Id: must not be empty" },
        { "Overlay.Id", "\"a b\"", "Overlay.Id: may hold only" },
        { "Overlay.Id", "\"" + new string('x', 65) + "\"", "Overlay.Id: must be at most 64 characters" },
        { "Node.Id", "\"xyz\"", "Node.Id: node id must be 32 hex digits" },
        { "Node.Id", "\"0123456789abcdef0123456789abcdeg\"", "Node.Id: node id has a non-hex character" },
        { "Node.Seed", "-1", "Node.Seed: must be a whole number in 0..18446744073709551615, got -1" },
        { "Node.Seed", "18446744073709551616", "Node.Seed: must be a whole number in 0..18446744073709551615" },
        { "Node.Seed", "1.5", "Node.Seed: must be a whole number" },
        { "Signaling.Host", "\"bad host\"", "Signaling.Host: must be a host name or an IP address" },
        { "Signaling.Port", "0", "Signaling.Port: must be in 1..65535" },
        { "Signaling.Port", "65536", "Signaling.Port: must be in 1..65535" },
        { "Signaling.Port", "\"5222\"", "Signaling.Port: must be a whole number in 1..65535" },
        { "Signaling.Account", "\"xmpp.test\"", "Signaling.Account: must be a bare user@domain address" },
        { "Signaling.Account", "\"a@b/c\"", "Signaling.Account: must be a bare user@domain address" },
        { "Signaling.Account", "\"a b@c\"", "Signaling.Account: localpart has a forbidden character" },
        { "Signaling.Password", "\"\"", "Signaling.Password: must not be empty" },
        { "Signaling.Password", "12345", "Signaling.Password: must be a string" },
        { "Signaling.Resource", "\"a\\u0007b\"", "Signaling.Resource: not a valid XMPP resource" },
        { "Signaling.Group", "\"\\u0001\"", "Signaling.Group: not valid XML text" },
        { "Signaling.CaFile", "\"/etc/ca.pem\"", "Signaling.CaFile: give either CaFile or CertificateSha256, not both" },
        { "Signaling.CertificateSha256", "\"abcd\"", "Signaling.CertificateSha256: a SHA-256 fingerprint is 64 hex digits" },
        { "Signaling.AllowPlain", "1", "Signaling.AllowPlain: must be true or false" },
        { "Signaling.ReconnectDelayMaxSeconds", "0.5", "Signaling.ReconnectDelayMaxSeconds: must be in [1, 86400]" },
        { "Ice.Stun", "\"stun:3478\"", "Ice.Stun: must be an array" },
        { "Ice.Stun", "[\"host:0\"]", "Ice.Stun[0]: port must be in 1..65535" },
        { "Ice.Stun", "[3478]", "Ice.Stun[0]: must be a \"host:port\" string" },
        { "Ice.Stun", "[\"[::1\"]", "Ice.Stun[0]: unclosed '['" },
        { "Ice.Stun", "[" + string.Join(",", Enumerable.Repeat("\"a:1\"", 17)) + "]", "Ice.Stun: must have at most 16 entries" },
        { "Ice.Turn", "[1]", "Ice.Turn[0]: must be an object" },
        { "Ice.Turn", "[{\"Address\":\"t:99999\",\"User\":\"u\",\"Password\":\"p\"}]", "Ice.Turn[0].Address: port must be in 1..65535" },
        { "Ice.Turn", "[{\"Address\":\"t:1\",\"Password\":\"p\"}]", "Ice.Turn[0].User: required field is missing" },
        { "Ice.Turn", "[{\"Address\":\"t:1\",\"User\":\"u\"}]", "Ice.Turn[0].Password: required field is missing" },
        { "Ice.Turn", "[{\"Address\":\"t:1\",\"User\":\"u\",\"Password\":\"p\",\"Realm\":\"r\"}]", "Ice.Turn[0].Realm: unknown field" },
        { "Tap.Name", "\"a/b\"", "Tap.Name: not a valid Linux interface name" },
        { "Tap.Name", "\"sixteen-chars-xx\"", "Tap.Name: must be at most 15 characters" },
        { "Tap.Address", "\"10.0.0.1\"", "Tap.Address: must be an address with a prefix length" },
        { "Tap.Address", "\"10.0.0.1/33\"", "Tap.Address: prefix length must be in 1..32, got 33" },
        { "Tap.Address", "\"10.0.0.1/0\"", "Tap.Address: prefix length must be in 1..32, got 0" },
        { "Tap.Address", "\"fd00::1/64\"", "Tap.Address: must be an IPv4 address (the tap takes no IPv6 address)" },
        { "Tap.Mtu", "575", "Tap.Mtu: must be in 576..9000" },
        { "Tap.Mtu", "9001", "Tap.Mtu: must be in 576..9000" },
        { "Tap.Mtu", "1500", "Tap.Mtu: 1500 does not fit a link datagram: MTU + 14 (Ethernet header) + 25 (frame record) = 1539 exceeds Ice.DatagramBytesMax 1460; use an MTU of at most 1421" },
        { "Ice.DatagramBytesMax", "614", "Ice.DatagramBytesMax: must be in 615..65000" },
        { "Ice.DatagramBytesMax", "1448", "Tap.Mtu: 1410 does not fit a link datagram" },
        { "Topology.SuccessorsMin", "0", "Topology.SuccessorsMin: must be in 1..16" },
        { "Topology.LongLinksMax", "65", "Topology.LongLinksMax: must be in 0..64" },
        { "Topology.Sampler", "\"uniform\"", "Topology.Sampler: must be one of \"harmonic\", \"edgevpn-log10\"" },
        { "Topology.Membership", "\"gossip\"", "Topology.Membership: must be one of \"presence\", \"lookup\"" },
        { "Topology.LongLinkDrawTriesMax", "0", "Topology.LongLinkDrawTriesMax: must be in 1..64" },
        { "Topology.RedrawRatio", "1", "Topology.RedrawRatio: must be in (1, 64]" },
        { "Topology.LongLinkDelaySeconds", "-1", "Topology.LongLinkDelaySeconds: must be in [0, 86400]" },
        { "Topology.RedrawHoldoffSeconds", "1e9", "Topology.RedrawHoldoffSeconds: must be in [0, 86400]" },
        { "Topology.IncomingMax", "0", "Topology.IncomingMax: must be in 1..4096" },
        { "Topology.OnDemandThresholdBytes", "0", "Topology.OnDemandThresholdBytes: must be in 1.." },
        { "Topology.OnDemandWindowSeconds", "0", "Topology.OnDemandWindowSeconds: must be in (0, 86400]" },
        { "Topology.OnDemandIdleTimeoutSeconds", "0", "Topology.OnDemandIdleTimeoutSeconds: must be in (0, 86400]" },
        { "Topology.OnDemandLinksMax", "257", "Topology.OnDemandLinksMax: must be in 0..256" },
        { "Topology.TrafficPeersMax", "0", "Topology.TrafficPeersMax: must be in 1..4096" },
        { "Topology.TickIntervalSeconds", "0", "Topology.TickIntervalSeconds: must be in (0, 3600]" },
        { "Links.SetupTimeoutSeconds", "0", "Links.SetupTimeoutSeconds: must be in (0, 3600]" },
        { "Links.KeepAliveIntervalSeconds", "\"15\"", "Links.KeepAliveIntervalSeconds: must be a number in (0, 3600]" },
        { "Links.DeadLinkTimeoutSeconds", "10", "Links.DeadLinkTimeoutSeconds: must exceed KeepAliveIntervalSeconds" },
        { "Links.ProtectionWindowSeconds", "-1", "Links.ProtectionWindowSeconds: must be in [0, 86400]" },
        { "Links.BackoffBaseSeconds", "0", "Links.BackoffBaseSeconds: must be in (0, 3600]" },
        { "Links.BackoffMaxSeconds", "1", "Links.BackoffMaxSeconds: must not be below BackoffBaseSeconds" },
        { "Links.BackoffJitter", "1", "Links.BackoffJitter: must be in [0, 0.99]" },
        { "Links.LinksMax", "0", "Links.LinksMax: must be in 1..4096" },
        { "Flows.UnknownUnicast", "\"Drop\"", "Flows.UnknownUnicast: must be one of \"drop\", \"flood\"" },
        { "Flows.FlowIdleTimeoutSeconds", "0", "Flows.FlowIdleTimeoutSeconds: must be in (0, 86400]" },
        { "Flows.MacAgeMaxSeconds", "0", "Flows.MacAgeMaxSeconds: must be in (0, 86400]" },
        { "Flows.FlowsMax", "0", "Flows.FlowsMax: must be in 1..1048576" },
        { "Flows.MacsMax", "0", "Flows.MacsMax: must be in 1..1048576" },
        { "Membership.SuccessorListLength", "0", "Membership.SuccessorListLength: must be in 1.." },
        { "Membership.LookupTimeoutSeconds", "0", "Membership.LookupTimeoutSeconds: must be in (0, 3600]" },
        { "Membership.StabilizeIntervalMinSeconds", "0", "Membership.StabilizeIntervalMinSeconds: must be in (0, 3600]" },
        { "Membership.StabilizeIntervalMaxSeconds", "0.5", "Membership.StabilizeIntervalMaxSeconds: must not be below StabilizeIntervalMin" },
        { "Membership.PredecessorTimeoutSeconds", "20", "Membership.PredecessorTimeoutSeconds: must exceed StabilizeIntervalMax" },
        { "Control.Socket", "\"relative.sock\"", "Control.Socket: must be an absolute path" },
        { "Control.Socket", "\"/" + new string('s', 107) + "\"", "Control.Socket: must be at most 107 characters" },
        { "Trace.Path", "\"\"", "Trace.Path: must not be empty" },
        { "Trace.BytesMax", "1", "Trace.BytesMax: must be in 65536.." },
        { "Log.Level", "\"verbose\"", "Log.Level: must be one of \"debug\", \"info\", \"warning\", \"error\"" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_is_refused_with_its_field_path_and_the_problem(string path, string json, string expected)
    {
        var r = ParseWith(path, JsonNode.Parse(json));
        Assert.False(r.Ok);
        Assert.Contains(r.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    /// <summary>Minimal with more sections (JSON members, without the braces around them).</summary>
    private static string MinimalWith(string members) => Minimal.TrimEnd()[..^1] + ", " + members + " }";

    // A rule between two fields, broken by a written value against the other field's default.
    public static TheoryData<string, string> RulesBrokenAgainstADefault() => new()
    {
        { "\"Links\": { \"BackoffBaseSeconds\": 600 }", "Links.BackoffBaseSeconds: must not exceed BackoffMaxSeconds (300, the default), got 600; raise BackoffMaxSeconds too" },
        { "\"Links\": { \"BackoffMaxSeconds\": 1 }", "Links.BackoffMaxSeconds: must not be below BackoffBaseSeconds (5, the default), got 1" },
        { "\"Links\": { \"KeepAliveIntervalSeconds\": 60 }", "Links.KeepAliveIntervalSeconds: must be below DeadLinkTimeoutSeconds (45, the default), got 60; raise DeadLinkTimeoutSeconds too" },
        { "\"Links\": { \"DeadLinkTimeoutSeconds\": 10 }", "Links.DeadLinkTimeoutSeconds: must exceed KeepAliveIntervalSeconds (15, the default), got 10" },
        { "\"Membership\": { \"StabilizeIntervalMinSeconds\": 60 }", "Membership.StabilizeIntervalMinSeconds: must not exceed StabilizeIntervalMaxSeconds (30, the default), got 60; raise StabilizeIntervalMaxSeconds too" },
        { "\"Membership\": { \"StabilizeIntervalMaxSeconds\": 200 }", "Membership.StabilizeIntervalMaxSeconds: must be below PredecessorTimeoutSeconds (100, the default), got 200; raise PredecessorTimeoutSeconds too" },
        { "\"Membership\": { \"PredecessorTimeoutSeconds\": 20 }", "Membership.PredecessorTimeoutSeconds: must exceed StabilizeIntervalMaxSeconds (30, the default), got 20" },
        { "\"Tap\": { \"Name\": \"ev0\", \"Address\": \"10.0.0.1/24\" }, \"Ice\": { \"DatagramBytesMax\": 1448 }", "Ice.DatagramBytesMax: 1448 does not fit the tap's frames: Tap.Mtu 1410 (the default) + 14 (Ethernet header) + 25 (frame record) = 1449; use at least 1449 (or set a smaller Tap.Mtu)" },
    };

    [Theory]
    [MemberData(nameof(RulesBrokenAgainstADefault))]
    public void A_written_value_that_breaks_a_rule_against_a_default_is_refused_by_its_own_name(string members, string expected) =>
        Assert.Equal(expected, Assert.Single(Parse(MinimalWith(members)).Errors));

    [Fact]
    public void Any_link_and_membership_timing_the_parser_accepts_builds_a_node_without_throwing() =>
        PropertyRunner.Check(PropertyRunner.Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            double[] values = [0.5, 1, 5, 15, 30, 45, 60, 100, 300, 600, 3600];
            JsonObject Some(params string[] keys)
            {
                var section = new JsonObject();
                foreach (var key in keys)
                    if (rng.NextInt(2) == 0) section[key] = values[rng.NextInt(values.Length)];
                return section;
            }
            var o = JsonNode.Parse(Minimal)!.AsObject();
            o["Links"] = Some("SetupTimeoutSeconds", "KeepAliveIntervalSeconds", "DeadLinkTimeoutSeconds", "BackoffBaseSeconds", "BackoffMaxSeconds");
            o["Membership"] = Some("LookupTimeoutSeconds", "StabilizeIntervalMinSeconds", "StabilizeIntervalMaxSeconds", "PredecessorTimeoutSeconds");
            o["Topology"] = new JsonObject { ["Membership"] = "lookup" };
            var r = Parse(o.ToJsonString());
            if (r.Ok) _ = new Protocol.Node.EdgeNode(Protocol.Ring.NodeId.Zero, r.Config!.Protocol, new DeterministicRandom(seed), "fingerprint");
            return true;
        }, 300);

    [Fact]
    public void Every_field_of_the_full_config_refuses_a_value_of_the_wrong_type_by_its_path()
    {
        var full = Full();
        int checkedFields = 0;
        foreach (var (section, fields) in full.Select(p => (p.Key, p.Value!.AsObject())))
            foreach (var field in fields.Select(f => f.Key).ToList())
            {
                var r = ParseWith($"{section}.{field}", new JsonObject { ["x"] = 1 });
                Assert.False(r.Ok, $"{section}.{field} accepted an object");
                Assert.Contains(r.Errors, e => e.StartsWith($"{section}.{field}: must be", StringComparison.Ordinal));
                checkedFields++;
            }
        Assert.True(checkedFields >= 50, $"only {checkedFields} fields");
    }

    [Theory]
    [InlineData("Overlay")]
    [InlineData("Signaling")]
    public void A_missing_required_section_is_named(string section)
    {
        var o = Full();
        o.Remove(section);
        Assert.Contains($"{section}: required section is missing", Parse(o.ToJsonString()).Errors);
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("Account")]
    [InlineData("Password")]
    public void A_missing_required_signaling_field_is_named(string field)
    {
        var o = Full();
        o["Signaling"]!.AsObject().Remove(field);
        Assert.Contains($"Signaling.{field}: required field is missing", Parse(o.ToJsonString()).Errors);
    }

    [Fact]
    public void Unknown_fields_are_refused_at_every_level()
    {
        var o = Full();
        o["Colour"] = "blue";
        o["Signaling"]!["Pasword"] = "typo";
        var errors = Parse(o.ToJsonString()).Errors;
        Assert.Contains("Colour: unknown field", errors);
        Assert.Contains("Signaling.Pasword: unknown field", errors);
    }

    [Fact]
    public void Field_names_are_case_sensitive_and_duplicates_are_refused()
    {
        Assert.Contains("overlay: unknown field", Parse(Minimal.Replace("\"Overlay\"", "\"overlay\"", StringComparison.Ordinal)).Errors);
        var dup = Minimal.Replace("\"Port\"", "x", StringComparison.Ordinal).Replace("\"Host\": \"127.0.0.1\"", "\"Host\": \"127.0.0.1\", \"Port\": 1, \"Port\": 2", StringComparison.Ordinal);
        Assert.Contains("Signaling.Port: duplicate field", Parse(dup).Errors);
    }

    [Fact]
    public void The_largest_MTU_that_fits_the_link_datagram_is_accepted()
    {
        var o = Full();
        o["Tap"]!["Mtu"] = 1421;
        Assert.True(Parse(o.ToJsonString()).Ok);
        o["Ice"]!["DatagramBytesMax"] = 9039;
        o["Tap"]!["Mtu"] = 9000;
        Assert.True(Parse(o.ToJsonString()).Ok);
    }

    [Fact]
    public void All_problems_are_reported_in_one_pass()
    {
        var o = Full();
        o["Signaling"]!["Port"] = 0;
        o["Tap"]!["Mtu"] = 1;
        o["Links"]!["LinksMax"] = 0;
        Assert.Equal(3, Parse(o.ToJsonString()).Errors.Count);
    }

    [Theory]
    [InlineData("", "(file): not valid JSON")]
    [InlineData("[1,2]", "(root): must be a JSON object")]
    [InlineData("{} {}", "(file): not valid JSON")]
    [InlineData("{\"Overlay\": ", "(file): not valid JSON")]
    public void Text_that_is_not_one_JSON_object_is_one_clean_error(string text, string expected)
    {
        var r = Parse(text);
        Assert.False(r.Ok);
        Assert.StartsWith(expected, r.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_JSON_syntax_error_names_its_line_and_column_counted_from_1()
    {
        string text = ConfigExample.Text.Replace("\"Port\": 5222,", "\"Port\": 5222", StringComparison.Ordinal);
        var lines = text.Split('\n');
        int portLine = Array.FindIndex(lines, l => l.Contains("\"Port\": 5222", StringComparison.Ordinal));
        string next = lines[portLine + 1];   // the error is at the next field's opening quote
        Assert.Equal(
            $"(file): not valid JSON at line {portLine + 2}, column {next.IndexOf('"') + 1} (1-based, in bytes): '\"' is invalid after a value. Expected either ',', '}}', or ']'.",
            Assert.Single(Parse(text).Errors));
    }

    [Fact]
    public void A_file_that_starts_with_a_UTF8_byte_order_mark_parses()
    {
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(ConfigExample.Text)];
        var r = NodeConfigParser.Parse(withBom, NoEnv);
        Assert.True(r.Ok, string.Join("\n", r.Errors));
    }

    [Fact]
    public void Nesting_deeper_than_the_bound_is_refused()
    {
        string deep = "{\"Overlay\":" + new string('[', 40) + new string(']', 40) + "}";
        Assert.StartsWith("(file): not valid JSON", Parse(deep).Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var r = NodeConfigParser.ParseFile("/nonexistent/edgevpn.json", NoEnv);
        Assert.Equal("(file): /nonexistent/edgevpn.json does not exist", Assert.Single(r.Errors));
    }

    [Fact]
    public void A_directory_given_as_the_config_is_named_as_a_directory()
    {
        string dir = Directory.CreateTempSubdirectory("edgevpn-config-").FullName;
        try { Assert.Equal($"(file): {dir} is a directory, not a config file", Assert.Single(NodeConfigParser.ParseFile(dir, NoEnv).Errors)); }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void Printing_a_config_never_shows_a_password()
    {
        var c = Parse(ConfigExample.Text).Config!;
        string printed = c.ToString() + c.Signaling + string.Join(",", c.Ice.Turn) + c.Signaling.ToXmppConfig(Protocol.Ring.NodeId.Zero, "o", 1);
        Assert.DoesNotContain("change-me", printed);
        Assert.Contains(Secret.Hidden, printed);
    }

    [Fact]
    public void Errors_never_quote_a_password()
    {
        var o = Full();
        o["Signaling"]!["Password"] = 987654321;
        o["Ice"]!["Turn"]![0]!["Password"] = new JsonArray(JsonValue.Create("hunter2-secret"));
        var errors = string.Join("\n", Parse(o.ToJsonString()).Errors);
        Assert.Contains("Signaling.Password: must be a string", errors);
        Assert.Contains("Ice.Turn[0].Password: must be a string", errors);
        Assert.DoesNotContain("987654321", errors);
        Assert.DoesNotContain("hunter2", errors);
    }

    [Fact]
    public void Random_bytes_never_throw_and_always_give_a_result_or_errors() =>
        PropertyRunner.Check(PropertyRunner.Bytes(300), bytes =>
        {
            var r = NodeConfigParser.Parse(bytes, NoEnv);
            return r.Ok != (r.Errors.Count > 0) && r.Errors.All(e => e.Contains(": ", StringComparison.Ordinal) && !e.Contains('\n'));
        }, 500);

    [Fact]
    public void Random_values_in_the_full_config_never_throw_and_name_a_field_when_refused() =>
        PropertyRunner.Check(PropertyRunner.Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var o = Full();
            var sections = o.Select(p => p.Key).ToList();
            for (int k = 0; k < 1 + rng.NextInt(3); k++)
            {
                string section = sections[rng.NextInt(sections.Count)];
                var fields = o[section]!.AsObject();
                var names = fields.Select(f => f.Key).ToList();
                string name = rng.NextInt(5) == 0 ? "Extra" + rng.NextInt(3) : names[rng.NextInt(names.Count)];
                fields[name] = RandomJson(rng, 0);
            }
            var r = Parse(o.ToJsonString());
            return r.Ok != (r.Errors.Count > 0)
                && r.Errors.All(e => sections.Any(s => e.StartsWith(s + ".", StringComparison.Ordinal)) && !e.Contains('\n'));
        }, 400);

    [Fact]
    public void Random_text_mutations_of_the_example_never_throw() =>
        PropertyRunner.Check(PropertyRunner.Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var b = new StringBuilder(ConfigExample.Text);
            for (int k = 0; k < 1 + rng.NextInt(4); k++)
            {
                int at = rng.NextInt(b.Length);
                if (rng.NextInt(2) == 0) b.Remove(at, Math.Min(1 + rng.NextInt(8), b.Length - at));
                else b.Insert(at, "{}[],:\"0-.e\\/*\n x"[rng.NextInt(17)]);
            }
            var r = Parse(b.ToString());
            return r.Ok != (r.Errors.Count > 0) && r.Errors.All(e => e.Contains(": ", StringComparison.Ordinal));
        }, 400);

    private static JsonNode? RandomJson(DeterministicRandom rng, int depth) => rng.NextInt(depth > 2 ? 6 : 8) switch
    {
        0 => null,
        1 => JsonValue.Create(rng.NextInt(2) == 0),
        2 => JsonValue.Create((long)rng.NextUInt64() >> rng.NextInt(64)),
        3 => JsonValue.Create((rng.NextDouble() - 0.5) * Math.Pow(10, rng.NextInt(12))),
        4 => JsonValue.Create(new string((char)('a' + rng.NextInt(26)), rng.NextInt(80))),
        5 => JsonValue.Create("\u0001\"x:/" + rng.NextInt(100)),
        6 => new JsonArray(Enumerable.Range(0, rng.NextInt(3)).Select(_ => RandomJson(rng, depth + 1)).ToArray()),
        _ => new JsonObject(Enumerable.Range(0, rng.NextInt(3)).Select(i => KeyValuePair.Create("k" + i, RandomJson(rng, depth + 1)))),
    };
}
