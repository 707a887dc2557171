// PeerSim's flooding workload: the graph is the promised ring plus 14 random out-links, the
// delays are uniform in [10, 100], and the flood obeys its exact laws: every node reached, the
// event count fixed by the degrees, first arrivals at shortest-path times (an independent
// Dijkstra over the same link delays), and a trace hash that is a pure function of the seed.
using EdgeVpn.Sim.Experiments;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Sim;

public class NaiveFloodTests
{
    private static readonly Gen<(int Nodes, ulong Seed)> SmallGraphs =
        from n in Gen.Choose(100, 5000)
        from seed in Seeds
        select (n, seed);

    [Fact]
    public void The_graph_is_symmetric_without_self_links_and_holds_the_ring_and_fourteen_out_links_per_node()
    {
        Check(SmallGraphs, c =>
        {
            var g = NaiveFloodGraph.Build(c.Nodes, c.Seed);
            for (int i = 0; i < g.Nodes; i++)
            {
                var row = g.Neighbours(i);
                if (row.Length < NaiveFloodGraph.OutLinksPerNode) return false;
                if (!row.Contains((i + 1) % g.Nodes) || !row.Contains((i + g.Nodes - 1) % g.Nodes) || row.Contains(i)) return false;
                for (int k = 0; k < row.Length; k++)
                {
                    if (k > 0 && row[k] <= row[k - 1]) return false; // sorted, no parallel links
                    if (!g.Neighbours(row[k]).Contains(i)) return false;
                }
            }
            // n ring links plus 14 n out-links, minus the merged parallel ones.
            return g.Links == g.Nodes + (long)NaiveFloodGraph.OutLinksPerNode * g.Nodes - g.MergedLinks && g.MergedLinks >= 0;
        }, maxTest: 30);
    }

    [Fact]
    public void The_flood_reaches_every_node_and_its_event_and_duplicate_counts_follow_from_the_degrees()
    {
        Check(SmallGraphs, c =>
        {
            var g = NaiveFloodGraph.Build(c.Nodes, c.Seed);
            var r = NaiveFlood.Run(g);
            long expected = g.Degree(NaiveFlood.Root);
            for (int i = 0; i < g.Nodes; i++) if (i != NaiveFlood.Root) expected += g.Degree(i) - 1;
            return r.Reached == g.Nodes && r.Events == expected && r.Duplicates == r.Events - (g.Nodes - 1)
                && r.Links == g.Links && r.PeakPending <= r.Events && r.LastReachTicks <= r.EndTicks;
        }, maxTest: 40);
    }

    [Fact]
    public void Every_first_arrival_is_at_the_shortest_path_time_under_the_link_delays()
    {
        Check(SmallGraphs, c =>
        {
            var g = NaiveFloodGraph.Build(c.Nodes, c.Seed);
            var arrival = new long[g.Nodes];
            var r = NaiveFlood.Run(g, arrival);
            var shortest = Dijkstra(g);
            return arrival.SequenceEqual(shortest) && r.LastReachTicks == shortest.Max();
        }, maxTest: 30);
    }

    /// <summary>The reference: plain Dijkstra from the root, the delay of u's k-th slot on u -> adjacency[k].</summary>
    private static long[] Dijkstra(NaiveFloodGraph g)
    {
        var dist = Enumerable.Repeat(long.MaxValue, g.Nodes).ToArray();
        var done = new bool[g.Nodes];
        var frontier = new PriorityQueue<int, long>();
        dist[NaiveFlood.Root] = 0;
        frontier.Enqueue(NaiveFlood.Root, 0);
        while (frontier.TryDequeue(out int u, out long d))
        {
            if (done[u]) continue;
            done[u] = true;
            for (int k = g.Offsets[u]; k < g.Offsets[u + 1]; k++)
            {
                int v = g.Adjacency[k];
                long via = d + g.DelayTicks(k);
                if (via < dist[v]) { dist[v] = via; frontier.Enqueue(v, via); }
            }
        }
        return dist.Select(x => x == long.MaxValue ? -1 : x).ToArray();
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_and_another_seed_another()
    {
        Check(SmallGraphs, c =>
        {
            var a = NaiveFlood.Run(NaiveFloodGraph.Build(c.Nodes, c.Seed));
            var b = NaiveFlood.Run(NaiveFloodGraph.Build(c.Nodes, c.Seed));
            var other = NaiveFlood.Run(NaiveFloodGraph.Build(c.Nodes, c.Seed + 1));
            return a == b && a.TraceHash != other.TraceHash;
        }, maxTest: 20);
    }

    [Fact]
    public void Link_delays_are_integers_uniform_over_ten_to_one_hundred()
    {
        var g = NaiveFloodGraph.Build(10_000, 7);
        var counts = new int[NaiveFloodGraph.DelayMaxTicks + 1];
        for (int k = 0; k < g.DegreeSum; k++) counts[g.DelayTicks(k)]++;
        Assert.All(counts[..NaiveFloodGraph.DelayMinTicks], c => Assert.Equal(0, c));
        double expected = g.DegreeSum / 91.0; // about 3,300 per value
        for (int d = NaiveFloodGraph.DelayMinTicks; d <= NaiveFloodGraph.DelayMaxTicks; d++)
            Assert.InRange(counts[d], expected * 0.9, expected * 1.1);
    }

    [Fact]
    public void Each_node_draws_its_out_links_uniformly_so_in_degrees_average_fourteen()
    {
        var g = NaiveFloodGraph.Build(20_000, 3);
        double meanDegree = (double)g.DegreeSum / g.Nodes;
        Assert.InRange(meanDegree, 29.9, 30.0); // 2 ring + 14 out + 14 in, a few parallel links merged
        int maxDegree = Enumerable.Range(0, g.Nodes).Max(g.Degree);
        Assert.InRange(maxDegree, 31, 50); // in-degrees are spread (binomial), not all equal
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 3, 4)]
    public void Tiny_graphs_link_everyone_and_flood_by_the_same_laws(int nodes, long links, long events)
    {
        var g = NaiveFloodGraph.Build(nodes, 1);
        var r = NaiveFlood.Run(g);
        Assert.Equal((links, nodes, events, events - (nodes - 1)), (g.Links, r.Reached, r.Events, r.Duplicates));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(NaiveFloodGraph.NodesMax + 1)]
    public void A_node_count_outside_the_supported_range_is_refused(int nodes)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NaiveFloodGraph.Build(nodes, 1));
        Assert.Contains("nodes must be in 1..", error.Message);
    }
}
