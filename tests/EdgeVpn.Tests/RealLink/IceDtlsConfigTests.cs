// The Ice section turned into link options at start (the first pass of the ServerAddressBook): of
// the TURN servers the first that resolves is used (a second one listed for redundancy used to be
// ignored when the first did not resolve), a name that never resolves is skipped at the bound
// instead of holding the start, and cancelling (a signal during start) ends the wait at once. The
// resolver is a fake (no DNS is asked) and time a FakeTimeProvider (the bound passes when the test
// advances it, nothing sleeps).
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Link;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

public class IceDtlsConfigTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static TurnServer Turn(string host, int port, string user) => new(new ServerAddress(host, port), user, new Secret("pw-" + user));

    private static ServerAddressBook Book(IceSettings ice, FakeDns dns, LogLines log, TimeProvider time) =>
        new(ice, log.Add, dns.Resolve, time, new DeterministicRandom(7));

    [Fact]
    public async Task The_first_TURN_server_that_resolves_is_used_and_the_log_names_it()
    {
        var dns = new FakeDns(new() { ["turn2.test"] = "192.0.2.2", ["turn3.test"] = "192.0.2.3" });
        var ice = new IceSettings { Turn = [Turn("no-such-host.invalid", 3478, "one"), Turn("turn2.test", 3479, "two"), Turn("turn3.test", 3478, "three")] };
        var log = new LogLines();
        var options = await IceDtlsConfig.LinkOptionsAsync(ice, null, Book(ice, dns, log, new FakeTimeProvider()), CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 3479), options.Ice.Turn!.Server);
        Assert.Equal(("two", "pw-two"), (options.Ice.Turn.Username, options.Ice.Turn.Password));
        var lines = log.Lines;
        Assert.Contains(lines, l => l.StartsWith("Warning Ice.Turn[0].Address: no-such-host.invalid cannot be resolved (HostNotFound)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Info TURN server: Ice.Turn[1] turn2.test:3479 (192.0.2.2:3479), the first that resolves; 1 more not used", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("pw-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_name_that_never_resolves_is_skipped_at_the_bound_and_the_rest_are_kept()
    {
        var dns = new FakeDns(new() { ["stun.test"] = "192.0.2.9" });
        var ice = new IceSettings { Stun = [new ServerAddress("hang.test", 3478), new ServerAddress("stun.test", 3478), new ServerAddress("192.0.2.1", 3478)] };
        var log = new LogLines();
        var time = new FakeTimeProvider();
        var resolving = IceDtlsConfig.LinkOptionsAsync(ice, null, Book(ice, dns, log, time), CancellationToken.None);
        await dns.FirstAsked.Task.WaitAsync(Bound);
        Assert.False(resolving.IsCompleted, "the start ended before its bound");
        time.Advance(ServerAddressBook.ResolveTimeout);
        var options = await resolving.WaitAsync(Bound);
        Assert.Equal(["192.0.2.9:3478", "192.0.2.1:3478"], options.Ice.StunServers.Select(e => e.ToString()));
        Assert.Contains(log.Lines, l => l.StartsWith("Info resolving 2 STUN/TURN server names (at most 5 s): hang.test, stun.test", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Warning Ice.Stun[0]: hang.test was not resolved within 5 s; server skipped until it resolves", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_ends_the_wait_for_names_at_once()
    {
        var dns = new FakeDns();
        var ice = new IceSettings { Stun = [new ServerAddress("hang.test", 3478)] };
        using var cts = new CancellationTokenSource();
        var resolving = IceDtlsConfig.LinkOptionsAsync(ice, null, Book(ice, dns, new LogLines(), new FakeTimeProvider()), cts.Token);
        await dns.FirstAsked.Task.WaitAsync(Bound);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolving.WaitAsync(Bound));
    }
}
