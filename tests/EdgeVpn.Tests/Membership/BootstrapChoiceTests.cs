// BootstrapChoice: alone when nobody else is online; the lowest id starts the ring only after
// several joins through non-members failed; otherwise a seeded random other member, never itself.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using Xunit;

namespace EdgeVpn.Tests.Membership;

public class BootstrapChoiceTests
{
    private static NodeId Id(int i) => new((ulong)i, 0);
    private static readonly NodeId[] Online = [Id(1), Id(2), Id(3), Id(4)];

    [Fact]
    public void A_node_with_nobody_else_online_starts_the_ring_alone()
    {
        Assert.Null(BootstrapChoice.Choose(Id(5), [], 0, new DeterministicRandom(1)));
        Assert.Null(BootstrapChoice.Choose(Id(5), [Id(5)], 0, new DeterministicRandom(1)));
    }

    [Fact]
    public void The_lowest_node_starts_the_ring_only_after_enough_joins_through_non_members_failed()
    {
        var r = new DeterministicRandom(2);
        Assert.NotNull(BootstrapChoice.Choose(Id(1), Online, BootstrapChoice.NotJoinedFailuresToStart - 1, r));
        Assert.Null(BootstrapChoice.Choose(Id(1), Online, BootstrapChoice.NotJoinedFailuresToStart, r));
        // Not the lowest: it keeps trying members, however often it failed.
        Assert.NotNull(BootstrapChoice.Choose(Id(2), Online, 100, r));
    }

    [Fact]
    public void The_choice_is_another_online_member_drawn_from_the_seed_and_spread_over_all_of_them()
    {
        var seen = new HashSet<NodeId>();
        var r = new DeterministicRandom(3);
        for (int i = 0; i < 200; i++)
        {
            var pick = BootstrapChoice.Choose(Id(3), Online, 0, r);
            Assert.NotNull(pick);
            Assert.NotEqual(Id(3), pick);
            Assert.Contains(pick!.Value, Online);
            seen.Add(pick.Value);
        }
        Assert.Equal(3, seen.Count);
        Assert.Equal(BootstrapChoice.Choose(Id(3), Online, 0, new DeterministicRandom(9)), BootstrapChoice.Choose(Id(3), Online, 0, new DeterministicRandom(9)));
    }
}
