// The overlay of PeerSim's classic flooding workload, built from a seed: a ring (node i linked to
// i - 1 and i + 1 mod n) plus OutLinksPerNode distinct random out-links per node (never itself;
// PeerSim's WireKOut), every link undirected. Stored as a compact CSR adjacency: the neighbours
// of node i are Adjacency[Offsets[i] .. Offsets[i + 1]], sorted, as int arrays (4 bytes a link
// end, no object per node).
//
// Parallel links are merged: when j drew i and i drew j, or a random link repeats a ring link,
// the two nodes are neighbours once. PeerSim does the same (IdleProtocol.addNeighbor refuses a
// neighbour it already holds), and it makes "forward to every neighbour but the sender" mean
// exactly degree - 1 messages. Degree is the number of distinct neighbours; MergedLinks counts
// what was merged (about OutLinksPerNode^2 + 2 * OutLinksPerNode in total, whatever n).
//
// Message delays are part of the graph: the message node u sends over its k-th adjacency slot
// (the directed link u -> Adjacency[k]) takes DelayTicks(k), an integer drawn uniformly in
// [DelayMinTicks, DelayMaxTicks] by hashing (delay seed, k). In a flood each directed link carries
// at most one message, so this is the same distribution as PeerSim's draw per message, and an
// independent reference (tests) can recompute every delay without replaying the event order.
using System.Runtime.CompilerServices;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.Experiments;

public sealed class NaiveFloodGraph
{
    public const int OutLinksPerNode = 14;
    public const int DelayMinTicks = 10;
    public const int DelayMaxTicks = 100;
    private const int DelaySpan = DelayMaxTicks - DelayMinTicks + 1;
    /// <summary>Bound on nodes: about 30 link ends per node must fit one int-indexed array.</summary>
    public const int NodesMax = 50_000_000;

    public int Nodes { get; }
    public ulong Seed { get; }
    /// <summary>Length Nodes + 1; row i is Adjacency[Offsets[i] .. Offsets[i + 1]].</summary>
    public int[] Offsets { get; }
    /// <summary>Neighbour ids, row by row (may have unused slack at the end after merging).</summary>
    public int[] Adjacency { get; }
    /// <summary>Parallel links merged away (each merge removes one link end from each side).</summary>
    public long MergedLinks { get; }
    public ulong DelaySeed { get; }

    public long DegreeSum => Offsets[Nodes];
    public long Links => DegreeSum / 2;
    public int Degree(int node) => Offsets[node + 1] - Offsets[node];
    public ReadOnlySpan<int> Neighbours(int node) => Adjacency.AsSpan(Offsets[node], Degree(node));

    private NaiveFloodGraph(int nodes, ulong seed, int[] offsets, int[] adjacency, long merged, ulong delaySeed)
    {
        (Nodes, Seed, Offsets, Adjacency, MergedLinks, DelaySeed) = (nodes, seed, offsets, adjacency, merged, delaySeed);
    }

    /// <summary>The delay of the message sent over adjacency slot k: uniform in [10, 100] ticks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DelayTicks(int slot)
    {
        // SplitMix64's finalizer, then a multiply-shift onto 91 values (bias below 91 / 2^32).
        ulong z = DelaySeed + (ulong)slot * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return DelayMinTicks + (int)(((z >> 32) * DelaySpan) >> 32);
    }

    public static NaiveFloodGraph Build(int nodes, ulong seed)
    {
        if (nodes < 1 || nodes > NodesMax) throw new ArgumentOutOfRangeException(nameof(nodes), $"naive flood: nodes must be in 1..{NodesMax}, got {nodes}");
        var master = new DeterministicRandom(seed);
        int outLinks = Math.Min(OutLinksPerNode, nodes - 1);
        Span<int> drawn = stackalloc int[OutLinksPerNode];

        // Two passes over the same random stream (count, then fill) instead of storing the
        // 14 * n out-links: the draws are cheap, the memory is not.
        var offsets = new int[nodes + 1];
        var graphRandom = master.Fork("graph");
        for (int i = 0; i < nodes; i++)
        {
            if (nodes > 1) offsets[i + 1] += 2; // i - 1 and i + 1 (the same node when n = 2; merged below)
            DrawOutLinks(graphRandom, i, nodes, drawn[..outLinks]);
            offsets[i + 1] += outLinks;
            foreach (int j in drawn[..outLinks]) offsets[j + 1]++;
        }
        for (int i = 0; i < nodes; i++) offsets[i + 1] += offsets[i];

        var adjacency = new int[offsets[nodes]];
        var fill = new int[nodes];
        Array.Copy(offsets, fill, nodes);
        graphRandom = master.Fork("graph");
        for (int i = 0; i < nodes; i++)
        {
            if (nodes > 1)
            {
                adjacency[fill[i]++] = i == 0 ? nodes - 1 : i - 1;
                adjacency[fill[i]++] = i == nodes - 1 ? 0 : i + 1;
            }
            DrawOutLinks(graphRandom, i, nodes, drawn[..outLinks]);
            foreach (int j in drawn[..outLinks])
            {
                adjacency[fill[i]++] = j;
                adjacency[fill[j]++] = i;
            }
        }

        long merged = MergeParallelLinks(nodes, offsets, adjacency);
        return new NaiveFloodGraph(nodes, seed, offsets, adjacency, merged, master.Fork("delays").NextUInt64());
    }

    /// <summary>Distinct uniform targets other than the node itself (sampling without replacement).</summary>
    private static void DrawOutLinks(DeterministicRandom random, int self, int nodes, Span<int> into)
    {
        for (int k = 0; k < into.Length; k++)
        {
            while (true)
            {
                int j = random.NextInt(nodes - 1);
                if (j >= self) j++;
                if (!into[..k].Contains(j)) { into[k] = j; break; }
            }
        }
    }

    /// <summary>Sorts each row, drops repeated neighbours and compacts the rows leftwards in place.</summary>
    private static long MergeParallelLinks(int nodes, int[] offsets, int[] adjacency)
    {
        int write = 0;
        int rowStart = 0;
        for (int i = 0; i < nodes; i++)
        {
            int rowEnd = offsets[i + 1];
            var row = adjacency.AsSpan(rowStart, rowEnd - rowStart);
            row.Sort();
            offsets[i] = write;
            for (int k = 0; k < row.Length; k++)
                if (k == 0 || row[k] != row[k - 1]) adjacency[write++] = row[k];
            rowStart = rowEnd;
        }
        long removed = offsets[nodes] - (long)write;
        offsets[nodes] = write;
        return removed / 2;
    }
}
