// The STUN/TURN names kept current while the node runs (ServerAddressBook): a name that failed at
// start reaches the next link setup once it resolves; failed names are retried with a doubling,
// bounded back-off and warned about once (and once more at the bound); a changed address is picked
// up at the next refresh and a failed refresh keeps the last one; an earlier-listed TURN server
// that comes up later takes over; the loop runs on the TimeProvider's clock and stops at once.
// Time is a FakeTimeProvider the test advances: most tests run the book's rounds themselves
// (LookUpDueAsync) at the times it asks for; the loop's own tests step fake time and wait for a log
// line, each wait bounded. The resolver is a FakeDns: no DNS is asked.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Ice;
using EdgeVpn.RealNode.Link;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

public sealed class ServerAddressBookTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly CancellationToken None = CancellationToken.None;

    private sealed record Kit(ServerAddressBook Book, FakeTimeProvider Time, LogLines Log)
    {
        /// <summary>Advances the clock to the next lookup the book asked for, and runs that round.</summary>
        public async Task NextRound()
        {
            Time.Advance(Book.NextLookupIn!.Value);
            await Book.LookUpDueAsync(None).WaitAsync(Bound);
        }

        public List<string> Warnings => [.. Log.Lines.Where(l => l.StartsWith("Warning ", StringComparison.Ordinal))];
    }

    private static ServerAddressBook Book(IceSettings ice, FakeDns dns, LogLines log, TimeProvider time) =>
        new(ice, log.Add, dns.Resolve, time, new DeterministicRandom(11));

    /// <summary>A book that has made its first pass (the node's start).</summary>
    private static async Task<Kit> Started(IceSettings ice, FakeDns dns)
    {
        var time = new FakeTimeProvider();
        var log = new LogLines();
        var book = Book(ice, dns, log, time);
        await book.ResolveAllAsync(None).WaitAsync(Bound);
        return new Kit(book, time, log);
    }

    private static IceSettings Stun(string host) => new() { Stun = [new ServerAddress(host, 3478)] };

    private static TurnServer Turn(string host, int port, string user) => new(new ServerAddress(host, port), user, new Secret("pw-" + user));

    private static IPEndPoint At(string address, int port = 3478) => new(IPAddress.Parse(address), port);

    [Fact]
    public async Task A_resolver_that_throws_something_unexpected_is_a_failed_lookup_not_the_end_of_the_book()
    {
        var ice = Stun("stun.test");
        var log = new LogLines();
        var time = new FakeTimeProvider();
        bool broken = true;
        var book = new ServerAddressBook(ice, log.Add,
            (host, ct) => broken ? throw new InvalidOperationException("resolver state is odd") : Task.FromResult(new[] { IPAddress.Parse("192.0.2.9") }),
            time, new DeterministicRandom(11));
        await book.ResolveAllAsync(None).WaitAsync(Bound);
        Assert.Empty(book.Current.Stun);
        Assert.Contains(log.Lines, l => l.Contains("InvalidOperationException: resolver state is odd", StringComparison.Ordinal));

        broken = false;
        time.Advance(book.NextLookupIn!.Value);
        await book.LookUpDueAsync(None).WaitAsync(Bound);
        Assert.Equal([At("192.0.2.9")], book.Current.Stun);
    }

    [Fact]
    public async Task A_name_that_fails_at_start_reaches_the_next_link_setup_once_it_resolves()
    {
        var dns = new FakeDns();
        var ice = Stun("stun.test");
        var time = new FakeTimeProvider();
        var log = new LogLines();
        var book = Book(ice, dns, log, time);
        var template = await IceDtlsConfig.LinkOptionsAsync(ice, null, book, None).WaitAsync(Bound);
        var opened = new List<IceLinkOptions>();
        var events = new LinkEventRecorder();
        using var transport = new IceDtlsLinkTransport(events, new IceDtlsTransportOptions(template)
        {
            Servers = () => book.Current,
            // The options each link end is opened with are what this test is about: no socket is bound.
            Open = (options, _, _, _) => { lock (opened) opened.Add(options); throw new IOException("not opened in this test"); },
        }, DtlsIdentity.CreateSelfSigned("a", time.GetUtcNow()));
        var peer = new NodeId(2UL << 60, 2);

        transport.Prepare(new LinkId(1), peer, IceRole.Controlling);
        dns.Set("stun.test", "192.0.2.7");
        time.Advance(book.NextLookupIn!.Value);
        await book.LookUpDueAsync(None).WaitAsync(Bound);
        transport.Prepare(new LinkId(2), peer, IceRole.Controlled);

        Assert.Equal(2, opened.Count);
        Assert.Empty(opened[0].Ice.StunServers);
        Assert.Equal([At("192.0.2.7")], opened[1].Ice.StunServers);
        Assert.Equal(IceRole.Controlled, opened[1].Ice.Role);
        Assert.Contains("Info Ice.Stun[0] stun.test resolved to 192.0.2.7; used from the next link setup", log.Lines);
    }

    [Fact]
    public async Task Retry_delays_double_from_5_s_stop_growing_at_5_min_and_nothing_is_asked_before_it_is_due()
    {
        var dns = new FakeDns();
        var kit = await Started(Stun("stun.test"), dns);
        for (int failures = 1; failures <= 10; failures++)
        {
            var wait = kit.Book.NextLookupIn!.Value;
            var nominal = TimeSpan.FromSeconds(Math.Min(5 * Math.Pow(2, failures - 1), 300));
            Assert.InRange(wait, nominal * (1 - ServerAddressBook.JitterSpread), nominal * (1 + ServerAddressBook.JitterSpread));
            int asked = dns.Asked("stun.test");
            kit.Time.Advance(wait - TimeSpan.FromSeconds(1));
            await kit.Book.LookUpDueAsync(None).WaitAsync(Bound);
            Assert.Equal(asked, dns.Asked("stun.test"));
            kit.Time.Advance(TimeSpan.FromSeconds(1));
            await kit.Book.LookUpDueAsync(None).WaitAsync(Bound);
            Assert.Equal(asked + 1, dns.Asked("stun.test"));
        }
    }

    [Fact]
    public async Task A_failing_name_is_warned_about_at_the_first_failure_and_once_more_at_the_bound_and_its_resolution_once()
    {
        var dns = new FakeDns();
        var kit = await Started(Stun("stun.test"), dns);
        for (int k = 0; k < 12; k++) await kit.NextRound();
        Assert.Equal([
            "Warning Ice.Stun[0]: stun.test cannot be resolved (HostNotFound); server skipped until it resolves (looked up again after 5 s, backing off to 5 min)",
            "Warning Ice.Stun[0]: stun.test failed 7 lookups in a row (last: cannot be resolved (HostNotFound)); still skipped, looked up every 5 min from now on",
        ], kit.Warnings);
        Assert.Empty(kit.Book.Current.Stun);

        dns.Set("stun.test", "192.0.2.5");
        await kit.NextRound();
        await kit.NextRound();   // a refresh with the same answer says nothing
        Assert.Equal([At("192.0.2.5")], kit.Book.Current.Stun);
        Assert.Single(kit.Log.Lines, l => l.StartsWith("Info Ice.Stun[0] stun.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_changed_address_is_picked_up_at_the_next_refresh()
    {
        var dns = new FakeDns(new() { ["stun.test"] = "192.0.2.1" });
        var kit = await Started(Stun("stun.test"), dns);
        Assert.Equal([At("192.0.2.1")], kit.Book.Current.Stun);
        Assert.InRange(kit.Book.NextLookupIn!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));

        dns.Set("stun.test", "192.0.2.2");
        await kit.NextRound();
        Assert.Equal([At("192.0.2.2")], kit.Book.Current.Stun);
        Assert.Contains("Info Ice.Stun[0] stun.test now resolves to 192.0.2.2 (was 192.0.2.1); used from the next link setup", kit.Log.Lines);
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_last_address_warns_once_and_retries_sooner_than_a_refresh()
    {
        var dns = new FakeDns(new() { ["stun.test"] = "192.0.2.1" });
        var kit = await Started(Stun("stun.test"), dns);
        dns.Fail("stun.test");
        await kit.NextRound();
        Assert.InRange(kit.Book.NextLookupIn!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));
        await kit.NextRound();
        await kit.NextRound();
        Assert.Equal([At("192.0.2.1")], kit.Book.Current.Stun);
        Assert.Equal(["Warning Ice.Stun[0]: stun.test cannot be resolved (HostNotFound); keeping 192.0.2.1 (looked up again after 5 s, backing off to 5 min)"], kit.Warnings);

        dns.Set("stun.test", "192.0.2.1");
        await kit.NextRound();
        Assert.Contains("Info Ice.Stun[0] stun.test resolves again, to 192.0.2.1 (kept meanwhile)", kit.Log.Lines);
    }

    [Fact]
    public async Task The_start_summary_counts_what_resolved_against_what_is_configured_and_says_the_rest_is_retried()
    {
        var dns = new FakeDns(new() { ["stun1.test"] = "192.0.2.5", ["turn2.test"] = "192.0.2.2" });
        var ice = new IceSettings
        {
            Stun = [new ServerAddress("stun1.test", 3478), new ServerAddress("stun2.test", 3478), new ServerAddress("192.0.2.8", 3478)],
            Turn = [Turn("turn1.test", 3478, "one"), Turn("turn2.test", 3479, "two")],
        };
        var kit = await Started(ice, dns);
        Assert.Equal("2 of 3 STUN servers, TURN Ice.Turn[1] of 2 resolved; the others are looked up again from 5 s, doubling to 5 min", kit.Book.Summary);

        dns.Set("stun2.test", "192.0.2.6");
        dns.Set("turn1.test", "192.0.2.1");
        for (int round = 0; round < 2; round++) await kit.NextRound();   // the two failed names, each due at its own jittered time
        Assert.Equal("3 of 3 STUN servers, TURN Ice.Turn[0] of 2 resolved", kit.Book.Summary);

        var none = await Started(new IceSettings { Stun = [new ServerAddress("stun.test", 3478)], Turn = [Turn("turn.test", 3478, "t")] }, new FakeDns());
        Assert.Equal("0 of 1 STUN server, none of 1 TURN server resolved; the others are looked up again from 5 s, doubling to 5 min", none.Book.Summary);
        Assert.Equal("0 of 0 STUN servers, no TURN server resolved", (await Started(new IceSettings(), new FakeDns())).Book.Summary);
    }

    [Fact]
    public async Task An_earlier_TURN_server_that_comes_up_later_is_preferred_for_new_links()
    {
        var dns = new FakeDns(new() { ["turn2.test"] = "192.0.2.2" });
        var kit = await Started(new IceSettings { Turn = [Turn("turn1.test", 3478, "one"), Turn("turn2.test", 3479, "two")] }, dns);
        Assert.Equal((At("192.0.2.2", 3479), "two"), (kit.Book.Current.Turn!.Server, kit.Book.Current.Turn.Username));

        dns.Set("turn1.test", "192.0.2.1");
        await kit.NextRound();
        var turn = kit.Book.Current.Turn!;
        Assert.Equal((At("192.0.2.1"), "one", "pw-one"), (turn.Server, turn.Username, turn.Password));
        Assert.Contains("Info Ice.Turn[0].Address turn1.test resolved to 192.0.2.1; used from the next link setup", kit.Log.Lines);
        Assert.Contains("Info TURN server from the next link setup: Ice.Turn[0] turn1.test:3478 (192.0.2.1:3478), listed before Ice.Turn[1] (used until now)", kit.Log.Lines);
        Assert.DoesNotContain(kit.Log.Lines, l => l.Contains("pw-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_name_with_several_addresses_keeps_the_one_in_use_while_it_is_among_them()
    {
        var dns = new FakeDns();
        dns.Set("stun.test", "192.0.2.1", "192.0.2.2");
        var kit = await Started(Stun("stun.test"), dns);
        dns.Set("stun.test", "192.0.2.2", "192.0.2.1");   // round-robin DNS turned the list
        await kit.NextRound();
        Assert.Equal([At("192.0.2.1")], kit.Book.Current.Stun);
        dns.Set("stun.test", "192.0.2.3", "192.0.2.2");
        await kit.NextRound();
        Assert.Equal([At("192.0.2.3")], kit.Book.Current.Stun);
        Assert.Single(kit.Log.Lines, l => l.Contains("now resolves to", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_loop_looks_a_failed_name_up_again_as_time_passes()
    {
        var dns = new FakeDns();
        var kit = await Started(Stun("stun.test"), dns);
        using var stop = new CancellationTokenSource();
        var loop = kit.Book.RunAsync(stop.Token);
        dns.Set("stun.test", "192.0.2.7");
        var resolved = kit.Log.Seen("stun.test resolved to 192.0.2.7");
        // Fake seconds in steps: the loop sleeps on the provider's timer, so only they can wake it.
        for (int seconds = 0; seconds < 60 && !resolved.IsCompleted; seconds++)
        {
            kit.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(resolved, Task.Delay(TimeSpan.FromMilliseconds(5)));
        }
        await resolved.WaitAsync(Bound);
        Assert.Equal([At("192.0.2.7")], kit.Book.Current.Stun);
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task Stopping_ends_the_loop_at_once_even_while_a_lookup_never_answers()
    {
        // No fake time passes: neither the lookup's bound nor a retry can end the loop, only the stop.
        var dns = new FakeDns();
        var book = Book(Stun("hang.test"), dns, new LogLines(), new FakeTimeProvider());
        using var stop = new CancellationTokenSource();
        var loop = book.RunAsync(stop.Token);
        await dns.FirstAsked.Task.WaitAsync(Bound);
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);   // throws if the loop threw
    }

    [Fact]
    public async Task Stopping_ends_the_loop_at_once_while_it_waits_for_the_next_refresh()
    {
        var dns = new FakeDns(new() { ["stun.test"] = "192.0.2.1" });
        var kit = await Started(Stun("stun.test"), dns);
        using var stop = new CancellationTokenSource();
        var loop = kit.Book.RunAsync(stop.Token);
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
        Assert.Equal(1, dns.Asked("stun.test"));
    }
}
