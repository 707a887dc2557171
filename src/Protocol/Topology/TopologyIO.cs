// Inputs and outputs of the Symphony topology machine.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Topology;

public abstract record TopologyInput
{
    /// <summary>A new view of the overlay's members (from presence or lookups).</summary>
    public sealed record MembershipChanged(MembershipView View) : TopologyInput;
    /// <summary>A link came up (the link's kind is the link table's to say: the topology reads it there).</summary>
    public sealed record LinkConnected(NodeId Peer, bool Initiator) : TopologyInput;
    public sealed record LinkGone(NodeId Peer) : TopologyInput;
    public sealed record LinkFailed(NodeId Peer, LinkFailure Reason, LinkRefusal Refusal) : TopologyInput;
    /// <summary>Local traffic towards a remote node (the root of the MAC it goes to).</summary>
    public sealed record Traffic(NodeId Peer, long Bytes) : TopologyInput;
    /// <summary>Lookup membership: the current successor list (clockwise) and overlay size estimate.</summary>
    public sealed record RingChanged(IReadOnlyList<NodeId> Successors, int SizeEstimate) : TopologyInput;
    /// <summary>Lookup membership: the owner of a point asked for by ResolveTarget (cookie echoes it).</summary>
    public sealed record TargetResolved(ulong Cookie, NodeId Owner) : TopologyInput;
    public sealed record TargetFailed(ulong Cookie) : TopologyInput;
    /// <summary>Stop wanting any link (graceful leave).</summary>
    public sealed record Leave : TopologyInput;
}

public abstract record TopologyOutput
{
    public sealed record OpenLink(NodeId Peer, LinkKind Kind) : TopologyOutput;
    public sealed record CloseLink(NodeId Peer) : TopologyOutput;
    /// <summary>Lookup membership: find the owner of this point (a long-link draw); answered by TargetResolved/TargetFailed.</summary>
    public sealed record ResolveTarget(UInt128 Key, ulong Cookie) : TopologyOutput;
}
