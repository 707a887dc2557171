// The XMPP client against a real Prosody on loopback (see ProsodyServer): two overlay members
// log in over STARTTLS (one trusting the test CA file, one pinning the certificate's SHA-256),
// see each other's presence with node ids and the shared group in their rosters, and exchange
// signaling payloads both ways; a registered user outside the group cannot get a signal
// through; a wrong pin and a wrong password are refused with their reasons.
// The waits are liveness bounds (EventBound), never timing assertions.
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public sealed class ProsodyIntegrationTests(ProsodyServer prosody) : IClassFixture<ProsodyServer>
{
    private static readonly TimeSpan EventBound = TimeSpan.FromSeconds(30);
    private static readonly NodeId AliceNode = new(0x1111111111111111UL, 0x0000000000000001UL);
    private static readonly NodeId BobNode = new(0x9999999999999999UL, 0x0000000000000002UL);
    private static readonly NodeId CarolNode = new(0x5555555555555555UL, 0x0000000000000003UL);

    private void Start() => prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));

    private XmppConfig Config(string user, string password, NodeId node) => new()
    {
        Host = "127.0.0.1",
        Port = prosody.Port,
        Account = Jid.Parse($"{user}@{ProsodyServer.Domain}").Value,
        Password = password,
        Resource = "node-" + user,
        NodeId = node,
        OverlayId = "ov1",
        Group = ProsodyServer.Group,
        ReconnectDelayFirst = TimeSpan.FromMilliseconds(200),
        ReconnectDelayMax = TimeSpan.FromSeconds(2),
    };

    /// <summary>A running client and everything it has said so far.</summary>
    private sealed class Probe : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _run;
        public XmppClient Client { get; }
        public List<XmppOutput> Seen { get; } = [];

        public Probe(XmppConfig config, TlsTrust trust)
        {
            Client = new XmppClient(config, trust, TimeProvider.System);
            _run = Task.Run(() => Client.RunAsync(_cts.Token));
        }

        public async Task<T> WaitFor<T>(Func<T, bool> match, string what) where T : XmppOutput
        {
            foreach (var o in Seen) if (o is T t && match(t)) return t;
            using var bound = new CancellationTokenSource(EventBound);
            try
            {
                while (true)
                {
                    var o = await Client.Events.ReadAsync(bound.Token);
                    Seen.Add(o);
                    if (o is T t && match(t)) return t;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                throw new Xunit.Sdk.XunitException($"no {what} within {EventBound.TotalSeconds} s; saw:\n  " + string.Join("\n  ", Seen));
            }
        }

        /// <summary>Everything already queued, without waiting.</summary>
        public void Collect()
        {
            while (Client.Events.TryRead(out var o)) Seen.Add(o);
        }

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            await _run.WaitAsync(EventBound);
            await Client.DisposeAsync();
            _cts.Dispose();
        }
    }

    [ProsodyFact]
    public async Task Two_members_see_each_others_node_ids_and_exchange_signals_through_a_real_prosody()
    {
        Start();
        await using var alice = new Probe(Config("alice", "alice-pw-1", AliceNode), new TlsTrust.CaFile(prosody.CertificatePath));
        await using var bob = new Probe(Config("bob", "bob-pw-2", BobNode), new TlsTrust.Fingerprint(prosody.CertificateSha256));

        var aliceOnline = await alice.WaitFor<XmppOutput.Online>(_ => true, "alice online");
        var bobOnline = await bob.WaitFor<XmppOutput.Online>(_ => true, "bob online");
        Assert.Equal($"alice@{ProsodyServer.Domain}/node-alice", aliceOnline.BoundJid.ToString());

        // Group membership comes from the server's shared group.
        var roster = await alice.WaitFor<XmppOutput.Roster>(r => r.Items.Count > 0, "alice's roster");
        var bobItem = Assert.Single(roster.Items, i => i.Jid.Local == "bob");
        Assert.Contains(ProsodyServer.Group, bobItem.Groups);
        Assert.DoesNotContain(roster.Items, i => i.Jid.Local == "carol");

        var bobSeenByAlice = await alice.WaitFor<XmppOutput.PeerPresence>(p => p.Available && p.From.Local == "bob", "bob's presence at alice");
        var aliceSeenByBob = await bob.WaitFor<XmppOutput.PeerPresence>(p => p.Available && p.From.Local == "alice", "alice's presence at bob");
        Assert.Equal(BobNode, bobSeenByAlice.Node);
        Assert.Equal(AliceNode, aliceSeenByBob.Node);
        Assert.Equal(bobOnline.BoundJid, bobSeenByAlice.From);
        Assert.Equal("ov1", bobSeenByAlice.OverlayId);

        const string Request = "{\"type\":\"LinkRequest\",\"link\":\"a1b2\",\"kind\":\"successor\",\"note\":\"<&>\"}";
        alice.Client.SendSignal(bobSeenByAlice.From, Request);
        var atBob = await bob.WaitFor<XmppOutput.Signal>(_ => true, "alice's signal at bob");
        Assert.Equal(Request, atBob.Json);
        Assert.Equal(aliceOnline.BoundJid, atBob.From);

        const string Response = "{\"type\":\"LinkResponse\",\"link\":\"a1b2\",\"refusal\":\"None\",\"fingerprint\":\"AB:CD\"}";
        bob.Client.SendSignal(atBob.From, Response);
        var atAlice = await alice.WaitFor<XmppOutput.Signal>(_ => true, "bob's signal at alice");
        Assert.Equal(Response, atAlice.Json);

        // Leaving is seen.
        bob.Client.Stop("test done");
        await bob.WaitFor<XmppOutput.Stopped>(_ => true, "bob stopped");
        var gone = await alice.WaitFor<XmppOutput.PeerPresence>(p => !p.Available && p.From.Local == "bob", "bob's departure at alice");
        Assert.Equal(bobOnline.BoundJid, gone.From);

        // No password in anything either client said.
        foreach (var o in alice.Seen.Concat(bob.Seen))
        {
            Assert.DoesNotContain("alice-pw-1", o.ToString());
            Assert.DoesNotContain("bob-pw-2", o.ToString());
        }
    }

    [ProsodyFact]
    public async Task A_user_outside_the_group_gets_no_signal_through()
    {
        Start();
        var aliceConfig = Config("alice", "alice-pw-1", AliceNode) with { Resource = "node-alice-2" };
        await using var alice = new Probe(aliceConfig, new TlsTrust.CaFile(prosody.CertificatePath));
        await using var carol = new Probe(Config("carol", "carol-pw-3", CarolNode) with { Group = null }, new TlsTrust.CaFile(prosody.CertificatePath));
        var aliceOnline = await alice.WaitFor<XmppOutput.Online>(_ => true, "alice online");
        await carol.WaitFor<XmppOutput.Online>(_ => true, "carol online");

        // carol is not in alice's roster: her signal is dropped with a reason, never delivered.
        // (Group filtering is the receiver's: carol's own session lets her send.)
        carol.Client.SendSignal(aliceOnline.BoundJid, "{\"type\":\"LinkRequest\"}");
        var dropped = await alice.WaitFor<XmppOutput.Log>(l => l.Text.Contains("carol@xmpp.test is not in group", StringComparison.Ordinal), "alice dropping carol's signal");
        Assert.Contains("dropped <message>", dropped.Text);
        alice.Collect();
        Assert.DoesNotContain(alice.Seen, o => o is XmppOutput.Signal);
        Assert.DoesNotContain(alice.Seen, o => o is XmppOutput.PeerPresence { From.Local: "carol" });
    }

    [ProsodyFact]
    public async Task A_wrong_certificate_pin_and_a_wrong_password_are_refused_with_their_reasons()
    {
        Start();
        var wrongPin = new byte[32];
        await using var pinned = new Probe(Config("alice", "alice-pw-1", AliceNode) with { ReconnectAttemptsMax = 1, Resource = "pin" }, new TlsTrust.Fingerprint(wrongPin));
        var stopped = await pinned.WaitFor<XmppOutput.Stopped>(_ => true, "refusal of the wrong pin");
        Assert.Contains("not the pinned one", stopped.Reason);
        Assert.DoesNotContain(pinned.Seen, o => o is XmppOutput.Online);

        await using var wrongPassword = new Probe(Config("bob", "not-bobs-password", BobNode) with { Resource = "pw" }, new TlsTrust.CaFile(prosody.CertificatePath));
        var refused = await wrongPassword.WaitFor<XmppOutput.Stopped>(_ => true, "refusal of the wrong password");
        Assert.Contains("not-authorized", refused.Reason);
        Assert.DoesNotContain("not-bobs-password", string.Join("\n", wrongPassword.Seen));
    }

    [ProsodyFact]
    public async Task A_second_client_on_the_same_address_takes_it_over_and_the_first_stops_instead_of_kicking_it_back()
    {
        Start();
        var twin = Config("alice", "alice-pw-1", AliceNode) with { Resource = "twin" };
        await using var first = new Probe(twin, new TlsTrust.CaFile(prosody.CertificatePath));
        await first.WaitFor<XmppOutput.Online>(_ => true, "the first client online");
        await using var second = new Probe(twin with { Seed = 2 }, new TlsTrust.CaFile(prosody.CertificatePath));
        await second.WaitFor<XmppOutput.Online>(_ => true, "the second client online");

        // Prosody resolves the conflict by kicking the older session.
        var stopped = await first.WaitFor<XmppOutput.Stopped>(_ => true, "the first client stopping");
        Assert.Contains("conflict", stopped.Reason);
        Assert.Contains(first.Seen, o => o is XmppOutput.Log { Level: XmppLogLevel.Error } l && l.Text.Contains("another client logged in", StringComparison.Ordinal));
        Assert.Null(first.Seen.OfType<XmppOutput.Offline>().Single().RetryAt);
        Assert.Equal(XmppState.Stopped, first.Client.State);
        second.Collect();
        Assert.DoesNotContain(second.Seen, o => o is XmppOutput.Offline);
        Assert.Equal(XmppState.Online, second.Client.State);
    }

    [ProsodyFact]
    public async Task A_client_reconnects_after_the_server_is_killed_and_restarted()
    {
        Start();
        await using var alice = new Probe(Config("alice", "alice-pw-1", AliceNode) with { Resource = "restart" }, new TlsTrust.CaFile(prosody.CertificatePath));
        await alice.WaitFor<XmppOutput.Online>(_ => true, "alice online");
        prosody.Restart();
        var offline = await alice.WaitFor<XmppOutput.Offline>(_ => true, "alice noticing the server's death");
        Assert.NotNull(offline.RetryAt);
        // Online events of the same address are equal records: count them rather than search.
        await alice.WaitFor<XmppOutput.Online>(_ => alice.Seen.OfType<XmppOutput.Online>().Count() == 2, "alice online again");
        Assert.Equal(XmppState.Online, alice.Client.State);
    }
}
