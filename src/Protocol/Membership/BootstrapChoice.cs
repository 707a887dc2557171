// Which member a lookup-membership node joins through when all it knows is who is online (the
// XMPP server's presence), shared by the real node's NodeDriver and the simulator's
// --signaling xmpp. Contract:
//  - nobody else online: null, the node starts the ring alone;
//  - its last NotJoinedFailuresToStart joins failed because the member it went through was not in
//    a ring either, and its id is the lowest online: nodes that came up together have been joining
//    through each other and nobody is a member yet, so the lowest starts the ring (null) and the
//    others join through it on their next try. Requiring several such failures keeps a node that
//    comes later, with a lower id than the ring's members, from starting a second ring because one
//    random draw hit another joiner;
//  - otherwise a random other online member (seeded), so that joiners spread over the ring instead
//    of all going through one node.
// Before this, the real node joined through the lowest other online member on its first presence
// and again only on a later presence: two nodes that came up together joined through each other,
// both failed, and neither ever formed a ring (and a node alone never started one).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Membership;

public static class BootstrapChoice
{
    public const int NotJoinedFailuresToStart = 3;

    /// <param name="online">The ids online, sorted, ours among them or not.</param>
    /// <param name="notJoinedFailures">Consecutive failed joins whose bootstrap was not a member.</param>
    public static NodeId? Choose(NodeId self, IReadOnlyList<NodeId> online, int notJoinedFailures, DeterministicRandom random)
    {
        int others = 0;
        bool lowest = true;
        foreach (var id in online)
        {
            if (id == self) continue;
            others++;
            if (id < self) lowest = false;
        }
        if (others == 0) return null;
        if (lowest && notJoinedFailures >= NotJoinedFailuresToStart) return null;
        int pick = random.NextInt(others);
        foreach (var id in online)
        {
            if (id == self) continue;
            if (pick-- == 0) return id;
        }
        throw new InvariantViolation("BootstrapChoice: a draw beyond the members online");
    }
}
