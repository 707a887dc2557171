// Inputs and outputs of RingMembership. The host (EdgeNode, a test harness) feeds what happens to
// the node and carries out the intents: Send goes over the overlay link to a neighbour, or through
// the signaling server when ViaSignaling (first contact with the bootstrap, replies to an origin
// that is not a neighbour, a successor not linked yet).
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Membership;

public abstract record MembershipInput
{
    private MembershipInput() { }

    /// <summary>Join the ring through any member (e.g. one the signaling server named).</summary>
    public sealed record Join(NodeId Bootstrap) : MembershipInput;
    /// <summary>Start a new ring of one (the first member).</summary>
    public sealed record JoinAsFirst : MembershipInput;
    /// <summary>A random member named by the signaling server, asked for with IntroducerWanted: the
    /// next self-check goes through it.</summary>
    public sealed record Introducer(NodeId Member) : MembershipInput;
    /// <summary>An overlay link to peer is up: lookups may be routed over it.</summary>
    public sealed record NeighbourUp(NodeId Peer) : MembershipInput;
    /// <summary>The overlay link to peer is gone; if peer is a successor it is presumed dead.</summary>
    public sealed record NeighbourDown(NodeId Peer) : MembershipInput;
    /// <summary>A parsed message from peer (over a link or relayed by signaling).</summary>
    public sealed record Received(NodeId From, MembershipMessage Message) : MembershipInput;
    /// <summary>Find the owner of key (the first member at or clockwise after it); answered by
    /// LookupResolved or LookupFailed carrying the same cookie.</summary>
    public sealed record Lookup(UInt128 Key, ulong Cookie) : MembershipInput;
    /// <summary>Leave gracefully: tell the predecessor and successor, then ignore everything.</summary>
    public sealed record Leave : MembershipInput;
}

public abstract record MembershipOutput
{
    private MembershipOutput() { }

    public sealed record Send(NodeId To, MembershipMessage Message, bool ViaSignaling) : MembershipOutput;
    /// <summary>The successor list changed (clockwise from the node, at most SuccessorListLength, never
    /// the node itself). An immutable snapshot: the machine never writes to it afterwards.</summary>
    public sealed record SuccessorsChanged(IReadOnlyList<NodeId> Successors) : MembershipOutput;
    /// <summary>The estimate of the overlay size moved by more than EstimateReportChangeMin.</summary>
    public sealed record SizeEstimate(int N) : MembershipOutput;
    /// <summary>The owner of the lookup's key, found after Hops overlay hops (0: known locally). May be the node itself.</summary>
    public sealed record LookupResolved(ulong Cookie, NodeId Owner, int Hops) : MembershipOutput;
    public sealed record LookupFailed(ulong Cookie, string Reason) : MembershipOutput;
    /// <summary>The node knows its successor for the first time since Join.</summary>
    public sealed record Joined(NodeId Successor) : MembershipOutput;
    /// <summary>The join lookup failed LookupRetriesMax + 1 times; the host may Join again through another member.</summary>
    /// <summary>BootstrapNotMember: the last attempt's answer was that the member joined through is
    /// not in a ring itself (it is joining too): nobody the node can reach may be a member yet.</summary>
    public sealed record JoinFailed(string Reason, bool BootstrapNotMember = false) : MembershipOutput;
    /// <summary>The self-check wants a random member from the signaling server (answer with Introducer).</summary>
    public sealed record IntroducerWanted : MembershipOutput;
}
