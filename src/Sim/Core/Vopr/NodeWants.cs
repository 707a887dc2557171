// What an unstable node is waiting for, in one line for a violation's detail: its successors and
// long-link targets with the state of the link to each, and, when it is not a member (lookup
// membership: joining, or never placed in a ring), that first, with the reason its last join
// failed. A node that wants nothing says so: the detail never ends in an empty list.
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;

namespace EdgeVpn.Sim.Vopr;

public static class NodeWants
{
    public static string Describe(Simulation sim, int index)
    {
        var n = sim.Nodes[index];
        string head = $"#{index} {n.Id.Short}: ";
        if (n.Node is not { } node) return head + (n.Alive ? "not started" : "down");
        var parts = new List<string>();
        if (node.MembershipPhaseNow is { } phase && phase != MembershipPhase.Member)
        {
            // Without this a node that never joined showed nothing at all (seed 989, lookup).
            var failed = sim.Recent?.LastReported<NodeEvent.JoinFailed>(index);
            string why = failed is not null ? $"last JoinFailed: {failed.Reason}"
                : sim.Recent is not null ? "no JoinFailed among its recent events" : "join failures not recorded";
            parts.Add($"not joined (lookup membership, {phase}; {why})");
        }
        foreach (var s in node.Topology.Successors)
            parts.Add($"successor {s.Short} {LinkTo(sim, node, s)}");
        foreach (var t in node.Topology.LongLinkTargets)
            parts.Add($"long {t.Short} {LinkTo(sim, node, t)}");
        if (parts.Count == 0) parts.Add("no successor or long-link target chosen");
        return head + string.Join(", ", parts);
    }

    private static string LinkTo(Simulation sim, EdgeNode node, Protocol.Ring.NodeId peer) =>
        node.Links.StateOf(peer)?.ToString() ?? (node.Links.IsExcluded(peer, sim.Now) ? "excluded (back-off)" : "no link");
}
