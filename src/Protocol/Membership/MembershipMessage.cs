// The messages of Symphony's scalable membership (RingMembership) and their wire format. Each
// message travels either inside an overlay frame whose EtherType is EtherTypeMembership (the
// encoded message is the Ethernet payload) or through the signaling server, which relays the same
// bytes to any member by id. Written by hand: the format is ours, no served package provides it.
//
// All integers big-endian; node ids and keys are 16 bytes, most significant byte first.
//
//   offset  size  field
//        0     1  version            1
//        1     1  type               1 FindSuccessor, 2 FoundOwner, 3 FindFailed,
//                                    4 Stabilize, 5 StabilizeReply, 6 Leaving
//   FindSuccessor   request id (8) | origin (16) | key (16) | hops (1) | flags (1: bit 0 = join,
//                   bit 1 = introduce: the answering node learns the origin, bit 2 = nearest:
//                   the lookup may still go to the node nearest the key on either side)
//   FoundOwner      request id (8) | owner (16) | hops (1) | ring state
//   FindFailed      request id (8) | hops (1) | reason (1: a FindFailure)
//   Stabilize       nonce (8)
//   StabilizeReply  nonce (8) | spacing (8) | ring state
//   Leaving         ring state
//   ring state      has predecessor (1: 0 or 1) | predecessor (16, only if present)
//                   | successor count (1, 0..SuccessorsOnWireMax) | successors (16 each)
//
// "spacing" is the sender's smoothed estimate of the mean gap between adjacent ids, as a fraction
// of the ring in 0.64 fixed point (0 = no estimate); see SizeEstimator.
// Contract: Parse never throws on any input; it rejects a wrong version, an unknown type or
// failure reason, flags other than bits 0 to 2, a presence byte other than 0 or 1, a successor count
// above SuccessorsOnWireMax, and a length that disagrees with the fields (truncated or trailing
// bytes). Semantics (duplicates, self in a list) are the machine's business, not the parser's.
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Membership;

/// <summary>Why a node could not route a lookup on.</summary>
public enum FindFailure : byte
{
    /// <summary>The request reached LookupHopsMax hops without reaching the owner.</summary>
    HopsExceeded = 1,
    /// <summary>The node knows no node between itself and the key (it has no successor).</summary>
    NoRoute = 2,
    /// <summary>The node asked has not joined the ring (or has left it).</summary>
    NotJoined = 3,
}

public abstract record MembershipMessage
{
    public const byte Version = 1;
    /// <summary>The EtherType of overlay frames carrying a membership message (next to the flood's 0xC0C0).</summary>
    public const ushort EtherTypeMembership = 0xC0C1;
    /// <summary>Longest successor list a message may carry (the machine sends at most SuccessorListLength).</summary>
    public const int SuccessorsOnWireMax = 16;
    /// <summary>Longest encoding: FoundOwner with a predecessor and a full successor list.</summary>
    public const int EncodedLengthMax = 2 + 8 + 16 + 1 + 1 + 16 + 1 + 16 * SuccessorsOnWireMax;

    private MembershipMessage() { }

    /// <summary>Route towards the owner of Key (the first node at or clockwise after it); the owner
    /// answers Origin directly. Join: Key is Origin's own id and the answer carries the ring state there.
    /// Introduce: the answering node offers Origin as its successor or predecessor (joins, self-checks).
    /// Nearest: routed by ring distance on either side of the key until a node cannot (then
    /// clockwise only); see RingMembership.Route.</summary>
    public sealed record FindSuccessor(ulong RequestId, NodeId Origin, UInt128 Key, byte Hops, bool ForJoin, bool Introduce = false, bool Nearest = false) : MembershipMessage;

    /// <summary>The owner of the key of request RequestId, found after Hops hops. For a join,
    /// KeyPredecessor is the node just before the key and KeySuccessors the nodes from the owner on;
    /// for a plain lookup they are null and empty.</summary>
    public sealed record FoundOwner(ulong RequestId, NodeId Owner, byte Hops, NodeId? KeyPredecessor, NodeId[] KeySuccessors) : MembershipMessage;

    public sealed record FindFailed(ulong RequestId, byte Hops, FindFailure Reason) : MembershipMessage;

    /// <summary>Chord's stabilize and notify in one: "I may be your predecessor; who is yours, and who follows you?"</summary>
    public sealed record Stabilize(ulong Nonce) : MembershipMessage;

    public sealed record StabilizeReply(ulong Nonce, ulong Spacing, NodeId? Predecessor, NodeId[] Successors) : MembershipMessage;

    /// <summary>A graceful leave: the sender's predecessor and successors, so both sides can close the gap.</summary>
    public sealed record Leaving(NodeId? Predecessor, NodeId[] Successors) : MembershipMessage;
}
