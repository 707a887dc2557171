// A test harness: n BoundedFlood machines over bidirectional links, with an in-test message pool
// drained in a seeded random order (messages overtake each other), counting deliveries per node.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Tests.Flood;

internal sealed class FloodNetwork
{
    public readonly NodeId[] Ids;              // sorted clockwise
    public readonly NeighbourTable[] Tables;
    public readonly BoundedFlood[] Floods;
    private readonly Dictionary<NodeId, int> _index = new();
    private readonly Dictionary<LinkId, (int A, int B)> _links = new();
    private ulong _nextLink = 1;

    public int Count => Ids.Length;
    public int LinkCount => _links.Count;

    public FloodNetwork(NodeId[] ids, FloodConfig? config = null)
    {
        Ids = (NodeId[])ids.Clone();
        Array.Sort(Ids);
        Tables = new NeighbourTable[Ids.Length];
        Floods = new BoundedFlood[Ids.Length];
        for (int i = 0; i < Ids.Length; i++)
        {
            _index.Add(Ids[i], i);
            Tables[i] = new NeighbourTable(Ids[i]);
            Floods[i] = new BoundedFlood(Tables[i], config);
        }
    }

    /// <summary>Links a and b both ways (no-op when a == b or they are linked already).</summary>
    public void Link(int a, int b)
    {
        if (a == b || Tables[a].Contains(Ids[b])) return;
        var id = new LinkId(_nextLink++);
        _links.Add(id, (a, b));
        Tables[a].Add(Ids[b], id);
        Tables[b].Add(Ids[a], id);
    }

    public void LinkRingSuccessors()
    {
        for (int i = 0; i < Count; i++) Link(i, (i + 1) % Count);
    }

    /// <summary>The node at or clockwise after the point (the node "managing" it).</summary>
    public int AtOrAfter(NodeId point)
    {
        int i = Array.BinarySearch(Ids, point);
        if (i < 0) i = ~i;
        return i == Count ? 0 : i;
    }

    public sealed record Result(int[] Deliveries, int[] Hops, int MaxHops, int Messages, int HopDrops, List<string> Problems);

    public Result Flood(int root, DeterministicRandom order)
    {
        var inner = new ArpPacket(ArpOperation.Request, MacAddress.LocalFrom((ulong)root), 1, MacAddress.Zero, 2).ToFrame();
        var deliveries = new int[Count];
        var hops = new int[Count];
        var problems = new List<string>();
        var pool = new List<(int Node, FloodInput Input)> { (root, new FloodInput.Originate(inner)) };
        int messages = 0, maxHops = 0, hopDrops = 0;
        var now = Instant.Zero;
        while (pool.Count > 0)
        {
            int pick = order.NextInt(pool.Count);
            var (node, input) = pool[pick];
            pool[pick] = pool[^1];
            pool.RemoveAt(pool.Count - 1);
            var m = Floods[node];
            m.Handle(now, input);
            m.CheckInvariants();
            while (m.TryPollOutput(out var o))
            {
                switch (o)
                {
                    case FloodOutput.Forward f:
                        messages++;
                        var (a, b) = _links[f.Link];
                        int peer = _index[f.Peer];
                        if (!((a == node && b == peer) || (b == node && a == peer))) problems.Add($"node {node} sent to {peer} over a link that does not join them");
                        pool.Add((peer, new FloodInput.Received(f.Link, Ids[node], f.Frame)));
                        break;
                    case FloodOutput.Deliver d:
                        deliveries[node]++;
                        hops[node] = d.Hops;
                        maxHops = Math.Max(maxHops, d.Hops);
                        if (d.Root != Ids[root]) problems.Add($"node {node} delivered a flood of the wrong root");
                        if (!d.Inner.Span.SequenceEqual(inner)) problems.Add($"node {node} delivered a different inner frame");
                        break;
                    case FloodOutput.Dropped { Reason: FloodDropReason.HopsExceeded }:
                        hopDrops++;
                        break;
                    default:
                        problems.Add($"node {node}: unexpected {o}");
                        break;
                }
            }
        }
        return new Result(deliveries, hops, maxHops, messages, hopDrops, problems);
    }
}
