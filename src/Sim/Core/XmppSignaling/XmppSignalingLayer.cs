// The stanza-level signaling model (`--signaling xmpp`): every live node runs the real node's XMPP
// client session (XmppSession, src/Protocol/Xmpp) bound to its EdgeNode by the same
// XmppNodeBinding the real node uses, and logs in to one VirtualXmppServer over a virtual TCP
// stream. Contract with the Simulation (IXmppHost):
//  - a stream is a pair of in-order byte pipes with the one-way latency between the node and the
//    server site (spikes included), never reordered (when a spike ends, later bytes wait for the
//    earlier ones, as TCP delivers them: vopr --signaling xmpp seed 20 found a presence overtaken
//    by its own unavailable): Connect -> the server accepts one latency later and the client
//    hears TransportConnected after a round trip; Send -> Receive one latency later; StartTls ->
//    the handshake is modeled as one round trip (the server's side done after one latency, the
//    client's after two; no TLS bytes are simulated); Close -> the server sees the stream lost one
//    latency later. Equal times keep their order (the event queue is FIFO), so a stream never
//    reorders. TCP retransmits, so injected datagram loss does not apply to streams;
//  - the server's bytes go back with the latency to the stream's node; bytes for a stream the node
//    no longer uses (it crashed, restarted or reconnected) are discarded;
//  - a crash says nothing: the server notices the stream lost CrashDetection later (the time an
//    XMPP server takes to see a dead client by its keep-alives); a graceful leave sends the
//    session's goodbye (unavailable presence, stream close) before the node goes;
//  - an outage (SetDown) closes every stream with a stream error and refuses connections until
//    the server is back; clients reconnect on their own back-off timers;
//  - what the session reports reaches the node through the binding: presences change the member
//    set, and the node gets NodeInput.Presence with the whole view at most once per
//    PresenceInterval (the first change at once, later ones in one view when the interval is up),
//    as the modeled service publishes; the real NodeDriver hands one view per presence stanza,
//    which here would cost O(n) per stanza per node (n^3 over a run); signals become NodeInput.Signal or
//    NodeInput.Membership; in lookup mode the node bootstraps once the server's answer to its
//    initial presence (the members online) has arrived;
//  - session outputs become events, never re-entrant calls into the server; node inputs are
//    handed over after the session's outputs are drained.
// Bounds: one stream per live node at a time plus those closing; at most XmppNodesMax nodes
// (SimParameters), each roster holding every other node. Deterministic: sessions draw from a
// stream forked per (node, incarnation); the server orders everything itself (no hash order).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.Sim.Servers;

namespace EdgeVpn.Sim.XmppSignaling;

/// <summary>What the stanza-level signaling model needs from the simulation that hosts it.</summary>
internal interface IXmppHost
{
    long NowNs { get; }
    void Schedule(long atNs, in SimEvent e);
    /// <summary>One-way latency between a node and the server site.</summary>
    long ServerNs(int node);
    /// <summary>Hands a live node an input that came through the signaling server.</summary>
    void DeliverFromSignaling(int node, NodeInput input);
    /// <summary>Lookup membership: the node knows the members online and wants to join through one.</summary>
    void BootstrapFromRoster(int node);
}

internal sealed class XmppSignalingLayer
{
    public const string Domain = "sim.edgevpn";
    public const string Group = "overlay";
    public const string Overlay = "sim";

    // What a stream event carries besides bytes (boxed once: no allocation per event).
    private static readonly object Opened = new Marker("open");
    private static readonly object TlsDone = new Marker("tls");
    private static readonly object Gone = new Marker("lost");            // the client closed the connection
    private static readonly object GoneSilently = new Marker("crashed");  // the server notices a dead client

    private sealed record Marker(string What);
    private sealed record Failure(string Reason);
    private sealed record FromServer(byte[] Bytes, int Presences);

    private sealed class Route(int node)
    {
        public readonly int Node = node;
        public long LastDownNs;   // when the server's last bytes on the stream reach the node
    }

    private readonly IXmppHost _host;
    private readonly SimStats _stats;
    private readonly VirtualXmppServer _server;
    private readonly XmppClientEnd?[] _clients;
    private readonly Dictionary<long, Route> _routes = new();   // by stream; looked up, never iterated
    private readonly DeterministicRandom _sessionSeeds;
    private readonly long _crashDetectionNs;
    private readonly long _viewIntervalNs;
    private readonly int _rosterItemsMax;
    private readonly bool _lookup;
    private long _lastStream;
    private bool _down;

    public XmppSignalingLayer(SimParameters parameters, DeterministicRandom random, SimStats stats, IXmppHost host)
    {
        _host = host;
        _stats = stats;
        _sessionSeeds = random;
        _crashDetectionNs = parameters.CrashDetection.Ticks * 100;
        _viewIntervalNs = parameters.PresenceInterval.Ticks * 100;
        _lookup = parameters.Topology.Membership == Protocol.Topology.MembershipMode.Lookup;
        _rosterItemsMax = parameters.Nodes;   // every other account is in the shared group
        _clients = new XmppClientEnd?[parameters.Nodes];
        var accounts = new string[parameters.Nodes];
        for (int i = 0; i < accounts.Length; i++) accounts[i] = AccountOf(i);
        _server = new VirtualXmppServer(Domain, Group, accounts, PasswordOf, XmlLimits.Default);
    }

    public VirtualXmppServer Server => _server;
    /// <summary>Stream events scheduled and not yet processed (both directions).</summary>
    public long InFlight { get; private set; }
    /// <summary>Live nodes whose session is not online.</summary>
    public int LiveOffline { get; private set; }
    /// <summary>Membership views scheduled and not yet handed over.</summary>
    public int ViewsScheduled { get; private set; }
    /// <summary>Presence stanzas on their way from the server to a client.</summary>
    public long PresencesInFlight { get; private set; }
    /// <summary>Online sessions whose initial presence the server has not answered yet (its
    /// presence is still on the way to the others).</summary>
    public int AwaitingPresences { get; private set; }
    /// <summary>Connections a client closed (a leave, a failure) that the server has not seen close
    /// yet: the leaver's unavailable presence is still to come.</summary>
    public int ClosesInFlight { get; private set; }
    /// <summary>Every live node online and every presence delivered and handed to its node. Pings and
    /// signals may still be in flight: the first change nothing, and a signal belongs to a link setup
    /// that keeps its node unstable.</summary>
    public bool Settled => LiveOffline == 0 && AwaitingPresences == 0 && PresencesInFlight == 0 && ClosesInFlight == 0 && ViewsScheduled == 0;

    public static string AccountOf(int node) => "n" + node.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Simulated accounts need passwords the server checks; nothing secret is simulated.
    private static string PasswordOf(string account) => "sim-" + account;

    public bool IsOnline(int node) => _clients[node]?.Online == true;

    /// <summary>A node joins or restarts: its new session connects and logs in.</summary>
    public void Start(int node, int incarnation, NodeId id)
    {
        var config = new XmppConfig
        {
            Host = "xmpp." + Domain,
            Account = Jid.Parse(AccountOf(node) + "@" + Domain).Value,
            Password = PasswordOf(AccountOf(node)),
            NodeId = id,
            OverlayId = Overlay,
            Group = Group,
            RosterItemsMax = _rosterItemsMax,
            // The roster result holds every other account in one stanza.
            Limits = XmlLimits.Default with { StanzaBytesMax = Math.Max(1 << 20, 160 * _rosterItemsMax) },
            Seed = _sessionSeeds.Fork((ulong)node).Fork((ulong)incarnation).NextUInt64(),
        };
        int nonce = 0;
        // SCRAM's client nonce: at least 16 printable characters (RFC 5802 wants it unpredictable;
        // nothing secret is simulated, and a run must be a function of its parameters).
        var end = new XmppClientEnd(node, new XmppSession(config, () => FormattableString.Invariant($"sim-nonce-{node:D7}-{incarnation}-{++nonce}")), new XmppNodeBinding(id, Overlay))
        {
            BootstrapWanted = _lookup,
        };
        _clients[node] = end;
        LiveOffline++;
        end.Session.Handle(Now, new XmppInput.Start());
        Pump(end);
    }

    /// <summary>A graceful leave: the session says goodbye (unavailable, stream close) and is gone.</summary>
    public void Leave(int node)
    {
        if (_clients[node] is not { } end) return;
        end.Session.Handle(Now, new XmppInput.Stop("leaving the overlay"));
        Pump(end);
        Forget(end);
    }

    /// <summary>A crash: no goodbye; the server notices the stream lost CrashDetection later.</summary>
    public void Crash(int node)
    {
        if (_clients[node] is not { } end) return;
        if (end.Stream != 0) Schedule(Math.Max(_host.NowNs + _crashDetectionNs, end.LastUpNs), ToServer(node, end.Stream, GoneSilently));
        Forget(end);
    }

    private void Forget(XmppClientEnd end)
    {
        if (!end.Online) LiveOffline--;
        if (end.ViewScheduled) ViewsScheduled--;
        SetAwaiting(end, false);
        _clients[end.Node] = null;
    }

    /// <summary>The node sends a signal (or a membership message) through the server.</summary>
    public void Send(int node, NodeOutput output)
    {
        if (_clients[node] is not { } end) return;
        if (!end.Online || end.Binding.ToSession(output, out _) is not { } send)
        {
            _stats.SignalsLost++;   // no address for that id, or we are offline: the real node drops it too
            return;
        }
        end.Session.Handle(Now, send);
        Pump(end);
    }

    /// <summary>Lookup membership: the member to join through, from the node's own roster, by the
    /// real node's rule (BootstrapChoice; null: start the ring alone).</summary>
    public NodeId? PickBootstrap(int node, bool member, DeterministicRandom random) =>
        _clients[node] is not { } end ? null
            : BootstrapChoice.Choose(end.Binding.Roster.Self, end.Binding.Roster.Members(), member ? 0 : end.NotJoinedFailures, random);

    /// <summary>Lookup membership: a join failed (BootstrapChoice counts those through non-members).</summary>
    public void JoinFailed(int node, bool bootstrapNotMember)
    {
        if (_clients[node] is { } end) end.NotJoinedFailures = bootstrapNotMember ? end.NotJoinedFailures + 1 : 0;
    }

    /// <summary>Asks for a bootstrap once the node knows who is online (now if it does).</summary>
    public bool WantBootstrap(int node)
    {
        if (_clients[node] is not { } end) return false;
        if (end.Online && !end.AwaitingPresences) return true;
        end.BootstrapWanted = true;
        return false;
    }

    /// <summary>The server goes down (every stream closed, connections refused) or comes back.</summary>
    public void SetDown(bool down)
    {
        if (_down == down) return;
        _down = down;
        if (down)
        {
            _server.CloseAll("system-shutdown");
            DrainServer();
        }
    }

    // ---- events ----

    public void OnToServer(in SimEvent e)
    {
        InFlight--;
        long stream = (long)e.Link;
        switch (e.Payload)
        {
            case byte[] bytes: _server.Receive(stream, bytes); break;
            case var m when ReferenceEquals(m, Opened):
                if (_down)
                {
                    // Refused: the client hears of it one latency later.
                    Schedule(_host.NowNs + _host.ServerNs(e.Node), ToClient(e.Node, stream, new Failure("connection refused (server down)")));
                    return;
                }
                var route = new Route(e.Node);
                _routes[stream] = route;
                _server.Open(stream);
                Down(route, stream, Opened);   // the SYN-ACK
                break;
            case var m when ReferenceEquals(m, TlsDone):
                // The server's side of the handshake is done; the client's one latency later.
                _server.TlsEstablished(stream);
                if (_routes.TryGetValue(stream, out var tls)) Down(tls, stream, TlsDone);
                break;
            case var m when ReferenceEquals(m, Gone) || ReferenceEquals(m, GoneSilently):
                if (ReferenceEquals(m, Gone)) ClosesInFlight--;
                _server.Lost(stream);
                _routes.Remove(stream);
                break;
        }
        DrainServer();
    }

    public void OnToClient(in SimEvent e)
    {
        InFlight--;
        if (e.Payload is FromServer carried) PresencesInFlight -= carried.Presences;
        if (_clients[e.Node] is not { } end || end.Stream != (long)e.Link) return;   // an old stream, or the node is gone
        int c = end.Connection;
        switch (e.Payload)
        {
            case FromServer fromServer:
            {
                bool answerToPresence = end.AwaitingPresences;
                end.Session.Handle(Now, new XmppInput.Received(c, fromServer.Bytes));
                if (answerToPresence) SetAwaiting(end, false);
                Pump(end, presencesIn: answerToPresence);
                return;
            }
            case Failure f: end.Session.Handle(Now, new XmppInput.TransportFailed(c, f.Reason)); break;
            case var m when ReferenceEquals(m, Opened): end.Session.Handle(Now, new XmppInput.TransportConnected(c)); break;
            case var m when ReferenceEquals(m, TlsDone): end.Session.Handle(Now, new XmppInput.TlsEstablished(c)); break;
        }
        Pump(end);
    }

    /// <summary>An XmppWake event's Link: the session's timer (0) or a scheduled membership view.</summary>
    private const ulong ViewDue = 1;

    public void OnWake(in SimEvent e)
    {
        if (e.Link == ViewDue)
        {
            if (_clients[e.Node] is not { ViewScheduled: true } viewer) return;   // the node went away (and the count with it)
            viewer.ViewScheduled = false;
            ViewsScheduled--;
            HandView(viewer);
            return;
        }
        if (_clients[e.Node] is not { } end || end.NextWakeNs != _host.NowNs) return;   // superseded, or gone
        end.NextWakeNs = long.MaxValue;
        end.Session.HandleTimeout(Now);
        Pump(end);
    }

    // ---- the session's outputs ----

    private Instant Now => new(_host.NowNs);

    private void Pump(XmppClientEnd end, bool presencesIn = false)
    {
        List<NodeInput?>? inputs = null;   // null entry: the member set changed (one view per run of them)
        long now = _host.NowNs, d = _host.ServerNs(end.Node);
        while (end.Session.TryPollOutput(out var output))
        {
            switch (output)
            {
                case XmppOutput.Connect c:
                    end.Stream = ++_lastStream;
                    end.Connection = c.Connection;
                    end.LastUpNs = 0;
                    Up(end, now + d, Opened);
                    break;
                case XmppOutput.Send s when s.Connection == end.Connection:
                    Up(end, now + d, s.Bytes);
                    break;
                case XmppOutput.StartTls t when t.Connection == end.Connection:
                    Up(end, now + d, TlsDone);
                    break;
                case XmppOutput.Close c when c.Connection == end.Connection:
                    ClosesInFlight++;
                    Up(end, now + d, Gone);
                    break;
                case XmppOutput.Online:
                    _stats.XmppLogins++;
                    if (!end.Online) { end.Online = true; LiveOffline--; }
                    SetAwaiting(end, true);
                    end.Binding.BeginResync();
                    break;
                case XmppOutput.Offline:
                    if (end.Online) { end.Online = false; LiveOffline++; _stats.XmppDisconnects++; }
                    SetAwaiting(end, false);
                    break;
                case XmppOutput.PeerPresence p:
                    if (end.Binding.OnPresence(p, out string? refusal)) (inputs ??= []).Add(null);
                    if (refusal is not null) _stats.XmppDropped++;
                    break;
                case XmppOutput.Signal s:
                    _stats.SignalMessages++;
                    if (end.Binding.OnSignal(s.From, s.Json, out _) is { } input) (inputs ??= []).Add(input);
                    else _stats.XmppDropped++;
                    _stats.SignalingPayloadBytes += System.Text.Encoding.UTF8.GetByteCount(s.Json);
                    break;
                case XmppOutput.Log { Level: XmppLogLevel.Warning or XmppLogLevel.Error }:
                    _stats.XmppWarnings++;
                    break;
            }
        }
        if (presencesIn && end.Binding.EndResync()) (inputs ??= []).Add(null);   // members that left while we were offline
        ArmWake(end);
        end.Session.CheckInvariants();
        if (inputs is not null) Hand(end, inputs);
        if (presencesIn && end.BootstrapWanted && _clients[end.Node] == end)
        {
            end.BootstrapWanted = false;
            _host.BootstrapFromRoster(end.Node);
        }
    }

    private void SetAwaiting(XmppClientEnd end, bool awaiting)
    {
        if (end.AwaitingPresences == awaiting) return;
        end.AwaitingPresences = awaiting;
        AwaitingPresences += awaiting ? 1 : -1;
    }

    private void Hand(XmppClientEnd end, List<NodeInput?> inputs)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            if (_clients[end.Node] != end) return;   // the node went away while handling an earlier input
            if (inputs[i] is { } input) { _host.DeliverFromSignaling(end.Node, input); continue; }
            if (end.ViewScheduled) continue;   // the scheduled view will hold this change
            long now = _host.NowNs;
            if (end.LastViewNs != long.MinValue && now - end.LastViewNs < _viewIntervalNs)
            {
                end.ViewScheduled = true;
                ViewsScheduled++;
                _host.Schedule(end.LastViewNs + _viewIntervalNs, new SimEvent(EventKind.XmppWake, end.Node, -1, ViewDue, null));
                continue;
            }
            HandView(end);
        }
    }

    private void HandView(XmppClientEnd end)
    {
        end.LastViewNs = _host.NowNs;
        _stats.PresenceDeliveries++;
        _host.DeliverFromSignaling(end.Node, new NodeInput.Presence(end.Binding.Roster.View()));
    }

    private void ArmWake(XmppClientEnd end)
    {
        if (end.Session.PollTimeout() is not { } t) return;
        long at = Math.Max(t.Nanoseconds, _host.NowNs);
        if (at >= end.NextWakeNs) return;
        end.NextWakeNs = at;
        _host.Schedule(at, new SimEvent(EventKind.XmppWake, end.Node, -1, 0, null));
    }

    private void DrainServer()
    {
        long now = _host.NowNs;
        while (_server.TryPollOutput(out var output))
        {
            switch (output)
            {
                case XmppServerOutput.Send s when _routes.TryGetValue(s.Stream, out var route):
                    PresencesInFlight += s.Presences;
                    Down(route, s.Stream, new FromServer(s.Bytes, s.Presences));
                    break;
                case XmppServerOutput.Close c when _routes.Remove(c.Stream, out var route):
                    Down(route, c.Stream, new Failure("the server closed the connection: " + c.Reason));
                    break;
            }
        }
        _stats.PresenceStanzas = _server.PresenceDelivered;
    }

    /// <summary>Client to server on the end's stream, in order.</summary>
    private void Up(XmppClientEnd end, long atNs, object payload)
    {
        end.LastUpNs = Math.Max(atNs, end.LastUpNs);
        Schedule(end.LastUpNs, ToServer(end.Node, end.Stream, payload));
    }

    /// <summary>Server to client on a stream, in order.</summary>
    private void Down(Route route, long stream, object payload)
    {
        route.LastDownNs = Math.Max(_host.NowNs + _host.ServerNs(route.Node), route.LastDownNs);
        Schedule(route.LastDownNs, ToClient(route.Node, stream, payload));
    }

    private static SimEvent ToServer(int node, long stream, object payload) => new(EventKind.XmppToServer, node, -1, (ulong)stream, payload);

    private static SimEvent ToClient(int node, long stream, object payload) => new(EventKind.XmppToClient, node, -1, (ulong)stream, payload);

    private void Schedule(long atNs, in SimEvent e)
    {
        InFlight++;
        _host.Schedule(atNs, e);
    }

    public string? Unsettled()
    {
        if (Settled) return null;
        var offline = new List<string>();
        foreach (var end in _clients)
            if (end is { Online: false } && offline.Count < 5) offline.Add($"#{end.Node} {end.Session.State}");
        return $"{LiveOffline} live sessions offline{(offline.Count > 0 ? " (" + string.Join(", ", offline) + ")" : "")}, {AwaitingPresences} initial presences unanswered, "
            + $"{PresencesInFlight} presences and {ClosesInFlight} closes in flight, {ViewsScheduled} views scheduled";
    }

    public void CheckInvariants()
    {
        int offline = 0, views = 0, awaiting = 0;
        foreach (var end in _clients)
        {
            if (end is null) continue;
            if (!end.Online) offline++;
            if (end.ViewScheduled) views++;
            if (end.AwaitingPresences) awaiting++;
            end.Session.CheckInvariants();
        }
        if (awaiting != AwaitingPresences) throw new InvariantViolation($"--signaling xmpp: {AwaitingPresences} sessions counted awaiting presences, {awaiting} are");
        if (views != ViewsScheduled) throw new InvariantViolation($"--signaling xmpp: {ViewsScheduled} views counted as scheduled, {views} are");
        if (offline != LiveOffline) throw new InvariantViolation($"--signaling xmpp: {LiveOffline} live sessions counted offline, {offline} are");
        if (InFlight < 0 || PresencesInFlight < 0 || ClosesInFlight < 0 || AwaitingPresences < 0)
            throw new InvariantViolation("--signaling xmpp: a negative count of events, presences or closes in flight or of unanswered presences");
        _server.CheckInvariants();
    }
}
