// `edgevpn status` against a live control socket: the table shows each link's state, path, RTT
// and byte counts; --json gives the same status as JSON; neither shows a credential.
using System.Security.Cryptography;
using System.Text.Json;
using EdgeVpn.RealNode.Cli;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Tests.Host;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class StatusCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    private static async Task<T> WithServer<T>(Func<string, T> body)
    {
        string path = Path.Combine(Path.GetTempPath(), "edgevpn-cli-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)) + ".sock");
        var server = ControlServer.Start(path, _ => Task.FromResult(ControlSocketTests.Sample));
        try { return body(path); }
        finally { await server.DisposeAsync(); }
    }

    [Fact]
    public async Task The_table_shows_state_path_rtt_and_bytes_of_each_link()
    {
        var (exit, stdout, _) = await WithServer(p => Run("status", "--socket", p));
        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("node 10000000000000000000000000000001  overlay ov  account alice@xmpp.test", lines[0], StringComparison.Ordinal);
        int header = Array.FindIndex(lines, l => l.StartsWith("PEER", StringComparison.Ordinal));
        Assert.Equal(["PEER", "LINK", "KIND", "STATE", "ROLE", "PATH", "RTT", "ms", "IN", "bytes", "OUT", "bytes", "AGE", "s"], lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["20000000", "40ab62d28e6374a7", "successor", "connected", "initiator", "relay", "23.4", "1000", "2000", "12"], lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("last link failure: 20000000: TransportFailed", stdout);
    }

    [Fact]
    public async Task Json_output_is_the_status_itself()
    {
        var (exit, stdout, _) = await WithServer(p => Run("status", "--socket", p, "--json"));
        Assert.Equal(0, exit);
        var back = JsonSerializer.Deserialize<NodeStatus>(stdout, ControlProtocol.Json)!;
        Assert.Equal(ControlSocketTests.Sample.Links, back.Links);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("relay", doc.RootElement.GetProperty("links")[0].GetProperty("path").GetString());
        Assert.Equal(23.4, doc.RootElement.GetProperty("links")[0].GetProperty("rttMs").GetDouble());
    }

    [Fact]
    public void A_link_without_rtt_shows_a_dash_and_no_links_says_so()
    {
        var s = ControlSocketTests.Sample with { Links = [ControlSocketTests.Sample.Links[0] with { Path = "unknown", RttMs = null }] };
        Assert.Contains("unknown  -", StatusView.Table(s));
        Assert.Contains("no links", StatusView.Table(s with { Links = [] }));
    }
}
