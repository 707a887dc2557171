// A snapshot of the overlay's connected links after (or during) a run: per node, its live
// neighbours (as node indices, sorted by index) and the kind of each link as its initiator named it.
// Used by the route experiment, the ring checker and the GraphML export.
using EdgeVpn.Protocol.Links;

namespace EdgeVpn.Sim;

public readonly record struct OverlayEdge(int Initiator, int Responder, LinkKind Kind);

public sealed class Overlay
{
    public int NodeCount { get; }
    public IReadOnlyList<OverlayEdge> Edges { get; }
    /// <summary>Adjacency in CSR form: neighbours of i are Targets[Offsets[i]..Offsets[i+1]].</summary>
    public int[] Offsets { get; }
    public int[] Targets { get; }

    private Overlay(int nodes, List<OverlayEdge> edges)
    {
        NodeCount = nodes;
        Edges = edges;
        var degree = new int[nodes + 1];
        foreach (var e in edges) { degree[e.Initiator]++; degree[e.Responder]++; }
        Offsets = new int[nodes + 1];
        for (int i = 0; i < nodes; i++) Offsets[i + 1] = Offsets[i] + degree[i];
        Targets = new int[Offsets[nodes]];
        var fill = (int[])Offsets.Clone();
        foreach (var e in edges) { Targets[fill[e.Initiator]++] = e.Responder; Targets[fill[e.Responder]++] = e.Initiator; }
        for (int i = 0; i < nodes; i++) Array.Sort(Targets, Offsets[i], Offsets[i + 1] - Offsets[i]);
    }

    public ReadOnlySpan<int> Neighbours(int node) => Targets.AsSpan(Offsets[node], Offsets[node + 1] - Offsets[node]);
    public int Degree(int node) => Offsets[node + 1] - Offsets[node];

    /// <summary>Links connected at both ends, each once (taken from its initiator's side).</summary>
    public static Overlay Capture(Simulation sim)
    {
        var edges = new List<OverlayEdge>();
        foreach (var n in sim.Nodes)
        {
            if (!n.Alive || n.Node is null) continue;
            foreach (var link in n.Node.ConnectedLinks())
            {
                if (!link.Initiator) continue;
                if (!sim.TryIndexOf(link.Peer, out int peer)) continue;
                var other = sim.Nodes[peer];
                if (!other.Alive || other.Node is null || !other.Node.IsConnectedTo(n.Id)) continue;
                edges.Add(new OverlayEdge(n.Index, peer, link.Kind));
            }
        }
        return new Overlay(sim.Nodes.Count, edges);
    }
}
