// Parses and validates a node's JSON configuration (comments and trailing commas allowed, so the
// commented example from `edgevpn config init` parses as written). Contract:
//   - Parse never throws on any input (bytes, text, JSON of any shape): the result is a NodeConfig
//     or the list of every problem found, each "Section.Field: problem", in file order;
//   - unknown and duplicate fields are errors (a typo must not silently fall back to a default);
//   - the file is at most FileBytesMax and nests at most DepthMax;
//   - no error quotes a credential;
//   - a rule between two fields ("DeadLinkTimeout must exceed KeepAliveInterval") holds on the values
//     the node runs with, written or default, and its error names a field that was written.
// The protocol sections map one to one onto the Protocol's TopologyConfig, LinkConfig, FlowConfig
// and MembershipConfig; their own Validate() runs last.
using System.Net;
using System.Text;
using System.Text.Json;
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Config;

public sealed record ConfigResult(NodeConfig? Config, IReadOnlyList<string> Errors)
{
    public bool Ok => Config is not null;
}

public static class NodeConfigParser
{
    public const int FileBytesMax = 1 << 20;
    public const int DepthMax = 16;
    public const int ServersMax = 16;
    /// <summary>What a link adds to a tap frame's MTU-sized payload: Ethernet header (14) and frame record (25: type, sequence, GCM tag).</summary>
    public const int LinkFrameOverheadBytes = 14 + 25;
    /// <summary>1500-byte underlay MTU minus IPv4 (20), UDP (8) and TURN ChannelData (4) headers, minus 8 to spare.</summary>
    public const int DatagramBytesMaxDefault = 1460;
    private const double DaySeconds = 86_400;
    /// <summary>The control socket's bound (ControlServer.PathBytesMax: sun_path less its NUL).</summary>
    public const int SocketPathBytesMax = Host.ControlServer.PathBytesMax;

    /// <summary>Parses a file; a missing or unreadable file is one error naming it.</summary>
    public static ConfigResult ParseFile(string path, Func<string, string?>? environment = null)
    {
        try
        {
            if (Directory.Exists(path)) return Fail($"(file): {path} is a directory, not a config file");
            var info = new FileInfo(path);
            if (!info.Exists) return Fail($"(file): {path} does not exist");
            if (info.Length > FileBytesMax) return Fail($"(file): {path} is larger than {FileBytesMax} bytes");
            return Parse(File.ReadAllBytes(path), environment);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Fail($"(file): cannot read {path}: {e.Message}");
        }
    }

    public static ConfigResult Parse(string text, Func<string, string?>? environment = null) =>
        Parse(Encoding.UTF8.GetBytes(text), environment);

    public static ConfigResult Parse(ReadOnlySpan<byte> utf8, Func<string, string?>? environment = null)
    {
        if (utf8.Length > FileBytesMax) return Fail($"(file): larger than {FileBytesMax} bytes");
        // Many editors start a UTF-8 file with a byte order mark; Utf8JsonReader, unlike JsonDocument.Parse, does not skip it.
        if (utf8.StartsWith(Utf8Bom)) utf8 = utf8[Utf8Bom.Length..];
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
                MaxDepth = DepthMax,
            });
            doc = JsonDocument.ParseValue(ref reader);
            reader.Read();   // content after the value throws (comments are skipped)
        }
        catch (JsonException e)
        {
            // The message ends in "LineNumber: N | BytePositionInLine: M" (0-based): said here 1-based, as editors count.
            string where = e.LineNumber is { } line ? $" at line {line + 1}, column {e.BytePositionInLine + 1} (1-based, in bytes)" : "";
            string reason = FirstLine(e.Message);
            int position = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return Fail($"(file): not valid JSON{where}: {(position < 0 ? reason : reason[..position])}");
        }
        catch (ArgumentException e)   // invalid UTF-8 surfaces as ArgumentException in some paths
        {
            return Fail($"(file): not valid JSON: {FirstLine(e.Message)}");
        }
        using (doc)
        {
            var errors = new List<string>();
            var config = Read(JsonSection.Root(doc.RootElement, errors), errors, environment ?? Environment.GetEnvironmentVariable);
            return errors.Count == 0 ? new ConfigResult(config, errors) : new ConfigResult(null, errors);
        }
    }

    private static ConfigResult Fail(string error) => new(null, [error]);

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>A System.Text.Json message's first line, up to 200 characters (its own text, with the position, runs past the 64 a value from the file gets).</summary>
    private static string FirstLine(string s) { int i = s.IndexOf('\n'); return JsonSection.Printable(i < 0 ? s : s[..i], 200); }

    private static NodeConfig? Read(JsonSection root, List<string> errors, Func<string, string?> environment)
    {
        var overlay = root.Section("Overlay", required: true);
        string? overlayId = overlay.String("Id", required: true, 64, CheckOverlayId);
        overlay.Finish();

        var node = root.Section("Node");
        NodeId? nodeId = null;
        if (node.String("Id", required: false, NodeId.HexDigits + 8) is { } idText)
        {
            var parsed = NodeId.Parse(idText);
            if (parsed.Ok) nodeId = parsed.Value; else node.Error("Id", parsed.Error!);
        }
        ulong? seed = node.OptionalUInt64("Seed");
        node.Finish();

        var signaling = ReadSignaling(root.Section("Signaling", required: true), overlayId);
        var iceSection = root.Section("Ice");
        var ice = ReadIce(iceSection);
        var tapSection = root.OptionalSection("Tap");
        var tap = tapSection is null ? null : ReadTap(tapSection);
        // Named by the field the user wrote: a DatagramBytesMax too small for the default MTU is the datagram's fault.
        if (tap is not null && tap.Mtu + LinkFrameOverheadBytes > ice.DatagramBytesMax && iceSection.Has("DatagramBytesMax") && !tapSection!.Has("Mtu"))
            errors.Add($"Ice.DatagramBytesMax: {ice.DatagramBytesMax} does not fit the tap's frames: Tap.Mtu {tap.Mtu} (the default) + 14 (Ethernet header) + 25 (frame record) = {tap.Mtu + LinkFrameOverheadBytes}; use at least {tap.Mtu + LinkFrameOverheadBytes} (or set a smaller Tap.Mtu)");
        else if (tap is not null && tap.Mtu + LinkFrameOverheadBytes > ice.DatagramBytesMax)
            errors.Add($"Tap.Mtu: {tap.Mtu} does not fit a link datagram: MTU + 14 (Ethernet header) + 25 (frame record) = {tap.Mtu + LinkFrameOverheadBytes} exceeds Ice.DatagramBytesMax {ice.DatagramBytesMax}; use an MTU of at most {ice.DatagramBytesMax - LinkFrameOverheadBytes} (or raise Ice.DatagramBytesMax and accept IP fragmentation)");
        var protocol = ReadProtocol(root);

        var control = root.Section("Control");
        string? socket = control.String("Socket", required: false, SocketPathBytesMax, CheckSocketPath);
        string? defaultSocket = socket is null && overlayId is not null ? DefaultControlSocket(overlayId, environment) : null;
        // The default grows with $XDG_RUNTIME_DIR and Overlay.Id: checked here, or the node fails at start.
        if (defaultSocket is not null && Encoding.UTF8.GetByteCount(defaultSocket) > SocketPathBytesMax)
            control.Error("Socket", $"not set, and the default path {JsonSection.Printable(defaultSocket, 300)} (from $XDG_RUNTIME_DIR and Overlay.Id) is {Encoding.UTF8.GetByteCount(defaultSocket)} bytes, more than a Unix socket path's {SocketPathBytesMax}; set Control.Socket to a shorter path");
        control.Finish();

        var trace = root.Section("Trace");
        string? tracePath = trace.String("Path", required: false, 4096);
        long traceBytesMax = trace.Long("BytesMax", 256L << 20, 1 << 16, 1L << 40);
        trace.Finish();

        var log = root.Section("Log");
        var level = log.Choice("Level", XmppLogLevel.Info, ("debug", XmppLogLevel.Debug), ("info", XmppLogLevel.Info), ("warning", XmppLogLevel.Warning), ("error", XmppLogLevel.Error));
        log.Finish();
        root.Finish();

        if (errors.Count > 0 || overlayId is null || signaling is null) return null;
        return new NodeConfig
        {
            OverlayId = overlayId,
            NodeId = nodeId,
            Seed = seed,
            Signaling = signaling,
            Ice = ice,
            Tap = tap,
            Protocol = protocol,
            ControlSocket = socket ?? defaultSocket!,
            TracePath = tracePath,
            TraceBytesMax = traceBytesMax,
            LogLevel = level,
        };
    }

    /// <summary>$XDG_RUNTIME_DIR/edgevpn/OVERLAY.sock when that is set (a user session), else /run/edgevpn/OVERLAY.sock.</summary>
    public static string DefaultControlSocket(string overlayId, Func<string, string?> environment)
    {
        string? xdg = environment("XDG_RUNTIME_DIR");
        string dir = !string.IsNullOrEmpty(xdg) && System.IO.Path.IsPathRooted(xdg) ? System.IO.Path.Combine(xdg, "edgevpn") : "/run/edgevpn";
        return System.IO.Path.Combine(dir, overlayId + ".sock");
    }

    private static SignalingSettings? ReadSignaling(JsonSection s, string? overlayId)
    {
        string? host = s.String("Host", required: true, 253, CheckHost);
        int port = s.Int("Port", 5222, 1, 65535);
        Jid? account = null;
        if (s.String("Account", required: true, 3071) is { } accountText)
        {
            var jid = Jid.Parse(accountText);
            if (!jid.Ok) s.Error("Account", jid.Error!);
            else if (jid.Value.Local is null || !jid.Value.IsBare) s.Error("Account", "must be a bare user@domain address");
            else account = jid.Value;
        }
        var password = s.Secret("Password", required: true, 1023);
        string resource = s.String("Resource", required: false, 1023, r => Jid.Parse($"a@b/{r}").Ok ? null : "not a valid XMPP resource") ?? "edgevpn";
        string? group = s.String("Group", required: false, 1023, g => XmlElement.IsValidXmlText(g) ? null : "not valid XML text");
        string? caFile = s.String("CaFile", required: false, 4096);
        TlsTrust trust = new TlsTrust.SystemStore();
        if (s.String("CertificateSha256", required: false, 200) is { } pin)
        {
            var parsed = TlsTrust.ParseFingerprint(pin);
            if (!parsed.Ok) s.Error("CertificateSha256", parsed.Error!);
            else trust = parsed.Value;
            if (caFile is not null) s.Error("CaFile", "give either CaFile or CertificateSha256, not both");
        }
        else if (caFile is not null)
        {
            // A CA file that cannot serve is a permanent local error: refused here, not retried for ever by the client.
            if (TlsTrust.CheckCaFile(caFile) is { } problem) s.Error("CaFile", $"{JsonSection.Printable(caFile, 300)} {problem}");
            else trust = new TlsTrust.CaFile(caFile);
        }
        bool allowPlain = s.Bool("AllowPlain", true);
        var reconnectMax = s.Seconds("ReconnectDelayMaxSeconds", TimeSpan.FromSeconds(60), 1, DaySeconds);
        s.Finish();
        if (host is null || account is null || password is null) return null;
        return new SignalingSettings
        {
            Host = host,
            Port = port,
            Account = account,
            Password = password,
            Resource = resource,
            Group = group ?? overlayId ?? "",
            Trust = trust,
            AllowPlain = allowPlain,
            ReconnectDelayMax = reconnectMax,
        };
    }

    private static IceSettings ReadIce(JsonSection s)
    {
        var stun = new List<ServerAddress>();
        foreach (var (path, e) in s.Array("Stun", ServersMax))
        {
            if (e.ValueKind != JsonValueKind.String) { s.ErrorAt(path, $"must be a \"host:port\" string, got {JsonSection.Describe(e)}"); continue; }
            var parsed = ParseServer(e.GetString()!, 3478);
            if (parsed.Address is null) s.ErrorAt(path, parsed.Problem!);
            else stun.Add(parsed.Address);
        }
        var turn = new List<TurnServer>();
        foreach (var (path, e) in s.Array("Turn", ServersMax))
        {
            var t = s.Element(path, e);
            if (t is null) continue;
            ServerAddress? address = null;
            if (t.String("Address", required: true, 300) is { } text)
            {
                var parsed = ParseServer(text, 3478);
                if (parsed.Address is null) t.Error("Address", parsed.Problem!);
                address = parsed.Address;
            }
            string? user = t.String("User", required: true, 513);
            var password = t.Secret("Password", required: true, 513);
            t.Finish();
            if (address is not null && user is not null && password is not null) turn.Add(new TurnServer(address, user, password));
        }
        int datagramBytesMax = s.Int("DatagramBytesMax", DatagramBytesMaxDefault, 615, 65_000);
        s.Finish();
        return new IceSettings { Stun = stun, Turn = turn, DatagramBytesMax = datagramBytesMax };
    }

    private static TapSettings? ReadTap(JsonSection s)
    {
        string? name = s.String("Name", required: true, 15, CheckInterfaceName);
        IPAddress? address = null;
        int prefix = 0;
        if (s.String("Address", required: true, 64) is { } text)
        {
            int slash = text.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix))
                s.Error("Address", "must be an address with a prefix length, like \"10.10.0.1/24\"");
            // What TapDevice.SetIPv4 accepts, so that a tap address fails here, named, and not at start.
            else if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                s.Error("Address", "must be an IPv4 address (the tap takes no IPv6 address)");
            else if (prefix is < 1 or > 32)
                s.Error("Address", $"prefix length must be in 1..32, got {prefix}");
            else address = ip;
        }
        int mtu = s.Int("Mtu", 1410, 576, 9000);
        s.Finish();
        return name is null || address is null ? null : new TapSettings(name, address, prefix, mtu);
    }

    private static EdgeNodeConfig ReadProtocol(JsonSection root)
    {
        var t = root.Section("Topology");
        var d = new TopologyConfig();
        var topology = new TopologyConfig
        {
            SuccessorsMin = t.Int("SuccessorsMin", d.SuccessorsMin, 1, 16),
            LongLinksMax = t.OptionalInt("LongLinksMax", 0, 64),
            Sampler = t.Choice("Sampler", d.Sampler, ("harmonic", LongLinkSampler.Harmonic), ("edgevpn-log10", LongLinkSampler.EdgeVpnLog10)),
            Membership = t.Choice("Membership", d.Membership, ("presence", MembershipMode.Presence), ("lookup", MembershipMode.Lookup)),
            LongLinkDrawTriesMax = t.Int("LongLinkDrawTriesMax", d.LongLinkDrawTriesMax, 1, 64),
            RedrawRatio = t.Double("RedrawRatio", d.RedrawRatio, 1, 64, minExclusive: true),
            LongLinkDelay = t.Seconds("LongLinkDelaySeconds", d.LongLinkDelay, 0, DaySeconds),
            RedrawHoldoff = t.Seconds("RedrawHoldoffSeconds", d.RedrawHoldoff, 0, DaySeconds),
            IncomingMax = t.Int("IncomingMax", d.IncomingMax, 1, 4096),
            OnDemandThresholdBytes = t.Long("OnDemandThresholdBytes", d.OnDemandThresholdBytes, 1, 1L << 50),
            OnDemandWindow = t.Seconds("OnDemandWindowSeconds", d.OnDemandWindow, 0, DaySeconds, minExclusive: true),
            OnDemandIdleTimeout = t.Seconds("OnDemandIdleTimeoutSeconds", d.OnDemandIdleTimeout, 0, DaySeconds, minExclusive: true),
            OnDemandLinksMax = t.Int("OnDemandLinksMax", d.OnDemandLinksMax, 0, 256),
            TrafficPeersMax = t.Int("TrafficPeersMax", d.TrafficPeersMax, 1, 4096),
            TickInterval = t.Seconds("TickIntervalSeconds", d.TickInterval, 0, 3600, minExclusive: true),
        };
        if (topology.Validate() is { } tp) ReportValidation(t, tp, typeof(TopologyConfig));
        t.Finish();

        var l = root.Section("Links");
        var ld = new LinkConfig();
        var links = new LinkConfig
        {
            SetupTimeout = l.Seconds("SetupTimeoutSeconds", ld.SetupTimeout, 0, 3600, minExclusive: true),
            KeepAliveInterval = l.Seconds("KeepAliveIntervalSeconds", ld.KeepAliveInterval, 0, 3600, minExclusive: true),
            DeadLinkTimeout = l.Seconds("DeadLinkTimeoutSeconds", ld.DeadLinkTimeout, 0, DaySeconds, minExclusive: true),
            ProtectionWindow = l.Seconds("ProtectionWindowSeconds", ld.ProtectionWindow, 0, DaySeconds),
            BackoffBase = l.Seconds("BackoffBaseSeconds", ld.BackoffBase, 0, 3600, minExclusive: true),
            BackoffMax = l.Seconds("BackoffMaxSeconds", ld.BackoffMax, 0, DaySeconds, minExclusive: true),
            BackoffJitter = l.Double("BackoffJitter", ld.BackoffJitter, 0, 0.99),
            LinksMax = l.Int("LinksMax", ld.LinksMax, 1, 4096),
        };
        CheckOrder(l, "KeepAliveIntervalSeconds", links.KeepAliveInterval, "DeadLinkTimeoutSeconds", links.DeadLinkTimeout, equalAllowed: false);
        CheckOrder(l, "BackoffBaseSeconds", links.BackoffBase, "BackoffMaxSeconds", links.BackoffMax, equalAllowed: true);
        l.Finish();

        var f = root.Section("Flows");
        var fd = new FlowConfig();
        var flows = new FlowConfig
        {
            UnknownUnicast = f.Choice("UnknownUnicast", fd.UnknownUnicast, ("drop", UnknownUnicastPolicy.Drop), ("flood", UnknownUnicastPolicy.Flood)),
            FlowIdleTimeout = f.Seconds("FlowIdleTimeoutSeconds", fd.FlowIdleTimeout, 0, DaySeconds, minExclusive: true),
            MacAgeMax = f.Seconds("MacAgeMaxSeconds", fd.MacAgeMax, 0, DaySeconds, minExclusive: true),
            FlowsMax = f.Int("FlowsMax", fd.FlowsMax, 1, 1 << 20),
            MacsMax = f.Int("MacsMax", fd.MacsMax, 1, 1 << 20),
        };
        f.Finish();

        var m = root.Section("Membership");
        var md = new MembershipConfig();
        var membership = new MembershipConfig
        {
            SuccessorListLength = m.Int("SuccessorListLength", md.SuccessorListLength, 1, MembershipMessage.SuccessorsOnWireMax),
            LookupTimeout = m.Seconds("LookupTimeoutSeconds", md.LookupTimeout, 0, 3600, minExclusive: true),
            StabilizeIntervalMin = m.Seconds("StabilizeIntervalMinSeconds", md.StabilizeIntervalMin, 0, 3600, minExclusive: true),
            StabilizeIntervalMax = m.Seconds("StabilizeIntervalMaxSeconds", md.StabilizeIntervalMax, 0, 3600, minExclusive: true),
            PredecessorTimeout = m.Seconds("PredecessorTimeoutSeconds", md.PredecessorTimeout, 0, DaySeconds, minExclusive: true),
        };
        // Validate has these two rules too, but names the upper field even when only the lower one was
        // written; it runs only when they hold, for the rules the parser does not check itself.
        bool ordered = CheckOrder(m, "StabilizeIntervalMinSeconds", membership.StabilizeIntervalMin, "StabilizeIntervalMaxSeconds", membership.StabilizeIntervalMax, equalAllowed: true)
            & CheckOrder(m, "StabilizeIntervalMaxSeconds", membership.StabilizeIntervalMax, "PredecessorTimeoutSeconds", membership.PredecessorTimeout, equalAllowed: false);
        if (ordered && membership.Validate() is { } mp) ReportValidation(m, mp, typeof(MembershipConfig));
        m.Finish();

        return new EdgeNodeConfig { Topology = topology, Links = links, Flows = flows, Membership = membership, FloodHopsMax = 64 };
    }

    /// <summary>Checks that the duration lowKey is below highKey (or equal, when equalAllowed) on the values
    /// the node runs with, written or default: a rule checked only when one side is written lets the
    /// other side's default break it (BackoffBase 600 against the default BackoffMax 300 reached
    /// LinkManager and threw). The error names a field the user wrote: the lower one when only it was
    /// written, else the upper one. False when the rule is broken.</summary>
    private static bool CheckOrder(JsonSection s, string lowKey, TimeSpan low, string highKey, TimeSpan high, bool equalAllowed)
    {
        if (equalAllowed ? low <= high : low < high) return true;
        static string Text(TimeSpan t) => t.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (s.Has(lowKey) && !s.Has(highKey))
            s.Error(lowKey, $"must {(equalAllowed ? "not exceed" : "be below")} {highKey} ({Text(high)}, the default), got {Text(low)}; raise {highKey} too");
        else
            s.Error(highKey, $"must {(equalAllowed ? "not be below" : "exceed")} {lowKey} ({Text(low)}{(s.Has(lowKey) ? "" : ", the default")}), got {Text(high)}");
        return false;
    }

    /// <summary>Reports a Protocol config's own "Field: problem" under the file's name of the field
    /// (a TimeSpan property is written in seconds, with "Seconds" appended).</summary>
    private static void ReportValidation(JsonSection section, string problem, Type configType)
    {
        int colon = problem.IndexOf(':');
        string field = colon < 0 ? "(section)" : problem[..colon];
        string text = colon < 0 ? problem : problem[(colon + 1)..].Trim();
        if (configType.GetProperty(field)?.PropertyType == typeof(TimeSpan)) field += "Seconds";
        section.Error(field, text);
    }

    private static string? CheckOverlayId(string id) =>
        id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? null : "may hold only letters, digits, '-', '_' and '.'";

    /// <summary>An IPv6 address, an IPv4 address or a DNS name (labels of 1..63 letters, digits and '-', not at
    /// either end; a trailing dot allowed). Letters, digits and ':' alone let "a:b:c" through, to fail DNS for ever.</summary>
    private static string? CheckHost(string host)
    {
        const string problem = "must be a host name or an IP address";
        if (host.Contains(':'))
            return IPAddress.TryParse(host, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !host.Contains('%') ? null : problem;
        var labels = (host.EndsWith('.') ? host[..^1] : host).Split('.');
        if (!labels.All(l => l.Length is >= 1 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))) return problem;
        // All digits is no name (RFC 1123 2.1): it must be a whole dotted-quad address.
        bool numeric = labels.All(l => l.All(char.IsAsciiDigit));
        return !numeric || (labels.Length == 4 && IPAddress.TryParse(host, out _)) ? null : problem;
    }

    private static string? CheckInterfaceName(string name) =>
        name is "." or ".." || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c) || c > '~')
            ? "not a valid Linux interface name (at most 15 printable ASCII characters, no '/', ':' or spaces)"
            : null;

    private static string? CheckSocketPath(string path) =>
        !System.IO.Path.IsPathRooted(path) ? "must be an absolute path"
        : Encoding.UTF8.GetByteCount(path) > SocketPathBytesMax ? $"must be at most {SocketPathBytesMax} bytes (a Unix socket path)"
        : null;

    /// <summary>"host:port", "[v6]:port" or a bare host (then the default port).</summary>
    internal static (ServerAddress? Address, string? Problem) ParseServer(string text, int defaultPort)
    {
        string host = text;
        int port = defaultPort;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0) return (null, "unclosed '[' in an IPv6 address");
            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryPort(rest[1..], out port))) return (null, "must be \"[address]:port\" with a port in 1..65535");
        }
        else if (text.Count(c => c == ':') == 1)
        {
            int colon = text.IndexOf(':');
            host = text[..colon];
            if (!TryPort(text[(colon + 1)..], out port)) return (null, "port must be in 1..65535");
        }
        if (host.Length == 0 || CheckHost(host) is not null) return (null, "must be \"host:port\" with a host name or an IP address");
        return (new ServerAddress(host, port), null);
    }

    private static bool TryPort(string s, out int port) =>
        int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}
