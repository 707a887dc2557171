// Property tests for MembershipView: its binary-search lookups (IndexAtOrAfter, IndexAfter,
// Successor) must agree with a brute-force scan over clockwise distances on random views,
// including views clustered across the 0 / 2^128 - 1 seam and views with duplicate ids.
using EdgeVpn.Protocol.Ring;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Ring;

public sealed class MembershipViewTests
{
    private const int Many = 500;

    private static NodeId[] DistinctSorted(NodeId[] ids) => ids.Distinct().Order().ToArray();

    /// <summary>Brute force: the member at the smallest clockwise distance from id (0 allowed).</summary>
    private static NodeId? NearestAtOrAfter(NodeId[] members, NodeId id) =>
        members.Length == 0 ? null : members.MinBy(m => NodeId.ClockwiseDistance(id, m));

    /// <summary>Brute force: like NearestAtOrAfter but id itself counts as a full turn away.</summary>
    private static NodeId? NearestAfter(NodeId[] members, NodeId id) =>
        members.Length == 0 ? null : members.MinBy(m => unchecked(NodeId.ClockwiseDistance(id, m) - 1));

    [Fact]
    public void Members_are_the_distinct_ids_in_increasing_order() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Generators.NodeIdSets()), ids =>
        {
            var view = new MembershipView(ids, 1);
            view.CheckInvariants();
            return view.Members.ToArray().SequenceEqual(DistinctSorted(ids)) && view.Count == ids.Distinct().Count();
        }));

    [Fact]
    public void Building_a_view_does_not_modify_the_callers_array()
    {
        var ids = new[] { new NodeId(3), new NodeId(1), new NodeId(2) };
        _ = new MembershipView(ids, 1);
        Assert.Equal(new[] { new NodeId(3), new NodeId(1), new NodeId(2) }, ids);
    }

    [Fact]
    public void Contains_matches_brute_force() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.MembersAndQuery, mq =>
            new MembershipView(mq.Members, 1).Contains(mq.Query) == mq.Members.Contains(mq.Query)));

    [Fact]
    public void IndexAtOrAfter_finds_the_nearest_member_at_or_clockwise_after_the_id() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.MembersAndQuery, mq =>
        {
            var view = new MembershipView(mq.Members, 1);
            int i = view.IndexAtOrAfter(mq.Query);
            var expected = NearestAtOrAfter(mq.Members, mq.Query);
            return expected is null ? i == -1 : i >= 0 && view[i] == expected.Value;
        }));

    [Fact]
    public void IndexAfter_finds_the_nearest_member_strictly_clockwise_after_the_id() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.MembersAndQuery, mq =>
        {
            var view = new MembershipView(mq.Members, 1);
            int i = view.IndexAfter(mq.Query);
            var expected = NearestAfter(mq.Members, mq.Query);
            return expected is null ? i == -1 : i >= 0 && view[i] == expected.Value;
        }));

    [Fact]
    public void Successors_are_the_other_members_in_clockwise_distance_order() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.MembersAndQuery, mq =>
        {
            var view = new MembershipView(mq.Members, 1);
            var expected = DistinctSorted(mq.Members)
                .Where(m => m != mq.Query)
                .OrderBy(m => NodeId.ClockwiseDistance(mq.Query, m))
                .ToArray();
            for (int k = 1; k <= expected.Length; k++)
                if (view.Successor(mq.Query, k) != expected[k - 1]) return false;
            return view.Successor(mq.Query, 0) is null
                && view.Successor(mq.Query, -1) is null
                && view.Successor(mq.Query, expected.Length + 1) is null;
        }));

    [Fact]
    public void Successor_wraps_across_the_seam()
    {
        var max = new NodeId(UInt128.MaxValue);
        var view = new MembershipView([new NodeId(7), max, NodeId.Zero, new NodeId(UInt128.MaxValue - 3)], 1);
        Assert.Equal(NodeId.Zero, view.Successor(max, 1));
        Assert.Equal(new NodeId(7), view.Successor(max, 2));
        Assert.Equal(new NodeId(UInt128.MaxValue - 3), view.Successor(max, 3));
        Assert.Null(view.Successor(max, 4));
        Assert.Equal(max, view.Successor(new NodeId(UInt128.MaxValue - 1), 1));
        Assert.Equal(2, view.IndexAtOrAfter(new NodeId(8)));
        Assert.Equal(3, view.IndexAtOrAfter(new NodeId(UInt128.MaxValue - 2)));
        Assert.Equal(0, view.IndexAfter(max));
    }

    [Fact]
    public void A_single_member_is_its_own_only_neighbour_and_has_no_successor()
    {
        var a = new NodeId(42);
        var view = new MembershipView([a], 1);
        Assert.Equal(0, view.IndexAfter(a));
        Assert.Equal(0, view.IndexAtOrAfter(a));
        Assert.Null(view.Successor(a, 1));
        Assert.Equal(a, view.Successor(new NodeId(43), 1));
    }

    [Fact]
    public void The_empty_view_answers_minus_one_and_null()
    {
        var view = MembershipView.Empty;
        Assert.Equal(0, view.Count);
        Assert.Equal(-1, view.IndexAfter(NodeId.Zero));
        Assert.Equal(-1, view.IndexAtOrAfter(NodeId.Zero));
        Assert.Null(view.Successor(NodeId.Zero, 1));
        Assert.False(view.Contains(NodeId.Zero));
        view.CheckInvariants();
    }

    [Fact]
    public void CheckInvariants_rejects_an_unsorted_view_vouched_for_as_sorted()
    {
        var view = new MembershipView([new NodeId(2), new NodeId(1)], 1, alreadySortedUnique: true);
        Assert.Throws<EdgeVpn.Protocol.Core.InvariantViolation>(view.CheckInvariants);
    }
}
