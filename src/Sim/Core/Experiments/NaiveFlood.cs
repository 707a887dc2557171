// PeerSim's classic event-driven workload, for a side-by-side benchmark of the engine: node 0
// floods one message over a NaiveFloodGraph; a node receiving its first copy forwards it to every
// neighbour but the sender; later copies are counted as duplicates and dropped. An event is one
// message delivered. Messages are 8-byte (to, from) structs in a CalendarQueue (delays are integer
// ticks in [10, 100]); "received" is one bit per node, so the loop touches little memory besides
// the adjacency row of each newly reached node.
//
// Exact laws (the tests check them): on the connected graph every node is reached; events =
// degree(root) + sum over the other reached nodes of (degree - 1); duplicates = events -
// (reached - 1); a node's first-arrival time is its shortest-path time under the link delays.
// No clock is read here: the caller times the call.
using System.Runtime.CompilerServices;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.Engine;

namespace EdgeVpn.Sim.Experiments;

public sealed record NaiveFloodResult
{
    public required int Nodes { get; init; }
    public required long Links { get; init; }
    public required long MergedLinks { get; init; }
    /// <summary>Messages delivered.</summary>
    public required long Events { get; init; }
    public required int Reached { get; init; }
    /// <summary>Copies beyond the first, over all nodes.</summary>
    public required long Duplicates { get; init; }
    /// <summary>Time of the last delivery (the end of the run).</summary>
    public required long EndTicks { get; init; }
    /// <summary>Time at which the last node got its first copy.</summary>
    public required long LastReachTicks { get; init; }
    /// <summary>Most messages in flight at once.</summary>
    public required long PeakPending { get; init; }
    /// <summary>Order-sensitive hash of every delivery (time, to, from): equal runs have equal hashes.</summary>
    public required ulong TraceHash { get; init; }
}

public static class NaiveFlood
{
    public const int Root = 0;
    /// <summary>The progress callback is called once per this many events.</summary>
    public const long ProgressEveryEvents = 1 << 22;

    private struct Message
    {
        public int To;
        public int From;
    }

    /// <summary>
    /// Floods from node 0. When firstArrivalTicks is given (length Nodes) it receives each node's
    /// first-arrival time, -1 for a node never reached. progress receives the events so far.
    /// </summary>
    public static NaiveFloodResult Run(NaiveFloodGraph graph, long[]? firstArrivalTicks = null, Action<long>? progress = null)
    {
        int n = graph.Nodes;
        if (firstArrivalTicks is not null)
        {
            if (firstArrivalTicks.Length != n) throw new ArgumentException($"naive flood: firstArrivalTicks must have length {n}", nameof(firstArrivalTicks));
            Array.Fill(firstArrivalTicks, -1L);
        }
        int[] offsets = graph.Offsets, adjacency = graph.Adjacency;
        var received = new ulong[(n + 63) >> 6];
        var queue = new CalendarQueue<Message>(NaiveFloodGraph.DelayMaxTicks);

        MarkReceived(received, Root);
        if (firstArrivalTicks is not null) firstArrivalTicks[Root] = 0;
        for (int k = offsets[Root]; k < offsets[Root + 1]; k++)
            queue.Push(graph.DelayTicks(k), new Message { To = adjacency[k], From = Root });

        long events = 0, duplicates = 0, peakPending = queue.Count, lastReach = 0, time = 0;
        long nextProgress = ProgressEveryEvents;
        int reached = 1;
        ulong hash = StableHash.Of("naive-flood");
        while (queue.TryPop(out time, out var m))
        {
            events++;
            hash = StableHash.Combine(StableHash.Combine(hash, (ulong)time), (ulong)(uint)m.To << 32 | (uint)m.From);
            if (events == nextProgress) { nextProgress += ProgressEveryEvents; progress?.Invoke(events); }

            int to = m.To;
            if (!MarkReceived(received, to)) { duplicates++; continue; }
            reached++;
            lastReach = time;
            if (firstArrivalTicks is not null) firstArrivalTicks[to] = time;
            int end = offsets[to + 1];
            for (int k = offsets[to]; k < end; k++)
            {
                int next = adjacency[k];
                if (next == m.From) continue;
                queue.Push(time + graph.DelayTicks(k), new Message { To = next, From = to });
            }
            if (queue.Count > peakPending) peakPending = queue.Count;
        }

        return new NaiveFloodResult
        {
            Nodes = n,
            Links = graph.Links,
            MergedLinks = graph.MergedLinks,
            Events = events,
            Reached = reached,
            Duplicates = duplicates,
            EndTicks = time,
            LastReachTicks = lastReach,
            PeakPending = peakPending,
            TraceHash = hash,
        };
    }

    /// <summary>Sets the node's bit; true when it was not set before (a first copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MarkReceived(ulong[] bits, int node)
    {
        ref ulong word = ref bits[node >> 6];
        ulong bit = 1UL << node; // the shift count is taken mod 64
        if ((word & bit) != 0) return false;
        word |= bit;
        return true;
    }
}
