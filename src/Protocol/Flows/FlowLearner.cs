// EdgeVPN's Ryu learning-switch app in software: a MAC table and a flow table for one node.
// Ports are the local port (the tap) and one port per link.
//  - Every frame teaches its source MAC -> ingress port (flood deliveries also record the root);
//    a MAC seen on a new port drops the flows towards it.
//  - From the local port: broadcast/multicast -> Broadcast (the node floods it); unicast to a MAC
//    on link L -> SendToLink(L) and a flow (local, src, dst) -> L; unknown -> drop, or flood when
//    UnknownUnicast = Flood.
//  - From link L: dst local -> DeliverLocal and a flow (L, src, dst) -> local; dst on link M != L
//    -> SendToLink(M) and a flow (L, src, dst) -> M; dst behind L -> drop; unknown -> drop, or
//    deliver locally when UnknownUnicast = Flood (the local port is the only other port a frame
//    from a link may be flooded to without loops; only the frame's own node floods the overlay).
//  - Flood deliveries: learn src -> (ingress link, root) unless the ingress is null (local origin);
//    deliver locally unless the inner frame is unicast to a MAC known on a link.
// Contract: sans-IO; never throws on input (malformed frames become Error outputs); no output is
// ever SendToLink to the frame's ingress link; every flow's output port is its destination MAC's
// learned port (so flows never outlive or contradict the MAC table). Flows idle for
// FlowIdleTimeout and MACs unseen for MacAgeMax are removed; FlowsMax and MacsMax bound the
// tables, evicting the least recently used. Both tables keep an LRU list, which is also the
// expiry order (one timeout per table), and every scan that reaches outputs walks those lists:
// no hash order ever reaches an output.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flows;

public sealed class FlowLearner : IStateMachine<FlowInput, FlowOutput>
{
    private const string MachineName = nameof(FlowLearner);

    private sealed class MacEntry(MacAddress mac)
    {
        public readonly MacAddress Mac = mac;
        public FlowPort Port;
        public NodeId? Root;
        public Instant LastSeen;
        public int FlowRefs;
        public LinkedListNode<MacEntry>? Node;
    }

    private readonly record struct FlowKey(FlowPort In, MacAddress Src, MacAddress Dst);

    private sealed class FlowEntry(FlowKey key, FlowPort output)
    {
        public readonly FlowKey Key = key;
        public readonly FlowPort Out = output;
        public Instant LastUsed;
        public LinkedListNode<FlowEntry>? Node;
    }

    private readonly FlowConfig _config;
    // The four tables are allocated together when the first MAC is learned (EnsureTables): a
    // simulated node spends most of its life without any MAC, and a hundred thousand empty
    // dictionaries and lists cost memory and cache for nothing. Null means all four are empty.
    private Dictionary<MacAddress, MacEntry>? _macs;
    private LinkedList<MacEntry>? _macOrder;   // least recently seen first
    private Dictionary<FlowKey, FlowEntry>? _flows;
    private LinkedList<FlowEntry>? _flowOrder; // least recently used first
    private OutputQueue<FlowOutput> _outputs;
    private Instant _latest = new(long.MinValue);
    // False once CheckInvariants has validated the current state; Handle and HandleTimeout set it
    // (the simulator checks after every event, and most events never reach this machine).
    private bool _changedSinceCheck = true;

    public FlowLearner(FlowConfig? config = null)
    {
        _config = config ?? new FlowConfig();
        if (_config.FlowsMax < 1 || _config.MacsMax < 1) throw new ArgumentOutOfRangeException(nameof(config), "FlowsMax and MacsMax must be at least 1");
        if (_config.FlowIdleTimeout <= TimeSpan.Zero || _config.MacAgeMax <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(config), "timeouts must be positive");
    }

    public FlowConfig Config => _config;
    public int MacCount => _macs?.Count ?? 0;
    public int FlowCount => _flows?.Count ?? 0;

    /// <summary>Where the MAC was learned, and the flood root it was learned from (if any).</summary>
    public bool TryGetMac(MacAddress mac, out FlowPort port, out NodeId? root)
    {
        if (_macs is not null && _macs.TryGetValue(mac, out var e)) { port = e.Port; root = e.Root; return true; }
        port = default; root = null; return false;
    }

    /// <summary>The output port of the installed flow (inPort, src, dst), if any.</summary>
    public bool TryGetFlow(FlowPort inPort, MacAddress src, MacAddress dst, out FlowPort outPort)
    {
        if (_flows is not null && _flows.TryGetValue(new FlowKey(inPort, src, dst), out var f)) { outPort = f.Out; return true; }
        outPort = default; return false;
    }

    public void Handle(Instant now, FlowInput input)
    {
        _changedSinceCheck = true;
        now = Monotonic(now);
        Expire(now);
        switch (input)
        {
            case FlowInput.FromLocal l:
                FromLocal(now, l.Frame);
                break;
            case FlowInput.FromLink k:
                FromLink(now, k.Link, k.Frame);
                break;
            case FlowInput.FloodDelivered f:
                FloodDelivered(now, f.IngressLink, f.Root, f.Frame);
                break;
            case FlowInput.LinkRemoved r:
                LinkRemoved(r.Link);
                break;
            case FlowInput.DirectLink d:
                DirectLink(d.Root, d.Link);
                break;
            case null:
                Error("null", "no input");
                break;
            default:
                Error(input.GetType().Name, "unknown input");
                break;
        }
    }

    // Handle(DirectLink / LinkRemoved) without the input record: EdgeNode calls these on every
    // link change. Same preamble as Handle.
    internal void HandleDirectLink(Instant now, NodeId root, LinkId link)
    {
        _changedSinceCheck = true;
        Expire(Monotonic(now));
        DirectLink(root, link);
    }

    internal void HandleLinkRemoved(Instant now, LinkId link)
    {
        _changedSinceCheck = true;
        Expire(Monotonic(now));
        LinkRemoved(link);
    }

    public void HandleTimeout(Instant now)
    {
        _changedSinceCheck = true;
        Expire(Monotonic(now));
    }

    /// <summary>The LRU lists are ordered by time: an instant earlier than one already seen counts as that one.</summary>
    private Instant Monotonic(Instant now)
    {
        if (now > _latest) _latest = now;
        return _latest;
    }

    public Instant? PollTimeout()
    {
        Instant? t = null;
        if (_flowOrder?.First is { } f) t = f.Value.LastUsed + _config.FlowIdleTimeout;
        if (_macOrder?.First is { } m) t = Instant.Earliest(t, m.Value.LastSeen + _config.MacAgeMax);
        return t;
    }

    public bool TryPollOutput(out FlowOutput output) => _outputs.TryDequeue(out output);

    private void FromLocal(Instant now, ReadOnlyMemory<byte> frame)
    {
        if (!ReadAddresses("FromLocal", frame, out var dst, out var src)) return;
        Learn(now, src, FlowPort.Local, root: null, keepRoot: false);
        if (dst.IsMulticast) { _outputs.Enqueue(new FlowOutput.Broadcast(frame)); return; }
        if (_macs!.TryGetValue(dst, out var d))
        {
            if (d.Port.IsLocal) { Drop(FlowDropReason.DestinationOnIngressPort, FlowPort.Local, src, dst); return; }
            UseFlow(now, FlowPort.Local, src, d);
            _outputs.Enqueue(new FlowOutput.SendToLink(d.Port.Link!.Value, frame));
            return;
        }
        if (_config.UnknownUnicast == UnknownUnicastPolicy.Flood) _outputs.Enqueue(new FlowOutput.Broadcast(frame));
        else Drop(FlowDropReason.UnknownDestination, FlowPort.Local, src, dst);
    }

    private void FromLink(Instant now, LinkId link, ReadOnlyMemory<byte> frame)
    {
        if (!ReadAddresses("FromLink", frame, out var dst, out var src)) return;
        var ingress = FlowPort.Of(link);
        if (dst.IsMulticast) { Drop(FlowDropReason.BroadcastOnLink, ingress, src, dst); return; }
        Learn(now, src, ingress, root: null, keepRoot: true);
        if (_macs!.TryGetValue(dst, out var d))
        {
            if (d.Port == ingress) { Drop(FlowDropReason.DestinationOnIngressPort, ingress, src, dst); return; }
            UseFlow(now, ingress, src, d);
            _outputs.Enqueue(d.Port.IsLocal
                ? new FlowOutput.DeliverLocal(frame)
                : new FlowOutput.SendToLink(d.Port.Link!.Value, frame));
            return;
        }
        if (_config.UnknownUnicast == UnknownUnicastPolicy.Flood) _outputs.Enqueue(new FlowOutput.DeliverLocal(frame));
        else Drop(FlowDropReason.UnknownDestination, ingress, src, dst);
    }

    private void FloodDelivered(Instant now, LinkId? ingressLink, NodeId root, ReadOnlyMemory<byte> frame)
    {
        if (!ReadAddresses("FloodDelivered", frame, out var dst, out var src)) return;
        if (ingressLink is { } link) Learn(now, src, FlowPort.Of(link), root, keepRoot: false);
        if (!dst.IsMulticast && _macs is not null && _macs.TryGetValue(dst, out var d) && !d.Port.IsLocal)
        {
            Drop(FlowDropReason.NotForThisNode, ingressLink is { } l ? FlowPort.Of(l) : FlowPort.Local, src, dst);
            return;
        }
        _outputs.Enqueue(new FlowOutput.DeliverLocal(frame));
    }

    private void DirectLink(NodeId root, LinkId link)
    {
        if (_macOrder is null) return;
        var port = FlowPort.Of(link);
        for (var n = _macOrder.First; n is not null; n = n.Next)
        {
            var e = n.Value;
            if (e.Root != root || e.Port == port) continue;
            RemoveFlowsTo(e, FlowRemoval.MacMoved);
            e.Port = port;
        }
    }

    private void LinkRemoved(LinkId link)
    {
        if (_flowOrder is null || _macOrder is null) return;
        var port = FlowPort.Of(link);
        for (var n = _flowOrder.First; n is not null;)
        {
            var next = n.Next;
            if (n.Value.Key.In == port || n.Value.Out == port) RemoveFlow(n.Value, FlowRemoval.LinkRemoved);
            n = next;
        }
        for (var n = _macOrder.First; n is not null;)
        {
            var next = n.Next;
            if (n.Value.Port == port) ForgetMac(n.Value, FlowRemoval.LinkRemoved);
            n = next;
        }
    }

    /// <summary>Reads dst and src; reports malformed frames (length, multicast source) and returns false.</summary>
    private bool ReadAddresses(string input, ReadOnlyMemory<byte> frame, out MacAddress dst, out MacAddress src)
    {
        if (frame.Length > _config.FrameLengthMax)
        {
            Error(input, $"frame of {frame.Length} bytes is longer than {_config.FrameLengthMax}");
            dst = src = default;
            return false;
        }
        if (!EthernetFrame.TryReadAddresses(frame.Span, out dst, out src))
        {
            Error(input, $"frame of {frame.Length} bytes is shorter than an Ethernet header");
            return false;
        }
        if (src.IsMulticast)
        {
            Error(input, $"source MAC {src} is a group address");
            return false;
        }
        return true;
    }

    private void Learn(Instant now, MacAddress mac, FlowPort port, NodeId? root, bool keepRoot)
    {
        EnsureTables();
        if (_macs.TryGetValue(mac, out var e))
        {
            if (e.Port != port)
            {
                RemoveFlowsTo(e, FlowRemoval.MacMoved);
                e.Port = port;
                e.Root = root;
            }
            else if (!keepRoot) e.Root = root;
            e.LastSeen = now;
            _macOrder.Remove(e.Node!);
            _macOrder.AddLast(e.Node!);
            return;
        }
        if (_macs.Count >= _config.MacsMax) ForgetMac(_macOrder.First!.Value, FlowRemoval.MacForgotten);
        e = new MacEntry(mac) { Port = port, Root = root, LastSeen = now };
        e.Node = _macOrder.AddLast(e);
        _macs.Add(mac, e);
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_macs), nameof(_macOrder), nameof(_flows), nameof(_flowOrder))]
    private void EnsureTables()
    {
        if (_macs is not null && _macOrder is not null && _flows is not null && _flowOrder is not null) return;
        _macs = new();
        _macOrder = new();
        _flows = new();
        _flowOrder = new();
    }

    /// <summary>Refreshes the flow (inPort, src, dst.Mac) -> dst.Port, installing it if new.</summary>
    private void UseFlow(Instant now, FlowPort inPort, MacAddress src, MacEntry dst)
    {
        EnsureTables();
        var key = new FlowKey(inPort, src, dst.Mac);
        if (_flows.TryGetValue(key, out var f))
        {
            f.LastUsed = now;
            _flowOrder.Remove(f.Node!);
            _flowOrder.AddLast(f.Node!);
            return;
        }
        if (_flows.Count >= _config.FlowsMax) RemoveFlow(_flowOrder.First!.Value, FlowRemoval.Evicted);
        f = new FlowEntry(key, dst.Port) { LastUsed = now };
        f.Node = _flowOrder.AddLast(f);
        _flows.Add(key, f);
        dst.FlowRefs++;
        _outputs.Enqueue(new FlowOutput.InstallFlow(inPort, src, dst.Mac, dst.Port, _config.FlowIdleTimeout));
    }

    private void Expire(Instant now)
    {
        if (_flowOrder is null || _macOrder is null) return;
        while (_flowOrder.First is { } f && f.Value.LastUsed + _config.FlowIdleTimeout <= now)
            RemoveFlow(f.Value, FlowRemoval.IdleTimeout);
        while (_macOrder.First is { } m && m.Value.LastSeen + _config.MacAgeMax <= now)
            ForgetMac(m.Value, FlowRemoval.MacForgotten);
    }

    private void ForgetMac(MacEntry e, FlowRemoval reason)
    {
        RemoveFlowsTo(e, reason);
        _macOrder!.Remove(e.Node!);
        _macs!.Remove(e.Mac);
    }

    private void RemoveFlowsTo(MacEntry e, FlowRemoval reason)
    {
        for (var n = _flowOrder!.First; n is not null && e.FlowRefs > 0;)
        {
            var next = n.Next;
            if (n.Value.Key.Dst == e.Mac) RemoveFlow(n.Value, reason);
            n = next;
        }
    }

    private void RemoveFlow(FlowEntry f, FlowRemoval reason)
    {
        _flowOrder!.Remove(f.Node!);
        _flows!.Remove(f.Key);
        if (_macs!.TryGetValue(f.Key.Dst, out var d)) d.FlowRefs--;
        _outputs.Enqueue(new FlowOutput.RemoveFlow(f.Key.In, f.Key.Src, f.Key.Dst, f.Out, reason));
    }

    private void Drop(FlowDropReason reason, FlowPort inPort, MacAddress src, MacAddress dst) =>
        _outputs.Enqueue(new FlowOutput.Dropped(reason, inPort, src, dst));

    private void Error(string input, string reason) =>
        _outputs.Enqueue(new FlowOutput.Error(new ProtocolError(MachineName, "learning", input, reason)));

    public void CheckInvariants()
    {
        if (!_changedSinceCheck) return;
        if (_macs is null || _macOrder is null || _flows is null || _flowOrder is null)
        {
            if (_macs is not null || _macOrder is not null || _flows is not null || _flowOrder is not null) throw new InvariantViolation("flow learner tables only partly allocated");
            _changedSinceCheck = false;
            return;
        }
        if (_macs.Count != _macOrder.Count) throw new InvariantViolation("mac table and its LRU list differ in size");
        if (_flows.Count != _flowOrder.Count) throw new InvariantViolation("flow table and its LRU list differ in size");
        if (_macs.Count > _config.MacsMax) throw new InvariantViolation("mac table above MacsMax");
        if (_flows.Count > _config.FlowsMax) throw new InvariantViolation("flow table above FlowsMax");
        Instant? previous = null;
        int refs = 0;
        foreach (var m in _macOrder)
        {
            if (!_macs.TryGetValue(m.Mac, out var same) || !ReferenceEquals(same, m)) throw new InvariantViolation($"mac {m.Mac} in the LRU list but not the table");
            if (previous is { } p && m.LastSeen < p) throw new InvariantViolation("mac LRU list not ordered by last seen");
            if (m.FlowRefs < 0) throw new InvariantViolation($"mac {m.Mac} has negative flow references");
            previous = m.LastSeen;
            refs += m.FlowRefs;
        }
        if (refs != _flows.Count) throw new InvariantViolation("flow references do not add up to the flow count");
        previous = null;
        foreach (var f in _flowOrder)
        {
            if (!_flows.TryGetValue(f.Key, out var same) || !ReferenceEquals(same, f)) throw new InvariantViolation("flow in the LRU list but not the table");
            if (previous is { } p && f.LastUsed < p) throw new InvariantViolation("flow LRU list not ordered by last use");
            previous = f.LastUsed;
            if (f.Out == f.Key.In) throw new InvariantViolation($"flow {f.Key} sends back out of its ingress port");
            if (!_macs.TryGetValue(f.Key.Dst, out var d) || d.Port != f.Out) throw new InvariantViolation($"flow {f.Key} -> {f.Out} disagrees with the mac table");
        }
        _changedSinceCheck = false;
    }
}
