// Per-node checks of what a swarm run must never see, whatever the faults:
//  - no link setup left dangling past its timeout (a record not Connected for longer than
//    SetupTimeout plus one event's slack means the machine forgot its deadline);
//  - bounded memory per node (link records, neighbours, flows and MACs within their limits).
// Each returns the first problem found, in node order, or null.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Node;

namespace EdgeVpn.Sim.Checkers;

public sealed record NodeProblem(int Node, string Checker, string Detail);

public static class NodeStateChecker
{
    /// <summary>Grace beyond SetupTimeout: a deadline fires at its instant, so anything later is a bug.</summary>
    public static readonly TimeSpan SetupSlack = TimeSpan.FromMilliseconds(1);

    public static NodeProblem? DanglingSetup(Simulation sim, LinkConfig links)
    {
        var limit = links.SetupTimeout + SetupSlack;
        foreach (var n in sim.Nodes)
        {
            if (!n.Alive || n.Node is not { } node) continue;
            foreach (var s in node.Links.Snapshot())
            {
                if (s.State == LinkState.Connected) continue;
                var age = sim.Now - s.CreatedAt;
                if (age > limit)
                    return new NodeProblem(n.Index, "dangling-setup",
                        $"link {s.Link} to {s.Peer.Short} is {s.State} {age.TotalSeconds:F3} s after it was created (setup timeout {links.SetupTimeout.TotalSeconds} s)");
            }
        }
        return null;
    }

    public static NodeProblem? MemoryBound(Simulation sim, EdgeNodeConfig config)
    {
        foreach (var n in sim.Nodes)
        {
            if (!n.Alive || n.Node is not { } node) continue;
            string? problem =
                node.Links.Count > config.Links.LinksMax ? $"{node.Links.Count} link records, limit {config.Links.LinksMax}" :
                node.Neighbours.Count > config.Links.LinksMax ? $"{node.Neighbours.Count} neighbours, limit {config.Links.LinksMax}" :
                node.Flows.FlowCount > config.Flows.FlowsMax ? $"{node.Flows.FlowCount} flows, limit {config.Flows.FlowsMax}" :
                node.Flows.MacCount > config.Flows.MacsMax ? $"{node.Flows.MacCount} MACs, limit {config.Flows.MacsMax}" :
                null;
            if (problem is not null) return new NodeProblem(n.Index, "memory-bound", problem);
        }
        return null;
    }
}
