// The neighbour table: clockwise order from the node itself, replace/remove, and arc counts that
// agree with NodeId.IsInOpen on random tables.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Flood;

public class NeighbourTableTests
{
    private static NodeId N(ulong v) => new(0, v);

    [Fact]
    public void Neighbours_iterate_clockwise_starting_after_the_node_itself()
    {
        var t = new NeighbourTable(N(100));
        t.Add(N(50), new LinkId(5));
        t.Add(N(300), new LinkId(3));
        t.Add(N(200), new LinkId(2));
        var order = new List<ulong>();
        foreach (var n in t) order.Add(n.Id.Lower);
        Assert.Equal([200UL, 300UL, 50UL], order);
        Assert.Equal(3, t.Count);
        t.CheckInvariants();
    }

    [Fact]
    public void Adding_a_known_peer_replaces_its_link_and_removing_forgets_it()
    {
        var t = new NeighbourTable(N(100));
        Assert.True(t.Add(N(200), new LinkId(1)));
        Assert.False(t.Add(N(200), new LinkId(2)));
        Assert.True(t.TryGetLink(N(200), out var link));
        Assert.Equal(new LinkId(2), link);
        Assert.Equal(1, t.Count);
        Assert.True(t.Remove(N(200)));
        Assert.False(t.Remove(N(200)));
        Assert.False(t.TryGetLink(N(200), out _));
        t.Add(N(300), new LinkId(7));
        Assert.True(t.RemoveLink(new LinkId(7)));
        Assert.Equal(0, t.Count);
        Assert.Throws<ArgumentException>(() => t.Add(N(100), new LinkId(1)));
    }

    [Fact]
    public void The_arc_count_is_the_number_of_neighbours_strictly_inside_self_to_bound()
    {
        var t = new NeighbourTable(N(100));
        foreach (ulong v in new ulong[] { 150, 200, 250, 50 }) t.Add(N(v), new LinkId(v));
        Assert.Equal(2, t.CountInArc(N(220)));
        Assert.Equal(1, t.CountInArc(N(200)));
        Assert.Equal(0, t.CountInArc(N(100)));
        Assert.Equal(3, t.CountInArc(N(50)));
        Assert.Equal(4, t.CountInArc(N(60)));
    }

    [Fact]
    public void Arc_counts_agree_with_ring_arithmetic_on_random_tables()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            bool small = rng.NextInt(2) == 0; // small ids make collisions and wrap-around likely
            NodeId Pick() => small ? new NodeId(rng.NextUInt128() % 40) : new NodeId(rng.NextUInt128());
            var self = Pick();
            var t = new NeighbourTable(self);
            var model = new SortedDictionary<UInt128, NodeId>();
            for (int i = rng.NextInt(30); i > 0; i--)
            {
                var p = Pick();
                if (p == self) continue;
                if (rng.NextInt(4) == 0) { Assert.Equal(model.Remove(NodeId.ClockwiseDistance(self, p)), t.Remove(p)); continue; }
                Assert.Equal(model.TryAdd(NodeId.ClockwiseDistance(self, p), p), t.Add(p, new LinkId((ulong)i)));
            }
            t.CheckInvariants();
            Assert.Equal(model.Values.ToArray(), Enumerable.Range(0, t.Count).Select(t.IdAt).ToArray());
            for (int q = 0; q < 10; q++)
            {
                var bound = Pick();
                int expected = bound == self ? 0 : model.Values.Count(x => NodeId.IsInOpen(x, self, bound));
                Assert.Equal(expected, t.CountInArc(bound));
            }
            return true;
        });
    }
}
