// The simulator's roster must behave exactly like the List<int> it replaced (same members in the
// same order), or runs would pick other members and change their traces.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public sealed class RosterTests
{
    [Fact]
    public void Adds_removes_and_picks_match_a_list_under_random_churn()
    {
        PropertyCheck.Run(Prop.ForAll(Arb.From(Gen.Choose(1, int.MaxValue)), Arb.From(Gen.Choose(1, 60)), (seed, nodes) =>
        {
            var random = new DeterministicRandom((ulong)seed);
            var roster = new Roster(nodes);
            var oracle = new List<int>();
            for (int step = 0; step < 2000; step++)
            {
                int node = random.NextInt(nodes);
                switch (random.NextInt(4))
                {
                    case 0:
                    case 1:
                        if (!oracle.Contains(node)) { oracle.Add(node); roster.Add(node); }
                        break;
                    case 2:
                        if (oracle.Remove(node) != roster.Remove(node)) return false;
                        break;
                    default:
                        // A restart in lookup mode: out and back in at the end.
                        bool was = oracle.Remove(node);
                        if (roster.Remove(node) != was) return false;
                        oracle.Add(node);
                        roster.Add(node);
                        break;
                }
                if (roster.Count != oracle.Count || roster.Contains(node) != oracle.Contains(node)) return false;
                if (oracle.Count > 0)
                {
                    int k = random.NextInt(oracle.Count);
                    if (roster[k] != oracle[k]) return false;
                }
            }
            return roster.InOrder().SequenceEqual(oracle);
        }));
    }

    [Fact]
    public void A_million_node_roster_with_heavy_churn_stays_in_order()
    {
        const int nodes = 1_000_000;
        var roster = new Roster(nodes);
        for (int i = 0; i < nodes; i++) roster.Add(i);
        // Remove every even node, then bring them back (each goes to the end, in this order).
        for (int i = 0; i < nodes; i += 2) Assert.True(roster.Remove(i));
        for (int i = 0; i < nodes; i += 2) roster.Add(i);
        Assert.Equal(nodes, roster.Count);
        Assert.Equal(1, roster[0]);
        Assert.Equal(nodes - 1, roster[nodes / 2 - 1]);
        Assert.Equal(0, roster[nodes / 2]);
        Assert.Equal(nodes - 2, roster[nodes - 1]);
    }

    [Fact]
    public void Adding_a_member_twice_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => { var r = new Roster(3); r.Add(1); r.Add(1); });
}
