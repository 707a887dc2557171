// The simulator's XMPP server against the project's real XmppSession clients (wired with zero
// latency by an in-test harness: no sockets, no clocks, no sleeps), and against raw bytes for the
// refusals: login over STARTTLS + PLAIN, bind and the shared-group roster, presence in any login
// order, signal routing, departures (Stop, Lost, CloseAll), refused passwords, resource conflicts,
// dropped headlines and bounced chats, pings, stream errors, and fuzzing in every negotiation state.
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.Sim.Servers;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Servers;

/// <summary>N real XmppSessions wired to one VirtualXmppServer with zero latency.</summary>
internal sealed class XmppServerNet
{
    public const string Domain = "sim.edgevpn";
    public const string Group = "overlay";
    public static string PasswordOf(string local) => "pw-" + local;
    public static NodeId NodeOf(int i) => new(0x1000UL + (ulong)i, 0xabcdUL * (ulong)(i + 1));

    private readonly Dictionary<long, (int Client, int Connection)> _streamOf = [];
    private readonly Dictionary<(int Client, int Connection), long> _streamFor = [];
    private long _nextStream = 100;

    public VirtualXmppServer Server { get; }
    public List<XmppSession> Clients { get; } = [];
    public List<List<XmppOutput>> Events { get; } = [];
    public List<long> StreamsOpened { get; } = [];
    public Instant Now { get; set; } = Instant.Zero;

    public XmppServerNet(int accounts = 5, bool offerScram = true)
    {
        Server = new VirtualXmppServer(Domain, Group, [.. Enumerable.Range(0, accounts).Select(i => $"n{i}")], PasswordOf, XmlLimits.Default, offerScram);
    }

    /// <summary>Adds a client for account n{account}; it does not start until Start(i).</summary>
    public int Add(int account, string? password = null, NodeId? node = null)
    {
        var config = new XmppConfig
        {
            Host = "sim",
            Account = Jid.Parse($"n{account}@{Domain}").Value,
            Password = password ?? PasswordOf($"n{account}"),
            NodeId = node ?? NodeOf(account),
            OverlayId = "ov",
            Group = Group,
            Seed = (ulong)Clients.Count,
        };
        int nonces = 0, client = Clients.Count;
        Clients.Add(new XmppSession(config, () => $"test-nonce-{client:D3}-{++nonces:D6}"));
        Events.Add([]);
        return Clients.Count - 1;
    }

    public void Start(int client) => Input(client, new XmppInput.Start());

    public void Input(int client, XmppInput input)
    {
        Clients[client].Handle(Now, input);
        Pump();
    }

    /// <summary>Carries every output both ways until all sides are quiet.</summary>
    public void Pump()
    {
        for (int round = 0; round < 10_000; round++)
        {
            bool progress = false;
            for (int i = 0; i < Clients.Count; i++)
                while (Clients[i].TryPollOutput(out var o))
                {
                    progress = true;
                    FromClient(i, o);
                }
            while (Server.TryPollOutput(out var o))
            {
                progress = true;
                FromServer(o);
            }
            Server.CheckInvariants();
            foreach (var c in Clients) c.CheckInvariants();
            if (!progress) return;
        }
        throw new InvalidOperationException("clients and server never went quiet");
    }

    private void FromClient(int i, XmppOutput o)
    {
        var session = Clients[i];
        switch (o)
        {
            case XmppOutput.Connect c:
            {
                long stream = _nextStream++;
                _streamOf[stream] = (i, c.Connection);
                _streamFor[(i, c.Connection)] = stream;
                StreamsOpened.Add(stream);
                Server.Open(stream);
                session.Handle(Now, new XmppInput.TransportConnected(c.Connection));
                break;
            }
            case XmppOutput.Send s:
                if (_streamFor.TryGetValue((i, s.Connection), out long to)) Server.Receive(to, s.Bytes);
                break;
            case XmppOutput.StartTls t:
                if (_streamFor.TryGetValue((i, t.Connection), out long tls)) Server.TlsEstablished(tls);
                session.Handle(Now, new XmppInput.TlsEstablished(t.Connection));
                break;
            case XmppOutput.Close c:
                if (_streamFor.Remove((i, c.Connection), out long closed))
                {
                    _streamOf.Remove(closed);
                    Server.Lost(closed);
                }
                break;
            default:
                Events[i].Add(o);
                break;
        }
    }

    /// <summary>Hands one server output to its client (Pump does this for everything it polls).</summary>
    public void FromServer(XmppServerOutput o)
    {
        switch (o)
        {
            case XmppServerOutput.Send s:
                if (_streamOf.TryGetValue(s.Stream, out var to))
                    Clients[to.Client].Handle(Now, new XmppInput.Received(to.Connection, s.Bytes));
                break;
            case XmppServerOutput.Close c:
                if (_streamOf.Remove(c.Stream, out var closed))
                {
                    _streamFor.Remove(closed);
                    Clients[closed.Client].Handle(Now, new XmppInput.TransportFailed(closed.Connection, c.Reason));
                }
                break;
        }
    }

    /// <summary>The server's stream for a client's current connection.</summary>
    public long StreamOf(int client) => _streamFor[(client, Clients[client].Connection)];

    public static Jid Full(int account) => Jid.Parse($"n{account}@{Domain}/edgevpn").Value;

    /// <summary>The last presence client i heard of account n{account}.</summary>
    public XmppOutput.PeerPresence? LastPresence(int client, int account) =>
        Events[client].OfType<XmppOutput.PeerPresence>().LastOrDefault(p => p.From == Full(account));
}

/// <summary>Routes the server's outputs to the raw clients of their streams; unknown streams' outputs are kept in Unrouted.</summary>
internal sealed class RawHub(VirtualXmppServer server)
{
    private readonly Dictionary<long, RawClient> _clients = [];
    public VirtualXmppServer Server => server;
    public List<XmppServerOutput> Unrouted { get; } = [];

    public RawClient Client(long stream, string account) => _clients[stream] = new RawClient(this, stream, account);

    public void Drain()
    {
        while (server.TryPollOutput(out var o))
        {
            long stream = o switch { XmppServerOutput.Send s => s.Stream, XmppServerOutput.Close c => c.Stream, _ => -1 };
            if (_clients.TryGetValue(stream, out var client)) client.Take(o);
            else Unrouted.Add(o);
        }
        server.CheckInvariants();
    }
}

/// <summary>A hand-driven client speaking raw XML to the server, for the cases XmppSession never produces.</summary>
internal sealed class RawClient(RawHub hub, long stream, string account)
{
    public enum Stage { Opened, Header, AwaitingTls, TlsHeader, Authenticated, Bound, Available }

    public static readonly string Header = XmppStanzas.StreamHeader(XmppServerNet.Domain, null);
    public const string StartTls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    public const string Bind = "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind></iq>";
    public static readonly string Presence = "<presence><node xmlns='urn:edgevpn:xmpp:0' id='" + new NodeId(7, 7) + "' overlay='ov'/></presence>";

    private readonly StringBuilder _unread = new();
    private VirtualXmppServer Server => hub.Server;

    /// <summary>Everything the server sent on this stream.</summary>
    public StringBuilder Text { get; } = new();
    public string? Closed { get; private set; }

    public string Auth(string password) =>
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
        + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{account}\0{password}")) + "</auth>";

    public RawClient Open(Stage stage)
    {
        Server.Open(stream);
        if (stage >= Stage.Header) Send(Header);
        if (stage >= Stage.AwaitingTls) Send(StartTls);
        if (stage >= Stage.TlsHeader) { Server.TlsEstablished(stream); Send(Header); }
        if (stage >= Stage.Authenticated) { Send(Auth(XmppServerNet.PasswordOf(account))); Send(Header); }
        if (stage >= Stage.Bound) Send(Bind);
        if (stage >= Stage.Available) Send(Presence);
        return this;
    }

    /// <summary>Sends, then returns what the server answered on this stream and was not read before.</summary>
    public string Send(string xml) => Send(Encoding.UTF8.GetBytes(xml));

    public string Send(byte[] bytes)
    {
        Server.Receive(stream, bytes);
        return Read();
    }

    /// <summary>What arrived on this stream since the last read.</summary>
    public string Read()
    {
        hub.Drain();
        string s = _unread.ToString();
        _unread.Clear();
        return s;
    }

    public void Take(XmppServerOutput o)
    {
        if (o is XmppServerOutput.Send s)
        {
            string text = Encoding.UTF8.GetString(s.Bytes);
            _unread.Append(text);
            Text.Append(text);
        }
        else if (o is XmppServerOutput.Close c) Closed = c.Reason;
    }
}

public class VirtualXmppServerTests
{
    private static XmppServerNet LoggedIn(int n, bool offerScram = true)
    {
        var net = new XmppServerNet(offerScram: offerScram);
        for (int i = 0; i < n; i++) net.Add(i);
        for (int i = 0; i < n; i++) net.Start(i);
        return net;
    }

    [Theory]
    [InlineData(true)]    // SCRAM-SHA-1 offered first, as Prosody does: the client takes it
    [InlineData(false)]   // PLAIN alone
    public void Three_clients_log_in_over_starttls_and_sasl_and_each_gets_a_roster_of_the_other_accounts_in_the_group(bool offerScram)
    {
        var net = LoggedIn(3, offerScram);
        Assert.Equal(offerScram ? (3, 0) : (0, 3), (net.Server.ScramLogins, net.Server.PlainLogins));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(XmppState.Online, net.Clients[i].State);
            Assert.Equal(XmppServerNet.Full(i), net.Clients[i].BoundJid);
            var roster = net.Events[i].OfType<XmppOutput.Roster>().Last();
            // Five accounts, all in the group: everyone but the client itself, in account order.
            Assert.Equal(Enumerable.Range(0, 5).Where(a => a != i).Select(a => $"n{a}@{XmppServerNet.Domain}"),
                roster.Items.Select(r => r.Jid.ToString()));
            Assert.All(roster.Items, r => Assert.Equal([XmppServerNet.Group], r.Groups));
            Assert.All(roster.Items, r => Assert.Equal("both", r.Subscription));
        }
        Assert.Equal(3, net.Server.OpenStreams);
        Assert.Equal(3, net.Server.BoundSessions);
        Assert.Equal(3, net.Server.AvailableSessions);
        Assert.Equal(0, net.Server.StreamErrors);
    }

    [Fact]
    public void Every_client_learns_the_node_id_of_every_other_whatever_the_login_order()
    {
        var net = new XmppServerNet();
        for (int i = 0; i < 3; i++) net.Add(i);
        net.Start(0);
        net.Start(1);
        Assert.Null(net.LastPresence(0, 2));
        net.Start(2);   // after 0 and 1 are online: they learn of it, and it of them
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                if (i == j) continue;
                var p = net.LastPresence(i, j);
                Assert.NotNull(p);
                Assert.True(p.Available);
                Assert.Equal(XmppServerNet.NodeOf(j), p.Node);
                Assert.Equal("ov", p.OverlayId);
                Assert.Single(net.Events[i].OfType<XmppOutput.PeerPresence>(), e => e.From == XmppServerNet.Full(j));
            }
        // Each client's presence went to itself and to the others: 3 echoes + 3 pairs both ways.
        Assert.Equal(3 + 6, net.Server.PresenceDelivered);
    }

    [Fact]
    public void A_signal_reaches_exactly_the_addressed_peer_stamped_with_the_senders_full_address()
    {
        var net = LoggedIn(3);
        net.Input(0, new XmppInput.SendSignal(XmppServerNet.Full(2), "{\"offer\":1}"));
        var signal = Assert.Single(net.Events[2].OfType<XmppOutput.Signal>());
        Assert.Equal(XmppServerNet.Full(0), signal.From);
        Assert.Equal("{\"offer\":1}", signal.Json);
        Assert.Empty(net.Events[0].OfType<XmppOutput.Signal>());
        Assert.Empty(net.Events[1].OfType<XmppOutput.Signal>());
        Assert.Equal(1, net.Server.MessagesRouted);
        Assert.Equal(0, net.Server.MessagesDropped);
    }

    [Fact]
    public void A_client_that_stops_is_reported_unavailable_to_the_others()
    {
        var net = LoggedIn(3);
        net.Input(1, new XmppInput.Stop("bye"));
        Assert.Equal(XmppState.Stopped, net.Clients[1].State);
        foreach (int i in new[] { 0, 2 })
        {
            var p = net.LastPresence(i, 1);
            Assert.NotNull(p);
            Assert.False(p.Available);
        }
        Assert.Equal(2, net.Server.OpenStreams);
        Assert.Equal(2, net.Server.AvailableSessions);
        Assert.Equal(0, net.Server.StreamErrors);
    }

    [Fact]
    public void A_lost_connection_is_reported_unavailable_to_the_others_and_later_calls_on_it_are_ignored()
    {
        var net = LoggedIn(3);
        long stream = net.StreamOf(2);
        net.Server.Lost(stream);
        net.Pump();
        Assert.False(net.LastPresence(0, 2)!.Available);
        Assert.False(net.LastPresence(1, 2)!.Available);
        Assert.Equal(2, net.Server.BoundSessions);

        long ignoredBefore = net.Server.IgnoredCalls;
        net.Server.Receive(stream, "<presence/>"u8);
        net.Server.TlsEstablished(stream);
        net.Server.Lost(stream);
        Assert.False(net.Server.TryPollOutput(out _));
        Assert.Equal(ignoredBefore + 3, net.Server.IgnoredCalls);
        net.Server.CheckInvariants();
    }

    [Fact]
    public void Lost_sends_no_bytes_to_the_lost_stream()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var a = hub.Client(1, "n0").Open(RawClient.Stage.Available);
        var b = hub.Client(2, "n1").Open(RawClient.Stage.Available);
        a.Read();
        int bBefore = b.Text.Length;
        server.Lost(2);
        string toA = a.Read();
        Assert.Equal(bBefore, b.Text.Length);
        Assert.Null(b.Closed);
        Assert.Empty(hub.Unrouted);
        Assert.Contains("from='n1@sim.edgevpn/raw' type='unavailable'", toA);
    }

    [Fact]
    public void A_wrong_password_gets_a_sasl_failure_stops_the_client_and_shows_it_to_nobody()
    {
        var net = new XmppServerNet();
        net.Add(0);
        net.Add(1, password: "wrong");
        net.Start(0);
        net.Start(1);
        Assert.Equal(XmppState.Stopped, net.Clients[1].State);
        Assert.Contains(net.Events[1].OfType<XmppOutput.Stopped>(), s => s.Reason.Contains("not-authorized"));
        Assert.Null(net.LastPresence(0, 1));
        Assert.Equal(1, net.Server.OpenStreams);
        Assert.Equal(1, net.Server.AvailableSessions);
    }

    [Fact]
    public void The_third_failed_authentication_on_a_stream_ends_it()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.TlsHeader);
        Assert.Contains("<not-authorized/></failure>", c.Send(c.Auth("bad1")));
        Assert.Contains("<invalid-mechanism/></failure>", c.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'>=</auth>"));
        Assert.Null(c.Closed);
        string last = c.Send(c.Auth("bad3"));
        Assert.Contains("<not-authorized/></failure>", last);
        Assert.Contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", last);
        Assert.EndsWith("</stream:stream>", last);
        Assert.NotNull(c.Closed);
        Assert.Equal(0, server.OpenStreams);
    }

    [Fact]
    public void A_second_login_with_the_same_full_address_kicks_the_first_stream_and_the_others_still_see_the_node()
    {
        var net = LoggedIn(2);
        long firstStream = net.StreamOf(0);
        var newNode = new NodeId(0xfeed, 0xbeef);
        int again = net.Add(0, node: newNode);
        net.Start(again);

        Assert.Equal(XmppState.Online, net.Clients[again].State);
        Assert.Equal(XmppState.Stopped, net.Clients[0].State);   // kicked by a live login: it stops rather than kick back
        Assert.Contains(net.Events[0].OfType<XmppOutput.Offline>(), o => o.Reason.Contains("conflict"));
        Assert.NotEqual(firstStream, net.StreamOf(again));
        var seen = net.LastPresence(1, 0);
        Assert.NotNull(seen);
        Assert.True(seen.Available);
        Assert.Equal(newNode, seen.Node);
        Assert.Equal(2, net.Server.BoundSessions);
        Assert.Equal(2, net.Server.AvailableSessions);
        Assert.Equal(1, net.Server.StreamErrors);
    }

    [Fact]
    public void A_headline_signal_to_an_offline_full_address_is_dropped_silently_and_counted()
    {
        var net = LoggedIn(2);
        int logsBefore = net.Events[0].Count;
        net.Input(0, new XmppInput.SendSignal(XmppServerNet.Full(3), "{\"x\":1}"));
        Assert.Equal(1, net.Server.MessagesDropped);
        Assert.Equal(0, net.Server.MessagesRouted);
        Assert.DoesNotContain(net.Events[0].Skip(logsBefore).OfType<XmppOutput.Log>(), l => l.Text.Contains("bounced"));
        Assert.Empty(net.Events[1].OfType<XmppOutput.Signal>());
        Assert.Equal(XmppState.Online, net.Clients[0].State);
    }

    [Fact]
    public void A_chat_message_to_an_unknown_address_is_bounced_with_service_unavailable()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.Available);
        string reply = c.Send("<message to='n4@sim.edgevpn/gone' id='m1' type='chat'><body>hi</body></message>");
        Assert.Contains("type='error'", reply);
        Assert.Contains("from='n4@sim.edgevpn/gone'", reply);
        Assert.Contains("to='n0@sim.edgevpn/raw'", reply);
        Assert.Contains("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", reply);
        reply = c.Send("<message to='stranger@elsewhere.org' id='m2'><body>hi</body></message>");
        Assert.Contains("<service-unavailable", reply);
        Assert.Equal(2, server.MessagesDropped);
        Assert.Null(c.Closed);
    }

    [Fact]
    public void A_message_to_a_bare_address_reaches_every_available_session_of_that_account()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var a = hub.Client(1, "n0").Open(RawClient.Stage.Available);
        var b = hub.Client(2, "n1").Open(RawClient.Stage.Available);
        a.Send("<message to='n1@sim.edgevpn' type='headline' id='m'><x xmlns='urn:test'/></message>");
        string toB = b.Read();
        Assert.Contains("<message to='n1@sim.edgevpn' type='headline' id='m' from='n0@sim.edgevpn/raw'>", toB);
        Assert.Equal(1, server.MessagesRouted);
    }

    [Fact]
    public void CloseAll_ends_every_stream_with_system_shutdown_and_the_clients_back_off()
    {
        var net = LoggedIn(3);
        long presenceBefore = net.Server.PresenceDelivered;
        net.Server.CloseAll("maintenance");
        var outputs = new List<XmppServerOutput>();
        while (net.Server.TryPollOutput(out var o)) outputs.Add(o);
        Assert.Equal(3, outputs.OfType<XmppServerOutput.Close>().Count());
        Assert.All(outputs.OfType<XmppServerOutput.Send>(), s => Assert.EndsWith(
            "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
            Encoding.UTF8.GetString(s.Bytes)));
        Assert.Equal(presenceBefore, net.Server.PresenceDelivered);   // nobody is left to tell
        Assert.Equal(0, net.Server.OpenStreams);
        Assert.Equal(0, net.Server.AvailableSessions);
        net.Server.CheckInvariants();

        // Delivered to the clients (replayed through a fresh pump: the outputs above were taken by hand).
        foreach (var o in outputs) net.FromServer(o);
        net.Pump();
        Assert.All(net.Clients, c => Assert.Equal(XmppState.Backoff, c.State));
    }

    [Fact]
    public void Pings_are_answered_so_clients_stay_online_past_the_ping_timeout()
    {
        var net = LoggedIn(2);
        var client = net.Clients[0];
        for (int round = 0; round < 3; round++)
        {
            var at = client.PollTimeout();
            Assert.NotNull(at);
            net.Now = at.Value;
            client.HandleTimeout(net.Now);   // ping due: sent
            net.Pump();
            Assert.Equal(XmppState.Online, client.State);
            // Answered at once: the next wake-up is the next ping, a full interval later, not the reply deadline.
            Assert.Equal(net.Now + client.Config.PingInterval, client.PollTimeout());
        }
        Assert.Equal(XmppState.Online, client.State);
    }

    [Fact]
    public void A_stanza_before_binding_is_a_stream_error()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.Authenticated);
        string reply = c.Send("<message to='n1@sim.edgevpn'/>");
        Assert.Contains("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", reply);
        Assert.NotNull(c.Closed);
        Assert.Equal(1, server.StreamErrors);
    }

    [Fact]
    public void Malformed_xml_from_an_available_session_ends_it_and_the_others_hear_it_is_gone()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var a = hub.Client(1, "n0").Open(RawClient.Stage.Available);
        var b = hub.Client(2, "n1").Open(RawClient.Stage.Available);
        a.Read();
        b.Send("<message><a></b></message>");
        Assert.Contains("<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", b.Text.ToString());
        Assert.NotNull(b.Closed);
        Assert.Contains("from='n1@sim.edgevpn/raw' type='unavailable'", a.Read());
        Assert.Equal(1, server.AvailableSessions);
    }

    [Fact]
    public void Bytes_after_proceed_and_before_the_tls_handshake_are_a_policy_violation()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.AwaitingTls);
        Assert.EndsWith("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", c.Text.ToString());
        string reply = c.Send(RawClient.Header);
        Assert.Contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", reply);
        Assert.NotNull(c.Closed);
    }

    [Fact]
    public void A_header_for_another_domain_gets_our_header_then_host_unknown()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.Opened);
        string reply = c.Send(XmppStanzas.StreamHeader("elsewhere.org", null));
        Assert.StartsWith("<?xml version='1.0'?><stream:stream from='sim.edgevpn' id='s1'", reply);
        Assert.Contains("<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", reply);
        Assert.NotNull(c.Closed);
    }

    [Fact]
    public void Iq_requests_the_server_does_not_serve_get_service_unavailable()
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        var c = hub.Client(1, "n0").Open(RawClient.Stage.Bound);
        string reply = c.Send("<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>");
        Assert.Contains("id='v1'", reply);
        Assert.Contains("type='error'", reply);
        Assert.Contains("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", reply);
        reply = c.Send("<iq type='get' id='p1' to='n1@sim.edgevpn/x'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Contains("<service-unavailable", reply);
        reply = c.Send("<iq type='get' id='p2' to='n0@sim.edgevpn'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Contains("type='result'", reply);
        Assert.DoesNotContain("error", reply);
        Assert.Null(c.Closed);
    }

    [Fact]
    public void Outputs_are_the_same_on_every_run()
    {
        static string Run()
        {
            var net = LoggedIn(4);
            net.Input(0, new XmppInput.SendSignal(XmppServerNet.Full(3), "{}"));
            net.Input(2, new XmppInput.Stop("x"));
            var sb = new StringBuilder();
            for (int i = 0; i < net.Clients.Count; i++)
                foreach (var e in net.Events[i].Where(e => e is not XmppOutput.Log)) sb.Append(i).Append(e).Append('\n');
            sb.Append(net.Server.BytesOut).Append(' ').Append(net.Server.StanzasOut);
            return sb.ToString();
        }
        Assert.Equal(Run(), Run());
    }

    private static readonly Gen<RawClient.Stage> Stages = Gen.Elements(Enum.GetValues<RawClient.Stage>());

    [Fact]
    public void Random_bytes_in_any_negotiation_state_never_throw_and_keep_the_invariants()
    {
        var cases =
            from stage in Stages
            from bytes in ArbMap.Default.ArbFor<byte[]>().Generator
            select (stage, bytes);
        PropertyCheck.Run(300, Prop.ForAll(Arb.From(cases), c => FuzzOne(c.stage, [c.bytes])));
    }

    private static readonly string[] Fragments =
    [
        RawClient.Header, RawClient.StartTls, RawClient.Bind, RawClient.Presence, "</stream:stream>",
        "<presence type='unavailable'/>", "<presence type='subscribe' to='n0@sim.edgevpn'/>",
        "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>", "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", "<iq type='result' id='z'/>", "<iq/>",
        "<message to='n0@sim.edgevpn' type='chat'><body>x</body></message>", "<message to='n0@sim.edgevpn/raw' type='headline'/>",
        "<message to='bad@@' />", "<message/>", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AG4xAHB3LW4x</auth>",
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!</auth>", "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        "<stream:error/>", "<stream:features/>", "<foo xmlns='urn:unknown'/>", "<a", ">", "'", "&amp;", "&bogus;", "<!-- c -->",
        "<?pi?>", "<![CDATA[x]]>", "\u00e9", "\0", " ", "</x>", "<x:y/>",
    ];

    [Fact]
    public void Random_sequences_of_stanza_fragments_in_any_state_never_throw_and_keep_the_invariants()
    {
        var cases =
            from stage in Stages
            from parts in Gen.ListOf(Gen.Elements(Fragments))
            from split in Gen.Choose(1, 64)
            select (stage, parts, split);
        PropertyCheck.Run(300, Prop.ForAll(Arb.From(cases), c =>
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(c.parts));
            var chunks = bytes.Chunk(c.split).ToArray();
            return FuzzOne(c.stage, chunks);
        }));
    }

    /// <summary>A witness session of n0 is available; n1 on stream 2 is taken to a stage, then fed the chunks.</summary>
    private static bool FuzzOne(RawClient.Stage stage, byte[][] chunks)
    {
        var hub = new RawHub(new XmppServerNet().Server);
        var server = hub.Server;
        hub.Client(1, "n0").Open(RawClient.Stage.Available);
        hub.Client(2, "n1").Open(stage);
        server.TlsEstablished(2);   // harmless whether expected or not
        foreach (var chunk in chunks)
        {
            server.Receive(2, chunk);
            while (server.TryPollOutput(out var o))
                if (o is not (XmppServerOutput.Send { Bytes.Length: > 0 } or XmppServerOutput.Close)) return false;
            server.CheckInvariants();
        }
        server.Lost(2);
        server.CheckInvariants();
        // Nothing sent on stream 2 can end the witness's session (it cannot authenticate as n0).
        return server.OpenStreams == 1 && server.AvailableSessions == 1 && server.BoundSessions == 1;
    }
}
