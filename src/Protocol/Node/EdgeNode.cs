// EdgeNode: one overlay node as a single sans-IO machine, composing
//   SymphonyTopology (which links it wants) → LinkManager (negotiation and lifecycle)
//   → its neighbour view (the connected links, clockwise) → BoundedFlood (broadcast)
//   → FlowLearner (unicast switching from learned MACs).
// Contract: the five members of IStateMachine. After every Handle/HandleTimeout the internal
// machines' outputs are routed to each other in a fixed order until all are drained; what is
// left for the host is in TryPollOutput. Nothing here reads a clock, does I/O or throws on
// bad input: malformed frames and illegal signals come out as Observed(Error/Dropped).
using System.Runtime.InteropServices;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;

namespace EdgeVpn.Protocol.Node;

public readonly record struct NodeLink(NodeId Peer, LinkId Link, LinkKind Kind, bool Initiator);

public sealed class EdgeNode : IStateMachine<NodeInput, NodeOutput>, ILinkAdmission
{
    private readonly EdgeNodeConfig _config;
    private readonly LinkManager _links;
    private readonly SymphonyTopology _topology;
    private readonly INeighbourView _neighbours;   // the link manager's connected links
    private readonly BoundedFlood _flood;
    private readonly FlowLearner _flows;
    private readonly RingMembership? _membership;   // lookup membership only
    private IReadOnlyList<NodeId> _ringSuccessors = [];
    private int _sizeEstimate = 1;
    private OutputQueue<NodeOutput> _outputs;
    private int _connected;
    private bool _stable;
    private bool _stableKnown;   // false after anything that may change which links are wanted or their states

    // Which machines this node called into (Handle*, HandleTimeout) since it last drained their
    // output queue, cached their PollTimeout, and checked their invariants. A machine's queue,
    // timer and state change only when it is called, so an untouched machine's queue is empty,
    // its cached deadline current and its state the one last checked: skipping it changes
    // nothing. The point: at 100k nodes each machine object is a cache miss, and a typical event
    // (a signal, a keep-alive) reaches one or two of the four. The accessors that hand a machine
    // out (Links, Topology, Neighbours, Flows) mark all of them, since a caller may change it.
    [Flags]
    private enum Machines : byte { None = 0, Links = 1, Topology = 2, Flood = 4, Flows = 8, Membership = 16, All = 31 }
    private Machines _toDrain = Machines.All;
    private Machines _toPoll = Machines.All;
    private Machines _toCheck = Machines.All;   // Flood stands for the flood and the neighbour view it reads
    private Instant? _linksAt, _topologyAt, _floodAt, _flowsAt, _membershipAt;

    public EdgeNode(NodeId id, EdgeNodeConfig config, DeterministicRandom random, string fingerprint)
    {
        Id = id;
        _config = config;
        _links = new LinkManager(id, fingerprint, config.Links, random.Fork("links"), this);
        _topology = new SymphonyTopology(id, config.Topology, _links, random.Fork("topology"));
        _neighbours = _links.Neighbours;
        _flood = new BoundedFlood(_neighbours, new FloodConfig { HopsMax = config.FloodHopsMax });
        _flows = new FlowLearner(config.Flows);
        if (config.Topology.Membership == MembershipMode.Lookup)
            _membership = new RingMembership(id, config.EffectiveMembership, random.Fork("membership"), _neighbours);
    }

    /// <summary>The lookup-membership machine (null with presence membership).</summary>
    public RingMembership? Membership { get { Touch(Machines.All); return _membership; } }

    /// <summary>Read-only: the membership phase (null with presence membership).</summary>
    public MembershipPhase? MembershipPhaseNow => _membership?.Phase;

    public NodeId Id { get; }
    public SymphonyTopology Topology { get { Touch(Machines.All); return _topology; } }
    public LinkManager Links { get { Touch(Machines.All); return _links; } }
    public INeighbourView Neighbours { get { Touch(Machines.All); return _neighbours; } }
    public FlowLearner Flows { get { Touch(Machines.All); return _flows; } }

    /// <summary>Names, for a host's cache hints, the state the next input will likely touch.
    /// Level 0: the machine objects (needs this node loaded). Level 1: their tables (needs level 0
    /// loaded, so a host names it one step later). Reads references only; changes nothing.</summary>
    public void NameHotState<T>(ref T warmer, int level) where T : struct, ICacheWarmer
    {
        if (level == 0)
        {
            warmer.Warm(_links, 192);
            warmer.Warm(_topology, 128);
            warmer.Warm(_membership, 128);
            warmer.Warm(_outputs.Buffer, 64);
        }
        else
        {
            _links.NameHotState(ref warmer);
            _membership?.NameHotState(ref warmer);
        }
    }

    private void Touch(Machines m)
    {
        _toDrain |= m;
        _toPoll |= m;
        _toCheck |= m;
    }

    /// <summary>Every wanted link is connected and no link setup is pending.</summary>
    public bool IsStable
    {
        get
        {
            // Cached: the simulator asks after every event, and most events (keep-alives) change nothing.
            if (!_stableKnown)
            {
                _stable = !_links.HasPendingSetups && _topology.IsSatisfied && (_membership is null || _membership.Phase == MembershipPhase.Member);
                _stableKnown = true;
            }
            return _stable;
        }
    }

    public bool IsConnectedTo(NodeId peer) => _neighbours.Contains(peer);

    public List<NodeLink> ConnectedLinks()
    {
        var result = new List<NodeLink>(_connected);
        foreach (var s in _links.Snapshot())
            if (s.State == LinkState.Connected) result.Add(new NodeLink(s.Peer, s.Link, s.Kind, s.Initiator));
        return result;
    }

    LinkRefusal ILinkAdmission.Admit(NodeId peer, LinkKind kind) => _topology.Admit(peer, kind);

    public void Handle(Instant now, NodeInput input)
    {
        switch (input)
        {
            case NodeInput.Presence p: Touch(Machines.Topology); _topology.Handle(now, new TopologyInput.MembershipChanged(p.View)); break;
            // The link inputs have typed entry points (below), which this delegates to.
            case NodeInput.Signal s: HandleSignal(now, s.From, s.Message); return;
            case NodeInput.EndpointPrepared e: HandleEndpointPrepared(now, e.Link, e.Endpoint); return;
            case NodeInput.TransportUp u: HandleTransportUp(now, u.Link); return;
            case NodeInput.TransportDown d: HandleTransportDown(now, d.Link); return;
            case NodeInput.KeepAlive k: HandleKeepAlive(now, k.Link); return;
            case NodeInput.LinkFrame f: ReceiveFromLink(now, f.Link, f.Frame); break;
            case NodeInput.LocalFrame l:
                CountTraffic(now, l.Frame);
                Touch(Machines.Flows);
                _flows.Handle(now, new FlowInput.FromLocal(l.Frame));
                break;
            case NodeInput.Leave: Leave(now); break;
            case NodeInput.Bootstrap b when _membership is not null:
                Touch(Machines.Membership);
                // To a member, a member named by the signaling server is the introducer it asked for.
                _membership.Handle(now, b.Member is not { } member ? new MembershipInput.JoinAsFirst()
                    : _membership.Phase == MembershipPhase.Member ? new MembershipInput.Introducer(member)
                    : new MembershipInput.Join(member));
                break;
            case NodeInput.Membership m: HandleMembership(now, m.From, m.Message); return;
            case NodeInput.Bootstrap:
                Observe(new NodeEvent.Dropped("membership input to a node with presence membership"));
                break;
        }
        _stableKnown = false;
        Pump(now);
    }

    // Typed entry points for the link inputs: Handle(now, new NodeInput.X(...)) is exactly a call
    // of these, and the simulator calls them directly so that no input record is allocated per
    // event (a million-node run delivers some 270 million of these). Each reaches the link
    // manager's own per-input entry point, the same transition as LinkManager.Handle(LinkInput).

    public void HandleSignal(Instant now, NodeId from, LinkSignal message)
    {
        Touch(Machines.Links);
        _links.HandleSignal(now, from, message);
        _stableKnown = false;
        Pump(now);
    }

    public void HandleEndpointPrepared(Instant now, LinkId link, string endpoint)
    {
        Touch(Machines.Links);
        _links.HandleEndpointPrepared(now, link, endpoint);
        _stableKnown = false;
        Pump(now);
    }

    public void HandleTransportUp(Instant now, LinkId link)
    {
        Touch(Machines.Links);
        _links.HandleTransportUp(now, link);
        _stableKnown = false;
        Pump(now);
    }

    public void HandleTransportDown(Instant now, LinkId link)
    {
        Touch(Machines.Links);
        _links.HandleTransportDown(now, link);
        _stableKnown = false;
        Pump(now);
    }

    /// <summary>A keep-alive only refreshes the link's activity: whether the node is stable stays known.</summary>
    public void HandleKeepAlive(Instant now, LinkId link)
    {
        Touch(Machines.Links);
        _links.HandleActivity(now, link);
        Pump(now);
    }

    /// <summary>The same as Handle(now, new NodeInput.Membership(from, message)) without the input
    /// record (the simulator delivers hundreds of millions of lookup hops).</summary>
    public void HandleMembership(Instant now, NodeId from, MembershipMessage message)
    {
        if (_membership is null)
            Observe(new NodeEvent.Dropped("membership input to a node with presence membership"));
        else
        {
            Touch(Machines.Membership);
            _membership.HandleMessage(now, from, message);
        }
        _stableKnown = false;
        Pump(now);
    }

    public void HandleTimeout(Instant now)
    {
        Touch(Machines.All);
        _links.HandleTimeout(now);
        _topology.HandleTimeout(now);
        _flows.HandleTimeout(now);
        _flood.HandleTimeout(now);
        _membership?.HandleTimeout(now);
        _stableKnown = false;
        Pump(now);
    }

    public Instant? PollTimeout()
    {
        if (_toPoll != Machines.None)
        {
            if ((_toPoll & Machines.Links) != 0) _linksAt = _links.PollTimeout();
            if ((_toPoll & Machines.Topology) != 0) _topologyAt = _topology.PollTimeout();
            if ((_toPoll & Machines.Flood) != 0) _floodAt = _flood.PollTimeout();
            if ((_toPoll & Machines.Flows) != 0) _flowsAt = _flows.PollTimeout();
            if ((_toPoll & Machines.Membership) != 0) _membershipAt = _membership?.PollTimeout();
            _toPoll = Machines.None;
        }
        return Instant.Earliest(Instant.Earliest(Instant.Earliest(_linksAt, _topologyAt), Instant.Earliest(_flowsAt, _floodAt)), _membershipAt);
    }

    public bool TryPollOutput(out NodeOutput output) => _outputs.TryDequeue(out output);

    public void CheckInvariants()
    {
        // The flood's only state is its neighbour view, and the view is the link manager: one
        // check covers both (BoundedFlood.CheckInvariants would run the link manager's again).
        if ((_toCheck & (Machines.Links | Machines.Flood)) != 0) _links.CheckInvariants();
        if ((_toCheck & Machines.Topology) != 0) _topology.CheckInvariants();
        if ((_toCheck & Machines.Flood) != 0)
        {
            // Two counts kept apart on purpose: the view moves when a record changes state, _connected
            // when the node handles the Connected / Removed output (RouteLink marks Flood there).
            if (_neighbours.Count != _connected)
                throw new InvariantViolation($"neighbour view has {_neighbours.Count} entries but {_connected} links were reported connected");
        }
        if ((_toCheck & Machines.Flows) != 0) _flows.CheckInvariants();
        if ((_toCheck & Machines.Membership) != 0) _membership?.CheckInvariants();
        _toCheck = Machines.None;
    }

    private void ReceiveFromLink(Instant now, LinkId link, byte[] frame)
    {
        if (!_links.TryGetPeer(link, out var peer))
        {
            Observe(new NodeEvent.Dropped($"frame on unknown link {link}"));
            return;
        }
        Touch(Machines.Links);
        _links.HandleActivity(now, link);
        if (frame.Length >= EthernetFrame.HeaderLength && frame[12] == 0xC0 && frame[13] == 0xC0)
        {
            Touch(Machines.Flood);
            _flood.Handle(now, new FloodInput.Received(link, peer, frame));
        }
        else
        {
            Touch(Machines.Flows);
            _flows.Handle(now, new FlowInput.FromLink(link, frame));
        }
    }

    /// <summary>Unicast from the tap to a MAC owned by a remote node counts towards an on-demand link to it.</summary>
    private void CountTraffic(Instant now, byte[] frame)
    {
        if (!EthernetFrame.TryReadAddresses(frame, out var dst, out _) || dst.IsMulticast) return;
        if (_flows.TryGetMac(dst, out var port, out var root) && !port.IsLocal && root is { } r && r != Id && !_neighbours.Contains(r))
        {
            Touch(Machines.Topology);
            _topology.Handle(now, new TopologyInput.Traffic(r, frame.Length));
        }
    }

    private void Leave(Instant now)
    {
        Touch(Machines.Topology | Machines.Links);
        _topology.Handle(now, new TopologyInput.Leave());
        if (_membership is not null) { Touch(Machines.Membership); _membership.Handle(now, new MembershipInput.Leave()); }
        foreach (var s in _links.Snapshot()) _links.HandleClose(now, s.Peer);
    }

    /// <summary>Routes internal outputs between the machines until every queue is empty.</summary>
    private void Pump(Instant now)
    {
        bool moved;
        do
        {
            moved = false;
            // A machine not called since its queue was last found empty has nothing queued. Each
            // bit is cleared right after its queue is drained; a call made while routing later
            // outputs sets it again and the next round drains it, exactly as before.
            if ((_toDrain & Machines.Links) != 0)
            {
                while (_links.TryPollOutput(out var lo)) { moved = true; RouteLink(now, lo); }
                _toDrain &= ~Machines.Links;
            }
            if ((_toDrain & Machines.Topology) != 0)
            {
                while (_topology.TryPollOutput(out var to)) { moved = true; RouteTopology(now, to); }
                _toDrain &= ~Machines.Topology;
            }
            if ((_toDrain & Machines.Flood) != 0)
            {
                while (_flood.TryPollOutput(out var fo)) { moved = true; RouteFlood(now, fo); }
                _toDrain &= ~Machines.Flood;
            }
            if ((_toDrain & Machines.Flows) != 0)
            {
                while (_flows.TryPollOutput(out var wo)) { moved = true; RouteFlow(now, wo); }
                _toDrain &= ~Machines.Flows;
            }
            if ((_toDrain & Machines.Membership) != 0)
            {
                if (_membership is not null)
                    while (_membership.TryPollOutput(out var mo)) { moved = true; RouteMembership(now, mo); }
                _toDrain &= ~Machines.Membership;
            }
        } while (moved);
    }

    private void RouteLink(Instant now, LinkOutput o)
    {
        switch (o)
        {
            case LinkOutput.SendSignal s: _outputs.Enqueue(new NodeOutput.SendSignal(s.To, s.Signal)); break;
            case LinkOutput.PrepareEndpoint p: _outputs.Enqueue(new NodeOutput.PrepareEndpoint(p.Link, p.Peer, p.Role)); break;
            case LinkOutput.ConnectTransport c: _outputs.Enqueue(new NodeOutput.ConnectTransport(c.Link, c.Peer, c.Role, c.RemoteEndpoint, c.RemoteFingerprint)); break;
            case LinkOutput.CloseTransport c: _outputs.Enqueue(new NodeOutput.CloseTransport(c.Link, c.Peer)); break;
            case LinkOutput.SendKeepAlive k: _outputs.Enqueue(new NodeOutput.SendKeepAlive(k.Link, k.Peer)); break;
            case LinkOutput.Connected c:
                Touch(Machines.Flood | Machines.Topology | Machines.Flows);
                _connected++;
                if (_membership is not null) { Touch(Machines.Membership); _membership.Handle(now, new MembershipInput.NeighbourUp(c.Peer)); }
                _topology.HandleLinkConnected(now, c.Peer, c.Initiator);
                _flows.HandleDirectLink(now, c.Peer, c.Link);
                Observe(new NodeEvent.LinkUp(c.Link, c.Peer, c.Kind, c.Initiator));
                break;
            case LinkOutput.Removed r:
                Touch(Machines.Flood | Machines.Topology | Machines.Flows);
                _connected--;
                if (_membership is not null) { Touch(Machines.Membership); _membership.Handle(now, new MembershipInput.NeighbourDown(r.Peer)); }
                _flows.HandleLinkRemoved(now, r.Link);
                _topology.HandleLinkGone(now);
                Observe(new NodeEvent.LinkDown(r.Link, r.Peer, r.Reason));
                break;
            case LinkOutput.Failed f:
                Touch(Machines.Topology);
                _topology.HandleLinkFailed(now, f.Peer, f.Refusal);
                Observe(new NodeEvent.LinkFailed(f.Peer, f.Reason, f.Refusal));
                break;
            case LinkOutput.Error e: Observe(new NodeEvent.Error(e.Problem)); break;
        }
    }

    private void RouteTopology(Instant now, TopologyOutput o)
    {
        switch (o)
        {
            case TopologyOutput.OpenLink open: Touch(Machines.Links); _links.HandleOpen(now, open.Peer, open.Kind); break;
            case TopologyOutput.CloseLink close: Touch(Machines.Links); _links.HandleClose(now, close.Peer); break;
            case TopologyOutput.ResolveTarget r when _membership is not null:
                Touch(Machines.Membership);
                _membership.Handle(now, new MembershipInput.Lookup(r.Key, r.Cookie));
                break;
            case TopologyOutput.ResolveTarget r: ToTopology(now, new TopologyInput.TargetFailed(r.Cookie)); break;
        }
    }

    private void ToTopology(Instant now, TopologyInput input)
    {
        Touch(Machines.Topology);
        _topology.Handle(now, input);
    }

    private void RouteMembership(Instant now, MembershipOutput o)
    {
        switch (o)
        {
            case MembershipOutput.Send s: _outputs.Enqueue(new NodeOutput.SendMembership(s.To, s.Message, s.ViaSignaling)); break;
            case MembershipOutput.SuccessorsChanged c:
                _ringSuccessors = c.Successors;
                ToTopology(now, new TopologyInput.RingChanged(_ringSuccessors, _sizeEstimate));
                break;
            case MembershipOutput.SizeEstimate e:
                _sizeEstimate = e.N;
                ToTopology(now, new TopologyInput.RingChanged(_ringSuccessors, _sizeEstimate));
                break;
            case MembershipOutput.LookupResolved r: ToTopology(now, new TopologyInput.TargetResolved(r.Cookie, r.Owner)); break;
            case MembershipOutput.LookupFailed f: ToTopology(now, new TopologyInput.TargetFailed(f.Cookie)); break;
            case MembershipOutput.Joined: break;
            case MembershipOutput.JoinFailed f: Observe(new NodeEvent.JoinFailed(f.Reason, f.BootstrapNotMember)); break;
            case MembershipOutput.IntroducerWanted: Observe(new NodeEvent.IntroducerWanted()); break;
        }
    }

    private void RouteFlood(Instant now, FloodOutput o)
    {
        switch (o)
        {
            case FloodOutput.Forward f: _outputs.Enqueue(new NodeOutput.SendOnLink(f.Link, f.Peer, f.Frame)); break;
            case FloodOutput.Deliver d:
                Observe(new NodeEvent.FloodDelivered(d.Root, d.Hops));
                Touch(Machines.Flows);
                _flows.Handle(now, new FlowInput.FloodDelivered(d.IngressLink, d.Root, d.Inner));
                break;
            case FloodOutput.Dropped d: Observe(new NodeEvent.Dropped($"flood from {d.Root.Short}: {d.Reason} at {d.Hops} hops")); break;
            case FloodOutput.Error e: Observe(new NodeEvent.Error(e.Problem)); break;
        }
    }

    private void RouteFlow(Instant now, FlowOutput o)
    {
        switch (o)
        {
            case FlowOutput.SendToLink s:
                if (_links.TryGetPeer(s.Link, out var peer)) _outputs.Enqueue(new NodeOutput.SendOnLink(s.Link, peer, AsArray(s.Frame)));
                else Observe(new NodeEvent.Dropped($"flow output to unknown link {s.Link}"));
                break;
            case FlowOutput.Broadcast b: Touch(Machines.Flood); _flood.Handle(now, new FloodInput.Originate(b.Frame)); break;
            case FlowOutput.DeliverLocal d: _outputs.Enqueue(new NodeOutput.DeliverLocal(AsArray(d.Frame))); break;
            case FlowOutput.InstallFlow i:
                if (_config.ObserveFlows) Observe(new NodeEvent.FlowInstalled($"{i.InPort} {i.EthSrc}->{i.EthDst} => {i.OutPort}"));
                break;
            case FlowOutput.RemoveFlow r:
                if (_config.ObserveFlows) Observe(new NodeEvent.FlowRemoved($"{r.InPort} {r.EthSrc}->{r.EthDst} => {r.OutPort} ({r.Reason})"));
                break;
            case FlowOutput.Dropped d: Observe(new NodeEvent.Dropped($"flow: {d.Reason} {d.EthSrc}->{d.EthDst} from {d.InPort}")); break;
            case FlowOutput.Error e: Observe(new NodeEvent.Error(e.Problem)); break;
        }
    }

    private void Observe(NodeEvent e) => _outputs.Enqueue(new NodeOutput.Observed(e));

    private static byte[] AsArray(ReadOnlyMemory<byte> m) =>
        MemoryMarshal.TryGetArray(m, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length ? seg.Array : m.ToArray();
}
