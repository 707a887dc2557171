// The discrete-event engine: virtual time jumps to the next event; every simulated node is one
// EdgeNode driven through the sans-IO contract (Handle, then drain outputs, then re-arm its one
// wake-up from PollTimeout). The virtual signaling service relays presence and messages with
// latency (with LinkModel.Ice, messages as the real node's signal text, SignalCodec), or, with
// SignalingModel.Xmpp, every node runs the real XMPP client session against a stanza-level
// virtual XMPP server (XmppSignalingLayer); the link
// fabric models transports, or, with LinkModel.Ice, the IceLinkLayer runs the real ICE agent of
// every link end through virtual NATs and STUN/TURN servers, and the link comes up when both
// agents connected. Same parameters (seed included) → same sequence of events → same TraceHash,
// byte for byte; an optional trace writer prints every event.
// Single-threaded by design; nothing here reads a clock.
using System.Globalization;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Sim.Faults;
using EdgeVpn.Sim.IceLinks;
using EdgeVpn.Sim.Net;
using EdgeVpn.Sim.XmppSignaling;

namespace EdgeVpn.Sim;

/// <summary>Progress callbacks for long runs (the command line draws a bar from them).</summary>
public interface ISimProgress
{
    void Report(Instant now, long events, string phase);
}

public sealed class Simulation : IIceLinkHost, IXmppHost
{
    private const string SimFingerprint = "sha-256 simulated";
    private const string SimEndpoint = "simulated-candidates";
    private const int ProgressEveryEvents = 1 << 16;

    private readonly EventQueue _queue = new();
    private readonly LatencyModel _latency;
    private readonly SimNode[] _nodes;
    private readonly NodeIndexMap _indexOf;
    private readonly LinkFabric _fabric = new();
    private readonly DeterministicRandom _nodeSeeds;
    private readonly EdgeNodeConfig _nodeConfig;
    private readonly Roster _roster;
    private readonly TextWriter? _trace;
    private readonly int _checkEvery;
    private long _nowNs;
    private ulong _traceHash = 14695981039346656037UL;
    private long _viewVersion;
    private bool _publishScheduled;
    private long _presenceInFlight;
    private int _joinsPending;
    private long _teardownsInFlight; // TransportDown events not yet delivered: the overlay is still changing
    private int _unstable;
    private readonly DeterministicRandom _faultRandom;
    private bool _signalingDown;
    private bool _publishWhenUp;   // a roster change happened while the signaling server was down
    private readonly bool _lookup;             // Topology.Membership == Lookup
    private readonly DeterministicRandom _bootstrapRandom;
    private bool _ringOk;                      // lookup mode: the last periodic ring check passed...
    private long _linkChangesAtRingCheck = -1; // ...and no link changed since
    private bool _ringChecksScheduled;
    private static readonly TimeSpan RingCheckPeriod = TimeSpan.FromSeconds(5);
    private const long JoinRetryDelayNs = 1_000_000_000;
    private readonly byte[]? _natOf;          // node -> index into Parameters.NatMix.Entries (null: all public)
    private readonly IcePath[]? _natOutcome;  // [natA * entries + natB] -> what ICE achieves between them
    private readonly IceLinkLayer? _ice;      // LinkModel.Ice: the packet-level link ends
    private readonly XmppSignalingLayer? _xmpp;  // SignalingModel.Xmpp: the stanza-level signaling server

    public SimParameters Parameters { get; }
    public SimStats Stats { get; } = new();
    public ISimProgress? Progress { get; set; }
    public string Phase { get; set; } = "run";
    /// <summary>Loss, duplication, partitions and latency spikes of the data plane (see NetworkConditions).</summary>
    public NetworkConditions Conditions { get; } = new();
    /// <summary>The last events of every node, when SimParameters.RecentEventsPerNode > 0.</summary>
    public RecentEvents? Recent { get; }

    /// <summary>Every observation a node reports (link events, flood deliveries, drops, errors).</summary>
    public Action<int, NodeEvent>? Observer { get; set; }
    /// <summary>Frames a node delivers to its local tap (the experiment's virtual hosts answer them).</summary>
    public Action<int, byte[]>? LocalDelivery { get; set; }
    /// <summary>Every frame delivered over a link: (receiving node, sending node, frame).</summary>
    public Action<int, int, byte[]>? LinkFrameTap { get; set; }
    /// <summary>Frames scheduled on links or from taps and not yet processed.</summary>
    public long FramesInFlight { get; private set; }

    public Simulation(SimParameters parameters, TextWriter? trace = null)
    {
        if (parameters.Validate() is { } problem) throw new ArgumentException(problem, nameof(parameters));
        Parameters = parameters;
        _trace = trace;
        _checkEvery = parameters.InvariantCheckEvery;
        var master = new DeterministicRandom(parameters.Seed);
        _latency = new LatencyModel(parameters.Nodes, master.Fork("latency"), parameters.BaseLatency, parameters.SpanLatency);
        _nodeSeeds = master.Fork("nodes");
        _faultRandom = master.Fork("faults");
        _lookup = parameters.Topology.Membership == Protocol.Topology.MembershipMode.Lookup;
        _bootstrapRandom = master.Fork("bootstrap");
        if (!parameters.NatMix.IsAllPublic)
        {
            var mix = parameters.NatMix.Entries;
            var natRandom = master.Fork("nat");
            _natOf = new byte[parameters.Nodes];
            for (int i = 0; i < _natOf.Length; i++) _natOf[i] = (byte)parameters.NatMix.Draw(natRandom);
            _natOutcome = new IcePath[mix.Count * mix.Count];
            for (int a = 0; a < mix.Count; a++)
                for (int b = 0; b < mix.Count; b++)
                    _natOutcome[a * mix.Count + b] = NatPrediction.Predict(mix[a].Behaviour, mix[b].Behaviour, parameters.TurnServer);
        }
        if (parameters.LinkModel == LinkModel.Ice)
            _ice = new IceLinkLayer(parameters, i => parameters.NatMix.Entries[_natOf is null ? 0 : _natOf[i]].Behaviour, master.Fork("ice"), this);
        if (parameters.Signaling == SignalingModel.Xmpp) _xmpp = new XmppSignalingLayer(parameters, master.Fork("xmpp"), Stats, this);
        if (parameters.RecentEventsPerNode > 0) Recent = new RecentEvents(parameters.Nodes, parameters.RecentEventsPerNode);
        _nodeConfig = new EdgeNodeConfig
        {
            Topology = parameters.Topology,
            Links = parameters.Links,
            FloodHopsMax = parameters.FloodHopsMax,
        };

        var ids = master.Fork("node-ids");
        _nodes = new SimNode[parameters.Nodes];
        _roster = new Roster(parameters.Nodes);
        _indexOf = new NodeIndexMap(parameters.Nodes);
        for (int i = 0; i < parameters.Nodes; i++)
        {
            NodeId id;
            do id = new NodeId(ids.NextUInt128()); while (_indexOf.ContainsKey(id));
            _nodes[i] = new SimNode(i, id);
            _indexOf.Add(id, i, _latency.PointOf(i));
        }

        var joins = master.Fork("joins");
        long windowNs = parameters.JoinWindow.Ticks * 100;
        for (int i = 0; i < parameters.Nodes; i++)
        {
            long at = windowNs == 0 ? 0 : (long)(joins.NextDouble() * windowNs);
            Push(at, new SimEvent(EventKind.Join, i, -1, 0, null));
        }
        _joinsPending = parameters.Nodes;
    }

    public Instant Now => new(_nowNs);
    /// <summary>Live nodes that still want links they do not have (0 when converged).</summary>
    public int UnstableNodes => _unstable;
    /// <summary>Lookup membership: whether the last periodic ring check found no violation.</summary>
    public bool RingOk => _ringOk;
    public IReadOnlyList<SimNode> Nodes => _nodes;
    public ulong TraceHash => _traceHash;
    public int LiveLinksInFabric => _fabric.Count;
    /// <summary>Up links that go through the TURN server (counted on demand).</summary>
    public int RelayedLinks => _fabric.CountRelayedUp();
    /// <summary>--links ice: datagrams the agents and servers sent, and those a NAT or the fabric dropped.</summary>
    public long IceDatagramsSent => _ice?.DatagramsSent ?? 0;
    public long IceDatagramsDropped => _ice?.DatagramsDropped ?? 0;
    /// <summary>--links ice: datagrams that carried link frames (each leg of a relayed one).</summary>
    public long IceFrameDatagrams => _ice?.FrameDatagramsSent ?? 0;
    /// <summary>--links ice: DTLS handshakes finished (counted at each end), flights sent again, handshakes given up.</summary>
    public (long Done, long Retransmits, long Failures) IceDtls => _ice is null ? default : (_ice.DtlsHandshakesDone, _ice.DtlsRetransmits, _ice.DtlsFailures);
    /// <summary>--links ice: link ends holding an ICE agent (0 in modeled mode).</summary>
    public int IceLinkEnds => _ice?.Ends ?? 0;
    public bool TryIndexOf(NodeId id, out int index) => _indexOf.TryGetValue(id, out index);
    /// <summary>--signaling xmpp: the virtual XMPP server (null with the modeled signaling service).</summary>
    public Servers.VirtualXmppServer? XmppServer => _xmpp?.Server;
    /// <summary>--signaling xmpp: checks every session, the server and the layer's counts (O(n): for tests and checkers).</summary>
    public void CheckSignalingInvariants() => _xmpp?.CheckInvariants();
    /// <summary>--signaling xmpp: whether the node's XMPP session is online (always true with the modeled service).</summary>
    public bool SignalingOnline(int node) => _xmpp?.IsOnline(node) ?? _nodes[node].Alive;

    /// <summary>All nodes joined, the last roster delivered, and every node has all the links it wants.</summary>
    /// <remarks>Also waits for links a crashed node left half open: until the surviving end notices,
    /// it believes in a link that carries nothing.</remarks>
    public bool IsConverged => _joinsPending == 0 && !_publishScheduled && !_publishWhenUp && _presenceInFlight == 0
        && _unstable == 0 && _teardownsInFlight == 0 && _fabric.HalfOpen == 0 && _fabric.SilencedCount == 0
        && (!_lookup || _ringOk && Stats.LinksUp + Stats.LinksDown == _linkChangesAtRingCheck)
        && (_xmpp is null || _xmpp.Settled);

    /// <summary>Which of IsConverged's conditions do not hold now (empty when converged): for reports.</summary>
    public IReadOnlyList<string> NotConvergedBecause()
    {
        var why = new List<string>();
        if (_joinsPending != 0) why.Add($"{_joinsPending} joins pending");
        if (_publishScheduled || _publishWhenUp) why.Add("a roster publication pending");
        if (_presenceInFlight != 0) why.Add($"{_presenceInFlight} roster views in flight");
        if (_unstable != 0) why.Add($"{_unstable} unstable nodes");
        if (_teardownsInFlight != 0) why.Add($"{_teardownsInFlight} teardowns in flight");
        if (_fabric.HalfOpen != 0) why.Add($"{_fabric.HalfOpen} half-open links");
        if (_fabric.SilencedCount != 0) why.Add($"{_fabric.SilencedCount} silenced links");
        if (_lookup && !_ringOk) why.Add("the last ring check failed");
        else if (_lookup && Stats.LinksUp + Stats.LinksDown != _linkChangesAtRingCheck) why.Add("links changed since the last ring check");
        if (_xmpp?.Unsettled() is { } signaling) why.Add("signaling: " + signaling);
        return why;
    }

    /// <summary>The signaling server is down: messages between nodes are lost and roster changes wait.
    /// Setting it back to false republishes the roster (clients reconnect and get it).</summary>
    public bool SignalingDown
    {
        get => _signalingDown;
        set
        {
            if (_signalingDown == value) return;
            _signalingDown = value;
            _xmpp?.SetDown(value);
            if (!value && _publishWhenUp) { _publishWhenUp = false; SchedulePublish(); }
        }
    }

    /// <summary>Links whose one end crashed and whose other end has not noticed yet.</summary>
    public int HalfOpenLinks => _fabric.HalfOpen;

    /// <summary>Links whose NAT mapping was lost and whose ends have not torn them down yet.</summary>
    public int SilencedLinks => _fabric.SilencedCount;

    /// <summary>Whether the loop asks the CPU to preload the state of the next few events (see
    /// CacheHint): a quarter to a third less wall time from 10k to 1M nodes. Never changes a run's
    /// events or trace.</summary>
    public bool CacheHints { get; set; } = true;

    /// <summary>Runs events until stop() holds (checked after each event) or virtual time passes the deadline. True if stopped by stop().</summary>
    public bool RunUntil(Func<bool> stop, Instant deadline)
    {
        if (stop()) return true;
        while (_queue.PeekTime <= deadline.Nanoseconds && _queue.TryPop(out long t, out var e))
        {
            _nowNs = t;
            if (CacheHints) HintAhead();
            Process(e);
            if (stop()) return true;
        }
        if (_queue.Count == 0 || _queue.PeekTime > deadline.Nanoseconds) _nowNs = Math.Max(_nowNs, Math.Min(deadline.Nanoseconds, _nowNs));
        return stop();
    }

    // A pipeline of cache hints over the next events (see CacheHint): each step reads only what an
    // earlier step asked to load. The event slot eight pops ahead; the node table's entries of the
    // event six ahead; the SimNodes (and the coordinates: the node sends the outputs, whose latency
    // reads them) of the event four ahead; its protocol node three ahead; that node's machines two
    // ahead; their tables, the payload and the fabric slot one and two ahead.
    private void HintAhead()
    {
        var warmer = new CacheHint.Warmer();
        _queue.HintRun(8);
        if (_queue.TryPeekRun(6, out var e6))
        {
            if ((uint)e6.Node < (uint)_nodes.Length) CacheHint.Element(ref _nodes[e6.Node]);
            if ((uint)e6.From < (uint)_nodes.Length) CacheHint.Element(ref _nodes[e6.From]);
        }
        if (_queue.TryPeekRun(4, out var e4))
        {
            if ((uint)e4.Node < (uint)_nodes.Length) { CacheHint.Object(_nodes[e4.Node], 64); _latency.Hint(e4.Node); }
            if ((uint)e4.From < (uint)_nodes.Length) CacheHint.Object(_nodes[e4.From], 64);
        }
        if (_queue.TryPeekRun(3, out var e3) && (uint)e3.Node < (uint)_nodes.Length)
            CacheHint.Object(_nodes[e3.Node].Node, 128);
        if (_queue.TryPeekRun(2, out var e2))
        {
            CacheHint.Object(e2.Payload, 128);
            _fabric.Hint(e2.Link);
            if ((uint)e2.Node < (uint)_nodes.Length) _nodes[e2.Node].Node?.NameHotState(ref warmer, 0);
        }
        if (_queue.TryPeekRun(1, out var e1) && (uint)e1.Node < (uint)_nodes.Length)
            _nodes[e1.Node].Node?.NameHotState(ref warmer, 1);
    }

    /// <summary>Runs every event up to and including the given instant.</summary>
    public void RunFor(TimeSpan duration)
    {
        long end = _nowNs + duration.Ticks * 100;
        RunUntil(() => false, new Instant(end));
        _nowNs = end;
    }

    /// <summary>Schedules a frame from node's local tap, now.</summary>
    public void InjectLocalFrame(int node, byte[] frame)
    {
        FramesInFlight++;
        Push(_nowNs, new SimEvent(EventKind.LocalFrame, node, -1, 0, frame));
    }

    /// <summary>Schedules a graceful leave of the node, now: it closes its links and leaves the roster.</summary>
    public void Leave(int node) => Push(_nowNs, new SimEvent(EventKind.Leave, node, -1, 0, null));

    /// <summary>Schedules a crash of the node, now: it stops without a word; the server drops it from
    /// the roster CrashDetection later; peers find out through their own timeouts.</summary>
    public void Crash(int node) => Push(_nowNs, new SimEvent(EventKind.Crash, node, -1, 0, null));

    /// <summary>Schedules a restart, now, of a node that crashed or left: same id, fresh state.</summary>
    public void Restart(int node) => Push(_nowNs, new SimEvent(EventKind.Restart, node, -1, 0, null));

    /// <summary>The NAT in front of the node loses its mappings (expiry or a rebinding, e.g. a NAT
    /// reboot or an address change): every up link of the node stops carrying datagrams both ways
    /// until its ends notice. Nothing happens for a public node. Returns the links silenced.</summary>
    public int ExpireNatMappings(int node)
    {
        var n = _nodes[node];
        if (!n.Alive || n.Node is null || _natOf is null || Parameters.NatMix.Entries[_natOf[node]].Behaviour.Public) return 0;
        if (_ice is not null)
        {
            // At packet level the box really forgets its mappings; consent freshness decides which links die.
            _ice.ExpireNat(node);
            Stats.NatExpiries++;
            return 0;
        }
        int silenced = 0;
        foreach (var link in n.Node.Links.Snapshot())
            if (_fabric.Silence(link.Link.Value)) silenced++;
        Stats.NatExpiries++;
        return silenced;
    }

    /// <summary>Runs an experiment's scripted step (a fault, a repair) at the given virtual time.</summary>
    public void At(Instant when, Action step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (when.Nanoseconds < _nowNs) throw new ArgumentOutOfRangeException(nameof(when), when, $"in the past (now {Now})");
        Push(when.Nanoseconds, new SimEvent(EventKind.Script, -1, -1, 0, step));
    }

    // ---- the loop ----

    private void Push(long timeNs, in SimEvent e) => _queue.Push(timeNs, e);

    private void Process(in SimEvent e)
    {
        Stats.Events++;
        Stats.EventsByKind[(int)e.Kind]++;
        _traceHash = StableHash.Combine(StableHash.Combine(StableHash.Combine(_traceHash, (ulong)_nowNs), (ulong)e.Kind | ((ulong)(uint)e.Node << 8) | ((ulong)(uint)e.From << 36)), e.Link);
        _trace?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_nowNs} {e.Kind} n={e.Node} from={e.From} link={e.Link:x16}"));
        if ((Stats.Events & (ProgressEveryEvents - 1)) == 0) Progress?.Report(Now, Stats.Events, Phase);
        Recent?.Processed(e.Node, _nowNs, e.Kind, e.From, e.Link);

        // Link inputs go to the node's typed entry points: no input record per event.
        switch (e.Kind)
        {
            case EventKind.Join: Join(e.Node); return;
            case EventKind.PresencePublish: PublishPresence(); return;
            case EventKind.PresenceDeliver:
                _presenceInFlight--;
                Deliver(e.Node, new NodeInput.Presence((MembershipView)e.Payload!));
                return;
            case EventKind.Wake: Wake(e.Node); return;
            case EventKind.Signal:
                Stats.SignalMessages++;
                if (LiveNode(e.Node) is { } signalled && SignalOf(e) is { } signal) { signalled.Node!.HandleSignal(Now, _nodes[e.From].Id, signal); AfterInput(signalled); }
                return;
            case EventKind.EndpointPrepared:
                if (LiveNode(e.Node) is { } prepared) { prepared.Node!.HandleEndpointPrepared(Now, new LinkId(e.Link), SimEndpoint); AfterInput(prepared); }
                return;
            case EventKind.TransportUp:
                if (_fabric.IsUpAndOpen(e.Link) && LiveNode(e.Node) is { } up) { up.Node!.HandleTransportUp(Now, new LinkId(e.Link)); AfterInput(up); }
                return;
            case EventKind.TransportDown:
                _teardownsInFlight--;
                // The transport is gone at this end too: free the fabric's slot (it used to stay,
                // half closed, for the rest of the run: one leaked slot per link ever torn down).
                _fabric.Close(e.Link, e.Node);
                _ice?.Close(e.Node, e.Link);
                if (LiveNode(e.Node) is { } down) { down.Node!.HandleTransportDown(Now, new LinkId(e.Link)); AfterInput(down); }
                return;
            case EventKind.LinkFrame:
                FramesInFlight--;
                if (_fabric.IsOpenAt(e.Link, e.Node))
                {
                    LinkFrameTap?.Invoke(e.Node, e.From, (byte[])e.Payload!);
                    Deliver(e.Node, new NodeInput.LinkFrame(new LinkId(e.Link), (byte[])e.Payload!));
                }
                return;
            case EventKind.KeepAlive:
                Stats.KeepAlives++;
                if (_fabric.IsOpenAt(e.Link, e.Node) && LiveNode(e.Node) is { } kept) { kept.Node!.HandleKeepAlive(Now, new LinkId(e.Link)); AfterInput(kept); }
                return;
            case EventKind.LocalFrame:
                FramesInFlight--;
                Deliver(e.Node, new NodeInput.LocalFrame((byte[])e.Payload!));
                return;
            case EventKind.Leave:
                Depart(e.Node);
                return;
            case EventKind.Crash: CrashNow(e.Node); return;
            case EventKind.Restart: RestartNow(e.Node); return;
            case EventKind.Bootstrap: Rebootstrap(e.Node); return;
            case EventKind.RosterDrop:
                if (_nodes[e.Node] is { Crashed: true } crashed && (ulong)crashed.Incarnation == e.Link && _roster.Remove(e.Node))
                {
                    Stats.PresenceStanzas += _roster.Count;
                    SchedulePublish();
                }
                return;
            case EventKind.Script:
                ((Action)e.Payload!)();
                return;
            case EventKind.Membership:
                // Straight to the machine: no NodeInput record per lookup hop (see EdgeNode.HandleMembership).
                if (LiveNode(e.Node) is { } to && MembershipOf(e) is { } message)
                {
                    to.Node!.HandleMembership(Now, _nodes[e.From].Id, message);
                    AfterInput(to);
                }
                return;
            case EventKind.IceDatagram: _ice!.OnDatagram(e); return;
            case EventKind.IceWake: _ice!.OnWake(e); return;
            case EventKind.IceNotify: OnIceNotice((IceNotice)e.Payload!); return;
            case EventKind.XmppToServer: _xmpp!.OnToServer(e); return;
            case EventKind.XmppToClient: _xmpp!.OnToClient(e); return;
            case EventKind.XmppWake: _xmpp!.OnWake(e); return;
        }
    }

    private void Join(int index)
    {
        var n = _nodes[index];
        _joinsPending--;
        n.Node = new EdgeNode(n.Id, _nodeConfig, _nodeSeeds.Fork((ulong)index), SimFingerprint);
        n.Joined = true;
        n.Alive = true;
        n.Stable = true;
        if (_xmpp is not null)
        {
            // The node logs in; members and (lookup) the member to join through come with presence.
            _xmpp.Start(index, n.Incarnation, n.Id);
            if (_lookup) ScheduleRingChecks();
            AfterInput(n);
            return;
        }
        if (_lookup)
        {
            // Symphony's join: the signaling server names any online member to join through.
            NodeId? bootstrap = PickBootstrap(index);
            _roster.Add(index);
            ScheduleRingChecks();
            Deliver(index, new NodeInput.Bootstrap(bootstrap));
            return;
        }
        Stats.PresenceStanzas += 2L * _roster.Count;
        _roster.Add(index);
        SchedulePublish();
        AfterInput(n);
    }

    private void Depart(int index)
    {
        var n = _nodes[index];
        if (!n.Alive) return;
        Deliver(index, new NodeInput.Leave());
        _xmpp?.Leave(index);   // after the node's goodbyes: they go out before the session's
        n.Alive = false;
        if (_roster.Remove(index) && !_lookup) Stats.PresenceStanzas += _roster.Count;
        if (!n.Stable) { n.Stable = true; _unstable--; }
        SchedulePublish();
    }

    private void CrashNow(int index)
    {
        var n = _nodes[index];
        if (!n.Alive) return;
        Stats.Crashes++;
        foreach (var link in n.Node!.Links.Snapshot()) _fabric.Abandon(link.Link.Value, index);
        _ice?.Crash(index);
        n.Alive = false;
        n.Crashed = true;
        n.Node = null;
        n.NextWakeNs = long.MaxValue;
        if (!n.Stable) { n.Stable = true; _unstable--; }
        if (_xmpp is not null) { _xmpp.Crash(index); return; }   // the server sees the stream die CrashDetection later
        Push(_nowNs + Parameters.CrashDetection.Ticks * 100, new SimEvent(EventKind.RosterDrop, index, -1, (ulong)n.Incarnation, null));
    }

    /// <summary>Lookup mode: joins again through another member named by the signaling server.</summary>
    private void Rebootstrap(int index)
    {
        var n = _nodes[index];
        if (_xmpp is not null)
        {
            // From the node's own roster, once it has one (else when its login brings the members).
            if (n.Alive && _xmpp.WantBootstrap(index)) BootstrapFromRoster(index);
            return;
        }
        if (!n.Alive) return;
        // A member alone has nobody to ask for an introducer; a joiner alone starts the ring (PickBootstrap: null).
        if (_roster.Count < 2 && IsMember(index)) return;
        Deliver(index, new NodeInput.Bootstrap(PickBootstrap(index)));
    }

    void IXmppHost.BootstrapFromRoster(int node) => BootstrapFromRoster(node);

    // A member asks for an introducer: its failed joins are history (BootstrapChoice would let the lowest id "start alone").
    private void BootstrapFromRoster(int index) => Deliver(index, new NodeInput.Bootstrap(
        _xmpp!.PickBootstrap(index, _nodes[index].Node?.MembershipPhaseNow == Protocol.Membership.MembershipPhase.Member, _bootstrapRandom)));

    /// <summary>The member the signaling server names to join through: a random online node that
    /// has finished its own join (a node announces itself as a member once it is one, so a joiner
    /// is not sent to another joiner that cannot answer yet); any online node when a few draws
    /// find none. Null when no other node is online, and, as BootstrapChoice has it for the real
    /// node, when no other online node is a member, this one has the lowest id online and its last
    /// joins failed through non-members: the ring is gone (every member crashed or left) and the
    /// joiners would otherwise go through each other for ever (vopr seed 989, lookup membership).</summary>
    private NodeId? PickBootstrap(int self)
    {
        const int DrawsMax = 16;
        if (_roster.Count == 0 || _roster.Count == 1 && _roster[0] == self) return null;
        int fallback = -1;
        for (int draw = 0; draw < DrawsMax; draw++)
        {
            int pick = _roster[_bootstrapRandom.NextInt(_roster.Count)];
            if (pick == self) continue;
            if (IsMember(pick)) return _nodes[pick].Id;
            if (fallback < 0) fallback = pick;
        }
        // Only when the draws found no member: the scan stops at the first member, and draws no number.
        if (_nodes[self].NotJoinedFailures >= Protocol.Membership.BootstrapChoice.NotJoinedFailuresToStart && NoOtherMemberAndLowest(self)) return null;
        if (fallback < 0) do fallback = _roster[_bootstrapRandom.NextInt(_roster.Count)]; while (fallback == self);
        return _nodes[fallback].Id;
    }

    private bool IsMember(int node) => _nodes[node].Node?.MembershipPhaseNow == Protocol.Membership.MembershipPhase.Member;

    /// <summary>No other online node is a member, and self has the lowest id of those online.</summary>
    private bool NoOtherMemberAndLowest(int self)
    {
        bool lowest = true;
        foreach (int other in _roster.InOrder())
        {
            if (other == self) continue;
            if (IsMember(other)) return false;
            if (_nodes[other].Id < _nodes[self].Id) lowest = false;
        }
        return lowest;
    }

    private void RestartNow(int index)
    {
        var n = _nodes[index];
        if (n.Alive || !n.Joined) return;
        Stats.Restarts++;
        n.Incarnation++;
        n.NotJoinedFailures = 0;
        n.Crashed = false;
        n.Node = new EdgeNode(n.Id, _nodeConfig, _nodeSeeds.Fork((ulong)index).Fork((ulong)n.Incarnation), SimFingerprint);
        n.Alive = true;
        n.Stable = true;
        n.NextWakeNs = long.MaxValue;
        if (_xmpp is not null)
        {
            _xmpp.Start(index, n.Incarnation, n.Id);
            AfterInput(n);
            return;
        }
        // A new session: the roster comes to it and its presence goes to every other member.
        if (_lookup)
        {
            _roster.Remove(index);
            NodeId? bootstrap = PickBootstrap(index);
            _roster.Add(index);
            Deliver(index, new NodeInput.Bootstrap(bootstrap));
            return;
        }
        if (!_roster.Contains(index)) { Stats.PresenceStanzas += 2L * _roster.Count; _roster.Add(index); }
        else Stats.PresenceStanzas += 2L * (_roster.Count - 1);
        SchedulePublish();
        AfterInput(n);
    }

    /// <summary>Lookup mode has no roster views to wait for: convergence includes a ring check,
    /// run every RingCheckPeriod (O(n log n), so not after every event).</summary>
    private void ScheduleRingChecks()
    {
        if (_ringChecksScheduled) return;
        _ringChecksScheduled = true;
        void Check()
        {
            Checkers.RingChecker.Check(this, Parameters.Topology.SuccessorsMin, out int violations);
            _ringOk = violations == 0;
            _linkChangesAtRingCheck = Stats.LinksUp + Stats.LinksDown;
            At(Now + RingCheckPeriod, Check);
        }
        At(Now + RingCheckPeriod, Check);
    }

    private void SchedulePublish()
    {
        if (_lookup) return; // no presence views: members find each other by lookups
        if (_xmpp is not null) return; // each node's views come from its own XMPP session
        if (_publishScheduled) return;
        _publishScheduled = true;
        long period = Parameters.PresenceInterval.Ticks * 100;
        long at = (_nowNs / period + 1) * period;
        Push(at, new SimEvent(EventKind.PresencePublish, -1, -1, 0, null));
    }

    private void PublishPresence()
    {
        _publishScheduled = false;
        if (_signalingDown) { _publishWhenUp = true; return; }
        var ids = new NodeId[_roster.Count];
        int at = 0;
        foreach (int member in _roster.InOrder()) ids[at++] = _nodes[member].Id;
        var view = new MembershipView(ids, ++_viewVersion);
        foreach (int member in _roster.InOrder())
        {
            _presenceInFlight++;
            Stats.PresenceDeliveries++;
            Push(_nowNs + _latency.ToServerNs(member), new SimEvent(EventKind.PresenceDeliver, member, -1, 0, view));
        }
    }

    private void Wake(int index)
    {
        var n = _nodes[index];
        if (!n.Alive || n.NextWakeNs != _nowNs) return; // superseded by an earlier wake-up
        n.NextWakeNs = long.MaxValue;
        n.Node!.HandleTimeout(Now);
        AfterInput(n);
    }

    private void Deliver(int index, NodeInput input)
    {
        if (LiveNode(index) is not { } n) return;
        n.Node!.Handle(Now, input);
        AfterInput(n);
    }

    /// <summary>The node if it is alive (inputs to a crashed or departed node are lost), else null.</summary>
    private SimNode? LiveNode(int index)
    {
        var n = _nodes[index];
        return n.Alive ? n : null;
    }

    private void AfterInput(SimNode n)
    {
        var node = n.Node!;
        while (node.TryPollOutput(out var output)) Dispatch(n, output);
        if (_checkEvery == 1 || Stats.Events % _checkEvery == 0)
        {
            try { node.CheckInvariants(); }
            catch (InvariantViolation v) { throw new SimInvariantViolation(n.Index, Now, v.Message); }
        }

        if (node.PollTimeout() is { } t)
        {
            long at = Math.Max(t.Nanoseconds, _nowNs);
            if (at < n.NextWakeNs)
            {
                n.NextWakeNs = at;
                Push(at, new SimEvent(EventKind.Wake, n.Index, -1, 0, null));
            }
        }

        bool stable = node.IsStable;
        if (stable != n.Stable)
        {
            n.Stable = stable;
            _unstable += stable ? -1 : 1;
        }
    }

    private void Dispatch(SimNode n, NodeOutput output)
    {
        int i = n.Index;
        switch (output)
        {
            case NodeOutput.SendSignal s:
            {
                if (_xmpp is not null) { _xmpp.Send(i, s); return; }
                if (!_indexOf.TryGetValue(s.To, out int to, out var toPoint)) { Stats.Drops++; return; }
                if (_signalingDown) { Stats.SignalsLost++; return; }
                long delay = _latency.ToServerNs(i) + _latency.ToServerNs(toPoint);
                Push(_nowNs + delay, new SimEvent(EventKind.Signal, to, i, s.Message.Link.Value, OnSignalingWire(s.Message)));
                return;
            }
            case NodeOutput.PrepareEndpoint p:
            {
                if (!_indexOf.TryGetValue(p.Peer, out int peer)) return;
                _fabric.Attach(p.Link.Value, i, peer);
                if (_ice is not null) { _ice.Prepare(i, n.Incarnation, p.Link.Value, peer, p.Role); return; }
                long gather = 2L * Parameters.EffectiveGatherRoundTrips * _latency.ToServerNs(i);
                Stats.GatherTimes.Add(gather);
                Push(_nowNs + gather, new SimEvent(EventKind.EndpointPrepared, i, -1, p.Link.Value, null));
                return;
            }
            case NodeOutput.ConnectTransport c:
            {
                if (c.Role == IceRole.Controlling) _fabric.StartSetupTimer(c.Link.Value, _nowNs);
                if (_ice is not null)
                {
                    if (!_ice.Connect(i, c.Link.Value, c.RemoteEndpoint, out string? error) && error is not null)
                    {
                        // A malformed endpoint from signaling: the agent never learns the peer; the setup times out.
                        Stats.ProtocolErrors++;
                        Observer?.Invoke(i, new NodeEvent.Error(new ProtocolError("IceLinkLayer", "Connecting", "ConnectTransport", error)));
                    }
                    return;
                }
                if (_fabric.Connect(c.Link.Value, i, out int a, out int b))
                {
                    // ICE needs datagrams both ways: through a partition the checks fail and the
                    // transport never comes up (both ends time out).
                    if (Conditions.Blocks(a, b) || Conditions.Blocks(b, a)) return;
                    var path = NatPathOf(a, b);
                    if (path == IcePath.Fails) { Stats.NatFailedSetups++; return; } // both ends time out, as ICE would fail
                    if (path == IcePath.Relayed) { Stats.RelayedSetups++; _fabric.MarkRelayed(c.Link.Value); }
                    long setup = 2L * Parameters.SetupRoundTrips * (path == IcePath.Relayed ? RelayNs(a, b) : PathNs(a, b));
                    int controlled = c.Role == IceRole.Controlled ? i : i == a ? b : a;
                    if (!IsPublic(controlled)) setup += Parameters.NominationWait.Ticks * 100;   // see SimParameters.NominationWait
                    if (_fabric.TakeSetupStart(c.Link.Value, out long started)) Stats.SetupTimes.Add(_nowNs + setup - started);
                    Push(_nowNs + setup, new SimEvent(EventKind.TransportUp, a, b, c.Link.Value, null));
                    Push(_nowNs + setup, new SimEvent(EventKind.TransportUp, b, a, c.Link.Value, null));
                }
                return;
            }
            case NodeOutput.CloseTransport c:
            {
                _fabric.TakeSetupStart(c.Link.Value, out _);
                if (_ice?.Close(i, c.Link.Value) is { } closed) RecordIceFailure(closed);
                int other = _fabric.Close(c.Link.Value, i);
                if (other >= 0)
                {
                    _teardownsInFlight++;
                    Push(_nowNs + PathNs(i, other), new SimEvent(EventKind.TransportDown, other, i, c.Link.Value, null));
                }
                return;
            }
            case NodeOutput.SendKeepAlive k:
            {
                if (_ice is not null) { _ice.SendData(i, k.Link.Value, null); return; }   // at packet level, through the NATs
                var kPath = _fabric.PathOf(k.Link.Value, i, out int other);
                if (kPath == LinkPath.Silenced) { Stats.DatagramsLost++; return; }
                if (kPath != LinkPath.None)
                {
                    int copies = Datagrams(i, other);
                    long ns = kPath == LinkPath.Relayed ? RelayNs(i, other) : PathNs(i, other);
                    for (int c = 0; c < copies; c++)
                        Push(_nowNs + ns * (c + 1), new SimEvent(EventKind.KeepAlive, other, i, k.Link.Value, null));
                }
                return;
            }
            case NodeOutput.SendOnLink f:
            {
                if (_ice is not null)
                {
                    // At packet level: the agent's selected pair, through the NAT boxes or the relay.
                    if (_ice.SendData(i, f.Link.Value, f.Frame)) Stats.LinkFrames++;
                    else Stats.Drops++;
                    return;
                }
                var fPath = _fabric.PathOf(f.Link.Value, i, out int other);
                if (fPath == LinkPath.Silenced) { Stats.LinkFrames++; Stats.DatagramsLost++; return; }
                if (fPath != LinkPath.None)
                {
                    Stats.LinkFrames++;
                    int copies = Datagrams(i, other);
                    long ns = fPath == LinkPath.Relayed ? RelayNs(i, other) : PathNs(i, other);
                    for (int c = 0; c < copies; c++)
                    {
                        FramesInFlight++;
                        Push(_nowNs + ns * (c + 1), new SimEvent(EventKind.LinkFrame, other, i, f.Link.Value, f.Frame));
                    }
                }
                else Stats.Drops++;
                return;
            }
            case NodeOutput.SendMembership m:
            {
                if (!_indexOf.TryGetValue(m.To, out int to, out var toPoint)) { Stats.Drops++; return; }
                Stats.MembershipMessages++;
                CountMembership(m.Message);
                long delay;
                if (m.ViaSignaling)
                {
                    Stats.MembershipViaSignaling++;
                    if (_xmpp is not null) { _xmpp.Send(i, m); return; }
                    if (_signalingDown) { Stats.SignalsLost++; return; }
                    delay = _latency.ToServerNs(i) + _latency.ToServerNs(toPoint);
                }
                else
                {
                    if (Datagrams(i, to) == 0) return; // over the link: loss and partitions apply
                    delay = PathNs(i, toPoint);
                }
                Push(_nowNs + delay, new SimEvent(EventKind.Membership, to, i, 0, m.ViaSignaling ? OnSignalingWire(m.Message) : m.Message));
                return;
            }
            case NodeOutput.DeliverLocal d:
                LocalDelivery?.Invoke(i, d.Frame);
                return;
            case NodeOutput.Observed { Event: NodeEvent.JoinFailed failed } jf:
                // The member it joined through could not place it (e.g. still joining itself):
                // the signaling server names another one a moment later.
                Stats.JoinRetries++;
                if (_xmpp is not null) _xmpp.JoinFailed(i, failed.BootstrapNotMember);
                else _nodes[i].NotJoinedFailures = failed.BootstrapNotMember ? _nodes[i].NotJoinedFailures + 1 : 0;
                Recent?.Reported(i, _nowNs, jf.Event);
                Observer?.Invoke(i, jf.Event);
                Push(_nowNs + JoinRetryDelayNs, new SimEvent(EventKind.Bootstrap, i, -1, 0, null));
                return;
            case NodeOutput.Observed { Event: NodeEvent.IntroducerWanted } iw:
                // The signaling server answers with a random online member one round trip later
                // (lost while the server is down: the node then checks through a neighbour).
                Recent?.Reported(i, _nowNs, iw.Event);
                Observer?.Invoke(i, iw.Event);
                if (!_signalingDown) Push(_nowNs + 2 * _latency.ToServerNs(i), new SimEvent(EventKind.Bootstrap, i, -1, 0, null));
                return;
            case NodeOutput.Observed o:
                Count(o.Event);
                Recent?.Reported(i, _nowNs, o.Event);
                Observer?.Invoke(i, o.Event);
                return;
        }
    }

    // ---- the packet-level link model (LinkModel.Ice) ----

    private void OnIceNotice(IceNotice notice)
    {
        var end = notice.End;
        if (end.Closed) return;   // closed (or its node crashed) since the agent spoke
        int i = end.Node;
        switch (notice.Kind)
        {
            case IceNoticeKind.EndpointReady:
                Stats.GatherTimes.Add(_nowNs - end.PreparedAtNs);
                Deliver(i, new NodeInput.EndpointPrepared(new LinkId(end.Link), notice.Endpoint!));
                return;
            case IceNoticeKind.Connected:
            {
                if (end.Connected) return;
                end.Connected = true;
                if (!_fabric.Connect(end.Link, i, out int a, out int b)) return;   // the other agent has not connected yet
                _ice!.TryGetEnd(a, end.Link, out var ea);
                _ice.TryGetEnd(b, end.Link, out var eb);
                bool relayed = ea?.Relayed == true || eb?.Relayed == true;
                if (relayed) { Stats.RelayedSetups++; _fabric.MarkRelayed(end.Link); }
                RecordIceOutcome(a, b, relayed ? IcePath.Relayed : IcePath.Direct);
                if (ea is not null) ea.OutcomeRecorded = true;
                if (eb is not null) eb.OutcomeRecorded = true;
                if (_fabric.TakeSetupStart(end.Link, out long started)) Stats.SetupTimes.Add(_nowNs - started);
                Push(_nowNs, new SimEvent(EventKind.TransportUp, a, b, end.Link, null));
                Push(_nowNs, new SimEvent(EventKind.TransportUp, b, a, end.Link, null));
                return;
            }
            case IceNoticeKind.Failed:
                // As in the modeled failure path: nothing comes up and the link manager's setup timeout gives up.
                RecordIceFailure(end);
                return;
            case IceNoticeKind.DtlsFailed:
                // ICE worked but the handshake did not finish (loss, a partition): the link manager's
                // setup timeout gives the link up; the NAT outcome was ICE's, so it is not counted here.
                return;
            case IceNoticeKind.ConsentLost:
            {
                // This end's transport is gone: close it here, tell the other end as a teardown does, and the node.
                _ice!.Close(i, end.Link);
                int other = _fabric.Close(end.Link, i);
                if (other >= 0)
                {
                    _teardownsInFlight++;
                    Push(_nowNs + PathNs(i, other), new SimEvent(EventKind.TransportDown, other, i, end.Link, null));
                }
                Deliver(i, new NodeInput.TransportDown(new LinkId(end.Link)));
                return;
            }
        }
    }

    /// <summary>A controlling end that had the peer's candidates gave up (failed or closed) before the link came up.</summary>
    private void RecordIceFailure(IceLinkEnd end)
    {
        if (end.Role != IceRole.Controlling || end.ConnectAtNs < 0 || end.OutcomeRecorded || end.Connected && _fabric.IsUpAndOpen(end.Link)) return;
        end.OutcomeRecorded = true;
        Stats.NatFailedSetups++;
        RecordIceOutcome(end.Node, end.Peer, IcePath.Fails);
    }

    private void RecordIceOutcome(int a, int b, IcePath measured) =>
        Stats.IceOutcomes[(int)NatPathOf(a, b) * 3 + (int)measured]++;

    // ---- what crosses the signaling server ----
    // With --links ice the run is packet-level, so what a node sends through the signaling server
    // travels as the text the real node puts in its XMPP <signal/> element (SignalCodec) and is
    // decoded at the receiver; a payload the codec refuses is dropped and reported, as the real
    // node drops a stanza with bad content. Modeled runs pass the records (no text per message).

    private object OnSignalingWire(LinkSignal signal) => _ice is null ? signal : Counted(SignalCodec.Encode(signal));

    private object OnSignalingWire(Protocol.Membership.MembershipMessage message) => _ice is null ? message : Counted(SignalCodec.Encode(message));

    private string Counted(string text)
    {
        Stats.SignalingPayloadBytes += System.Text.Encoding.UTF8.GetByteCount(text);
        return text;
    }

    /// <summary>For tests: the signaling server relays this text from one node to another, now.</summary>
    internal void RelaySignalText(int from, int to, string text) => Push(_nowNs, new SimEvent(EventKind.Signal, to, from, 0, text));

    // The record itself (modeled runs, and every lookup hop over a link) is tested for first: it is
    // the hot path.
    private LinkSignal? SignalOf(in SimEvent e) =>
        e.Payload is LinkSignal signal ? signal : FromWire(e, link: true).Link;

    private Protocol.Membership.MembershipMessage? MembershipOf(in SimEvent e) =>
        e.Payload is Protocol.Membership.MembershipMessage message ? message : FromWire(e, link: false).Membership;

    /// <summary>Decodes a payload that crossed the server as text; one the codec refuses, or of the
    /// other family, is dropped and reported (an empty payload comes back).</summary>
    private SignalPayload FromWire(in SimEvent e, bool link)
    {
        var decoded = SignalCodec.Decode((string)e.Payload!);
        if (decoded.Ok && (link ? decoded.Value.Link is not null : decoded.Value.Membership is not null)) return decoded.Value;
        string problem = !decoded.Ok ? decoded.Error!
            : link ? "a membership message where a link signal was expected" : "a link signal where a membership message was expected";
        Stats.ProtocolErrors++;
        var error = new NodeEvent.Error(new ProtocolError("SignalingServer", "Relaying", $"signal from #{e.From}", problem));
        Recent?.Reported(e.Node, _nowNs, error);
        Observer?.Invoke(e.Node, error);
        return default;
    }

    long IXmppHost.NowNs => _nowNs;
    void IXmppHost.Schedule(long atNs, in SimEvent e) => Push(atNs, e);
    long IXmppHost.ServerNs(int node) => Spiked(_latency.ToServerNs(node));
    void IXmppHost.DeliverFromSignaling(int node, NodeInput input) => Deliver(node, input);

    long IIceLinkHost.NowNs => _nowNs;
    void IIceLinkHost.Schedule(long atNs, in SimEvent e) => Push(atNs, e);
    long IIceLinkHost.PathNs(int a, int b) => PathNs(a, b);
    long IIceLinkHost.ServerNs(int node) => Spiked(_latency.ToServerNs(node));
    bool IIceLinkHost.Blocks(int from, int to) => Conditions.Blocks(from, to);
    void IIceLinkHost.FrameDatagrams(int delta) => FramesInFlight += delta;
    void IIceLinkHost.DeliverLinkData(int node, int peer, ulong link, byte[]? frame)
    {
        // As an event now, never re-entrantly: the node's answer may send on the agent that spoke.
        if (frame is null) { Push(_nowNs, new SimEvent(EventKind.KeepAlive, node, peer, link, null)); return; }
        FramesInFlight++;
        Push(_nowNs, new SimEvent(EventKind.LinkFrame, node, peer, link, frame));
    }
    int IIceLinkHost.Copies(int from, int to)
    {
        if (from >= 0 && to >= 0) return Datagrams(from, to);
        // A leg to or from the server site: default loss and duplication (IceLinkLayer applies partitions to relayed datagrams).
        if (!Conditions.AnyDatagramFault) return 1;
        if (Conditions.LossRate > 0 && _faultRandom.NextDouble() < Conditions.LossRate) { Stats.DatagramsLost++; return 0; }
        if (Conditions.DuplicateRate > 0 && _faultRandom.NextDouble() < Conditions.DuplicateRate) { Stats.DatagramsDuplicated++; return 2; }
        return 1;
    }

    /// <summary>One-way latency between two nodes, spikes included.</summary>
    private long PathNs(int a, int b) => Spiked(_latency.BetweenNs(a, b));

    /// <summary>PathNs(a, b) with b's point at hand (from the index map's slot).</summary>
    private long PathNs(int a, LatencyPoint b) => Spiked(_latency.BetweenNs(a, b));

    private long Spiked(long ns)
    {
        double factor = Conditions.LatencyFactor;
        return factor == 1 ? ns : (long)(ns * factor);
    }

    /// <summary>One-way latency through the TURN server (placed with the signaling server).</summary>
    private long RelayNs(int a, int b) => Spiked(_latency.ToServerNs(a) + _latency.ToServerNs(b));

    /// <summary>What ICE achieves between the NATs of two nodes (Direct when there are no NATs).</summary>
    private IcePath NatPathOf(int a, int b) =>
        _natOf is null ? IcePath.Direct : _natOutcome![_natOf[a] * Parameters.NatMix.Entries.Count + _natOf[b]];

    private bool IsPublic(int node) => _natOf is null || Parameters.NatMix.Entries[_natOf[node]].Behaviour.Public;

    /// <summary>The NAT preset a node sits behind ("none" when the run has no NATs).</summary>
    public string NatOf(int node) => _natOf is null ? "none" : Parameters.NatMix.Entries[_natOf[node]].Name;

    /// <summary>How many copies of a datagram from one node to another arrive: 0 (lost or
    /// partitioned), 1, or 2 (duplicated). Draws from the fault stream only when faults are on,
    /// so fault-free runs keep their traces.</summary>
    private int Datagrams(int from, int to)
    {
        if (!Conditions.AnyDatagramFault) return 1;
        if (Conditions.Blocks(from, to)) { Stats.DatagramsLost++; return 0; }
        var c = Conditions.ConditionOf(from, to);
        if (c.LossRate > 0 && _faultRandom.NextDouble() < c.LossRate) { Stats.DatagramsLost++; return 0; }
        if (c.DuplicateRate > 0 && _faultRandom.NextDouble() < c.DuplicateRate) { Stats.DatagramsDuplicated++; return 2; }
        return 1;
    }

    private void CountMembership(Protocol.Membership.MembershipMessage message)
    {
        MembershipMessageKind kind;
        switch (message)
        {
            case Protocol.Membership.MembershipMessage.FindSuccessor: kind = MembershipMessageKind.FindSuccessor; break;
            case Protocol.Membership.MembershipMessage.FoundOwner f:
                kind = MembershipMessageKind.FoundOwner;
                Stats.LookupsAnswered++;
                Stats.LookupAnsweredHops += f.Hops;
                break;
            case Protocol.Membership.MembershipMessage.FindFailed f:
                kind = MembershipMessageKind.FindFailed;
                Stats.LookupsFailed++;
                Stats.LookupFailedHops += f.Hops;
                break;
            case Protocol.Membership.MembershipMessage.Stabilize: kind = MembershipMessageKind.Stabilize; break;
            case Protocol.Membership.MembershipMessage.StabilizeReply r: kind = r.Nonce == 0 ? MembershipMessageKind.EstimatePush : MembershipMessageKind.StabilizeReply; break;
            default: kind = MembershipMessageKind.Leaving; break;
        }
        Stats.MembershipByKind[(int)kind]++;
    }

    private void Count(NodeEvent e)
    {
        switch (e)
        {
            case NodeEvent.LinkUp: Stats.LinksUp++; break;
            case NodeEvent.LinkDown: Stats.LinksDown++; break;
            case NodeEvent.LinkFailed f:
                Stats.LinkFailures++;
                Stats.FailuresByReason[(int)f.Reason]++;
                if (f.Reason == LinkFailure.Refused) Stats.RefusalsByCode[(int)f.Refusal]++;
                break;
            case NodeEvent.Error: Stats.ProtocolErrors++; break;
            case NodeEvent.Dropped: Stats.Drops++; break;
        }
    }
}
