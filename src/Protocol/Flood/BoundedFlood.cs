// EdgeVPN's bounded flood as a sans-IO machine: the overlay's broadcast, reaching every node
// exactly once when every node links to its ring successor, with tree depth O(log n) on Symphony.
//
// Rule. The originator walks its neighbours clockwise from itself, p_0 .. p_{m-1}, and sends to
// each p_i with bound p_{i+1}; the last gets bound = self (it covers (p_{m-1}, self)). A receiver r
// of (root, bound, hops) delivers the inner frame locally, then forwards to its neighbours strictly
// inside the clockwise arc (r, bound), q_0 .. q_j in clockwise order, each with bound q_{i+1}, the
// last with the received bound, hop count + 1. bound == r is a degenerate arc: nothing forwarded.
// Why exactly once: the arcs handed out partition the ring, and the receiver of an arc holds a
// link to its successor, so it can always hand the arc on until it is empty. There is no duplicate
// cache (EdgeVPN keeps none): under churn, inconsistent views can duplicate or lose copies, which
// the simulator's checkers measure. Forwarding that would exceed HopsMax is dropped and reported.
//
// Contract: no timers (PollTimeout is null); every Handle leaves outputs to drain; never throws on
// peer input (malformed frames become Error outputs). The neighbour view is read by reference and
// owned by the node; the arc is found by one binary search; no LINQ on the hot path.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flood;

public sealed class BoundedFlood : IStateMachine<FloodInput, FloodOutput>
{
    private const string MachineName = nameof(BoundedFlood);
    private readonly INeighbourView _neighbours;
    private readonly FloodConfig _config;
    private readonly MacAddress _localMac;
    private OutputQueue<FloodOutput> _outputs;

    public NodeId Self => _neighbours.Self;
    public INeighbourView Neighbours => _neighbours;

    public BoundedFlood(INeighbourView neighbours, FloodConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(neighbours);
        _neighbours = neighbours;
        _config = config ?? new FloodConfig();
        if (_config.HopsMax is < 1 or > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(config), "HopsMax must be in 1..255");
        if (_config.InnerLengthMax is < EthernetFrame.HeaderLength or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(config), "InnerLengthMax must be in 14..65535");
        _localMac = _config.LocalMac ?? MacAddress.LocalFrom(neighbours.Self.Lower);
    }

    public void Handle(Instant now, FloodInput input)
    {
        switch (input)
        {
            case FloodInput.Originate o:
                Originate(o.Inner);
                break;
            case FloodInput.Received r:
                var parsed = FloodPacket.Parse(r.Frame, _config.HopsMax, _config.InnerLengthMax);
                if (!parsed.Ok) { Error("Received", parsed.Error!); break; }
                Receive(r.Link, parsed.Value);
                break;
            case FloodInput.ReceivedPacket p:
                var h = p.Packet.Header;
                if (h.Hops == 0 || h.Hops > _config.HopsMax) { Error("ReceivedPacket", $"flood hop count {h.Hops} is outside 1..{_config.HopsMax}"); break; }
                if (p.Packet.Inner.Length is < EthernetFrame.HeaderLength || p.Packet.Inner.Length > _config.InnerLengthMax)
                { Error("ReceivedPacket", $"inner frame of {p.Packet.Inner.Length} bytes is outside 14..{_config.InnerLengthMax}"); break; }
                Receive(p.Link, p.Packet);
                break;
            case null:
                Error("null", "no input");
                break;
            default:
                Error(input.GetType().Name, "unknown input");
                break;
        }
    }

    public void HandleTimeout(Instant now) { }

    public Instant? PollTimeout() => null;

    public bool TryPollOutput(out FloodOutput output) => _outputs.TryDequeue(out output);

    public void CheckInvariants() => _neighbours.CheckInvariants();

    private void Originate(ReadOnlyMemory<byte> inner)
    {
        if (inner.Length < EthernetFrame.HeaderLength || inner.Length > _config.InnerLengthMax)
        {
            Error("Originate", $"inner frame of {inner.Length} bytes is outside 14..{_config.InnerLengthMax}");
            return;
        }
        // The whole ring but self: every neighbour, the last one bounded by self.
        SendArc(_neighbours.Count, Self, Self, hops: 1, inner.Span);
    }

    private void Receive(LinkId link, in FloodPacket packet)
    {
        var h = packet.Header;
        if (h.Root == Self)
        {
            _outputs.Enqueue(new FloodOutput.Dropped(FloodDropReason.ReturnedToRoot, h.Root, h.Hops));
            return;
        }
        _outputs.Enqueue(new FloodOutput.Deliver(packet.Inner, h.Root, h.Hops, link));
        int count = _neighbours.CountInArc(h.Bound);
        if (count == 0) return;
        if (h.Hops + 1 > _config.HopsMax)
        {
            _outputs.Enqueue(new FloodOutput.Dropped(FloodDropReason.HopsExceeded, h.Root, h.Hops));
            return;
        }
        SendArc(count, h.Root, h.Bound, h.Hops + 1, packet.Inner.Span);
    }

    /// <summary>Sends to the first count neighbours clockwise; each bounded by the next, the last by lastBound.</summary>
    private void SendArc(int count, NodeId root, NodeId lastBound, int hops, ReadOnlySpan<byte> inner)
    {
        if (count == 0) return;
        NodeId peer = _neighbours.IdAt(0);
        for (int i = 0; i < count; i++)
        {
            NodeId bound = i + 1 < count ? _neighbours.IdAt(i + 1) : lastBound;
            var frame = FloodPacket.Encode(_localMac, new FloodHeader(root, bound, (byte)hops), inner);
            _outputs.Enqueue(new FloodOutput.Forward(_neighbours.LinkAt(i), peer, frame));
            peer = bound;
        }
    }

    private void Error(string input, string reason) =>
        _outputs.Enqueue(new FloodOutput.Error(new ProtocolError(MachineName, "running", input, reason)));
}
