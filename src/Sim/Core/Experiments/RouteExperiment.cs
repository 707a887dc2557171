// route: after convergence, greedy routing between random pairs over the overlay's links
// (bidirectional): each hop goes to the neighbour with the smallest remaining clockwise
// distance to the target. Reports hop statistics; a pair where no neighbour gets closer is a
// routing failure (impossible while every node links to its successor).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Sim.Experiments;

public sealed record RouteResult
{
    public required int Pairs { get; init; }
    public required double MeanHops { get; init; }
    public required int MedianHops { get; init; }
    public required int P99Hops { get; init; }
    public required int MaxHops { get; init; }
    public required int Failures { get; init; }
}

public static class RouteExperiment
{
    public static RouteResult Run(Simulation sim, Overlay overlay, int pairs)
    {
        var random = new DeterministicRandom(sim.Parameters.Seed).Fork("route-pairs");
        var live = new List<int>();
        foreach (var n in sim.Nodes) if (n.Alive) live.Add(n.Index);
        var hops = new List<int>(pairs);
        int failures = 0;
        if (live.Count >= 2)
        {
            for (int p = 0; p < pairs; p++)
            {
                int src = live[random.NextInt(live.Count)];
                int dst;
                do dst = live[random.NextInt(live.Count)]; while (dst == src);
                int h = Greedy(sim, overlay, src, dst);
                if (h < 0) failures++; else hops.Add(h);
            }
        }
        hops.Sort();
        return new RouteResult
        {
            Pairs = pairs,
            MeanHops = hops.Count == 0 ? 0 : hops.Average(),
            MedianHops = Percentile(hops, 0.50),
            P99Hops = Percentile(hops, 0.99),
            MaxHops = hops.Count == 0 ? 0 : hops[^1],
            Failures = failures,
        };
    }

    /// <summary>Hops from src to dst by greedy clockwise routing, or -1 when it gets stuck.</summary>
    public static int Greedy(Simulation sim, Overlay overlay, int src, int dst)
    {
        NodeId target = sim.Nodes[dst].Id;
        int cur = src, hops = 0;
        while (cur != dst)
        {
            UInt128 best = NodeId.ClockwiseDistance(sim.Nodes[cur].Id, target);
            int next = -1;
            foreach (int nb in overlay.Neighbours(cur))
            {
                UInt128 d = NodeId.ClockwiseDistance(sim.Nodes[nb].Id, target);
                if (d < best) { best = d; next = nb; }
            }
            if (next < 0 || ++hops > overlay.NodeCount) return -1;
            cur = next;
        }
        return hops;
    }

    private static int Percentile(List<int> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1 < 0 ? 0 : (int)Math.Ceiling(q * sorted.Count) - 1)];
}
