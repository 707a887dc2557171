// NearestOnRing against the scan it replaces: over any set of peers sorted clockwise from an
// origin and any key (often mirrored pairs at equal distance, often near the seam), the bisected
// answer is the index the scan keeps: the nearest peer, the lower index on a tie.
using EdgeVpn.Protocol.Ring;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Ring;

public sealed class NearestOnRingTests
{
    private sealed class SortedView(NodeId[] ids) : IPeerView
    {
        public int Count => ids.Length;
        public NodeId IdAt(int index) => ids[index];
        public bool Contains(NodeId peer) => Array.IndexOf(ids, peer) >= 0;
    }

    private static int Scan(NodeId[] ids, NodeId key)
    {
        int best = -1;
        UInt128 bestDistance = UInt128.MaxValue;
        for (int i = 0; i < ids.Length; i++)
        {
            UInt128 d = NodeId.RingDistance(ids[i], key);
            if (best < 0 || d < bestDistance) { best = i; bestDistance = d; }
        }
        return best;
    }

    private static readonly Gen<(NodeId Origin, NodeId[] Peers, NodeId Key)> Cases =
        from origin in Generators.NodeIdMixed
        from key in Generators.NodeIdMixed
        from others in Generators.NodeIdMixed.ListOf()
        from mirror in Gen.Elements(false, true)
        from offset in Generators.UInt128Uniform
        let pair = mirror ? new[] { key.Add(offset), key.Add(UInt128.Zero - offset) } : []
        let peers = others.Concat(pair).Where(p => p != origin).Distinct()
            .OrderBy(p => NodeId.ClockwiseDistance(origin, p)).ToArray()
        select (origin, peers, key);

    [Fact]
    public void The_bisected_nearest_peer_is_the_one_a_scan_keeps_ties_included() =>
        PropertyCheck.Run(1000, Prop.ForAll(Cases.ToArbitrary(), c =>
            NearestOnRing.IndexOf(new SortedView(c.Peers), c.Origin, c.Key) == Scan(c.Peers, c.Key)));

    [Fact]
    public void Of_two_peers_at_the_same_distance_the_lower_index_is_the_answer()
    {
        var origin = new NodeId(0);
        var key = new NodeId(1000);
        var view = new SortedView([new NodeId(900), new NodeId(1100), new NodeId(5000)]);
        Assert.Equal(0, NearestOnRing.IndexOf(view, origin, key));
        // The same pair seen from an origin between them: 1100 now comes first.
        var shifted = new SortedView([new NodeId(1100), new NodeId(5000), new NodeId(900)]);
        Assert.Equal(0, NearestOnRing.IndexOf(shifted, new NodeId(1000), key));
    }

    [Fact]
    public void An_empty_view_has_no_nearest_peer() =>
        Assert.Equal(-1, NearestOnRing.IndexOf(new SortedView([]), new NodeId(5), new NodeId(7)));
}
