// The Ice section turned into link options: of the TURN servers the first that resolves is used
// (a second one listed for redundancy used to be ignored when the first did not resolve), a name
// that never resolves is skipped at the bound instead of holding the start, and cancelling (a
// signal during start) ends the wait at once. The resolver is a fake: no DNS is asked.
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Link;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

public class IceDtlsConfigTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Resolves names from a table; "unknown" names fail as DNS does; "hang" names never answer.</summary>
    private sealed class FakeDns(Dictionary<string, string> table)
    {
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IPAddress[]> Resolve(string host, CancellationToken ct)
        {
            Asked.TrySetResult();
            if (host.StartsWith("hang", StringComparison.Ordinal)) return new TaskCompletionSource<IPAddress[]>().Task;
            return table.TryGetValue(host, out var a) ? Task.FromResult(new[] { IPAddress.Parse(a) })
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }
    }

    private static TurnServer Turn(string host, int port, string user) => new(new ServerAddress(host, port), user, new Secret("pw-" + user));

    private static (List<string> Lines, EdgeVpn.RealNode.Host.HostLog Log) Recorder()
    {
        var lines = new List<string>();
        return (lines, (level, text) => { lock (lines) lines.Add($"{level} {text}"); });
    }

    [Fact]
    public async Task The_first_TURN_server_that_resolves_is_used_and_the_log_names_it()
    {
        var dns = new FakeDns(new() { ["turn2.test"] = "192.0.2.2", ["turn3.test"] = "192.0.2.3" });
        var ice = new IceSettings { Turn = [Turn("no-such-host.invalid", 3478, "one"), Turn("turn2.test", 3479, "two"), Turn("turn3.test", 3478, "three")] };
        var (lines, log) = Recorder();
        var options = await IceDtlsConfig.LinkOptionsAsync(ice, null, log, dns.Resolve, Bound, CancellationToken.None);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 3479), options.Ice.Turn!.Server);
        Assert.Equal(("two", "pw-two"), (options.Ice.Turn.Username, options.Ice.Turn.Password));
        Assert.Contains(lines, l => l.StartsWith("Warning Ice.Turn[0].Address: no-such-host.invalid cannot be resolved (HostNotFound)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Info TURN server: Ice.Turn[1] turn2.test:3479 (192.0.2.2:3479), the first that resolves; 1 more not used", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("pw-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_name_that_never_resolves_is_skipped_at_the_bound_and_the_rest_are_kept()
    {
        var dns = new FakeDns(new() { ["stun.test"] = "192.0.2.9" });
        var ice = new IceSettings { Stun = [new ServerAddress("hang.test", 3478), new ServerAddress("stun.test", 3478), new ServerAddress("192.0.2.1", 3478)] };
        var (lines, log) = Recorder();
        var options = await IceDtlsConfig.LinkOptionsAsync(ice, null, log, dns.Resolve, TimeSpan.FromMilliseconds(200), CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(["192.0.2.9:3478", "192.0.2.1:3478"], options.Ice.StunServers.Select(e => e.ToString()));
        Assert.Contains(lines, l => l.StartsWith("Info resolving 2 STUN/TURN server names (at most 0.2 s): hang.test, stun.test", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning Ice.Stun[0]: hang.test was not resolved within 0.2 s; server skipped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_ends_the_wait_for_names_at_once()
    {
        var dns = new FakeDns([]);
        var ice = new IceSettings { Stun = [new ServerAddress("hang.test", 3478)] };
        using var cts = new CancellationTokenSource();
        var resolving = IceDtlsConfig.LinkOptionsAsync(ice, null, (_, _) => { }, dns.Resolve, TimeSpan.FromHours(1), cts.Token);
        await dns.Asked.Task.WaitAsync(Bound);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolving.WaitAsync(Bound));
    }
}
