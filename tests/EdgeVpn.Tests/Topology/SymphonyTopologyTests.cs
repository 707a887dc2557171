// The Symphony topology alone: which links it asks for, when it trims, how it admits.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Topology;

public class SymphonyTopologyTests
{
    private static readonly Instant T0 = Instant.FromSeconds(1);

    private static MembershipView RandomView(int n, ulong seed, out NodeId[] ids)
    {
        var r = new DeterministicRandom(seed);
        ids = Enumerable.Range(0, n).Select(_ => new NodeId(r.NextUInt128())).ToArray();
        return new MembershipView(ids, 1);
    }

    private static List<TopologyOutput> Drain(SymphonyTopology t)
    {
        var list = new List<TopologyOutput>();
        while (t.TryPollOutput(out var o)) list.Add(o);
        return list;
    }

    [Fact]
    public void Asks_for_exactly_its_ring_successors_and_floor_log2_n_long_links()
    {
        PropertyCheck.Run(Prop.ForAll(Gen.Choose(5, 2000).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, seed) =>
        {
            var view = RandomView(n, (ulong)seed, out var ids);
            var self = ids[0];
            var links = new FakeLinkTable();
            var t = new SymphonyTopology(self, new TopologyConfig { LongLinkDelay = TimeSpan.Zero }, links, new DeterministicRandom((ulong)seed + 1));
            t.Handle(T0, new TopologyInput.MembershipChanged(view));
            var opens = Drain(t).OfType<TopologyOutput.OpenLink>().ToList();
            var sorted = ids.OrderBy(i => NodeId.ClockwiseDistance(self, i)).Where(i => i != self).ToList();
            var successors = opens.Where(o => o.Kind == LinkKind.Successor).Select(o => o.Peer).ToList();
            var longs = opens.Where(o => o.Kind == LinkKind.LongDistance).Select(o => o.Peer).ToList();
            t.CheckInvariants();
            return successors.SequenceEqual(sorted.Take(2))
                && longs.Count <= (int)Math.Floor(Math.Log2(n))
                && longs.Count >= (int)Math.Floor(Math.Log2(n)) - 2 // a slot may give up after its draws all hit successors
                && longs.Distinct().Count() == longs.Count
                && !longs.Contains(self) && !longs.Intersect(successors).Any();
        }));
    }

    [Fact]
    public void Builds_no_long_links_below_twice_SuccessorsMin_nodes()
    {
        var view = RandomView(3, 7, out var ids);
        var t = new SymphonyTopology(ids[0], new TopologyConfig { LongLinkDelay = TimeSpan.Zero }, new FakeLinkTable(), new DeterministicRandom(1));
        t.Handle(T0, new TopologyInput.MembershipChanged(view));
        var opens = Drain(t).OfType<TopologyOutput.OpenLink>().ToList();
        Assert.Equal(2, opens.Count);
        Assert.All(opens, o => Assert.Equal(LinkKind.Successor, o.Kind));
    }

    [Fact]
    public void Harmonic_sampler_stays_within_one_over_n_and_one_and_has_the_harmonic_log_mean()
    {
        var r = new DeterministicRandom(42);
        const int n = 1 << 16;
        double sumLog = 0;
        const int draws = 200_000;
        for (int i = 0; i < draws; i++)
        {
            double x = LongLinkDraw.Fraction(LongLinkSampler.Harmonic, n, r);
            Assert.InRange(x, 1.0 / n, 1.0);
            sumLog += Math.Log(x);
        }
        // For pdf 1/(x ln n) on [1/n, 1], ln x is uniform on [-ln n, 0]: its mean is -ln(n)/2.
        Assert.InRange(sumLog / draws, -Math.Log(n) / 2 - 0.05, -Math.Log(n) / 2 + 0.05);
    }

    [Fact]
    public void EdgeVpn_sampler_draws_shorter_spread_than_the_harmonic_one()
    {
        var r = new DeterministicRandom(3);
        const int n = 1 << 16;
        double minEdge = 1, minHarm = 1;
        for (int i = 0; i < 100_000; i++)
        {
            minEdge = Math.Min(minEdge, LongLinkDraw.Fraction(LongLinkSampler.EdgeVpnLog10, n, r));
            minHarm = Math.Min(minHarm, LongLinkDraw.Fraction(LongLinkSampler.Harmonic, n, r));
        }
        Assert.True(minEdge >= Math.Exp(-Math.Log10(n)) - 1e-12, "EdgeVPN's draw never goes below exp(-log10 n)");
        Assert.True(minHarm < minEdge);
    }

    [Fact]
    public void Refuses_a_long_link_when_holding_twice_k_incoming_long_links()
    {
        var view = RandomView(1024, 5, out var ids); // k = 10
        var links = new FakeLinkTable();
        var t = new SymphonyTopology(ids[0], new TopologyConfig { LongLinkDelay = TimeSpan.Zero }, links, new DeterministicRandom(1));
        t.Handle(T0, new TopologyInput.MembershipChanged(view));
        for (int i = 1; i <= 19; i++) links.Links[ids[i + 100]] = (LinkState.Connected, LinkKind.LongDistance, true);
        Assert.Equal(LinkRefusal.None, t.Admit(ids[500], LinkKind.LongDistance));
        links.Links[ids[200]] = (LinkState.Connected, LinkKind.LongDistance, true);
        Assert.Equal(LinkRefusal.TooManyIncomingLong, t.Admit(ids[500], LinkKind.LongDistance));
        Assert.Equal(LinkRefusal.None, t.Admit(ids[500], LinkKind.Successor));
    }

    /// <summary>A topology over 8 nodes with no long links, its first wants drained, and the three nodes farthest clockwise from it (not its successors).</summary>
    private static (SymphonyTopology T, FakeLinkTable Links, NodeId[] Strangers) EightNodesWithoutLongLinks()
    {
        var view = RandomView(8, 11, out var ids);
        var self = ids[0];
        var links = new FakeLinkTable();
        var t = new SymphonyTopology(self, new TopologyConfig { LongLinksMax = 0 }, links, new DeterministicRandom(1));
        t.Handle(T0, new TopologyInput.MembershipChanged(view));
        Drain(t);
        var strangers = ids.Where(i => i != self).OrderByDescending(i => NodeId.ClockwiseDistance(self, i)).Take(3).ToArray();
        return (t, links, strangers);
    }

    [Fact]
    public void Closes_a_link_it_initiated_only_once_unwanted_and_out_of_protection()
    {
        var (t, links, strangers) = EightNodesWithoutLongLinks();
        var stranger = strangers[0];
        links.Links[stranger] = (LinkState.Connected, LinkKind.LongDistance, false);
        links.Protected.Add(stranger);
        t.Handle(T0, new TopologyInput.LinkConnected(stranger, Initiator: true));
        Assert.DoesNotContain(Drain(t), o => o is TopologyOutput.CloseLink);
        Assert.NotNull(t.PollTimeout()); // it must come back to trim

        links.Protected.Clear();
        t.HandleTimeout(t.PollTimeout()!.Value);
        Assert.Contains(Drain(t), o => o is TopologyOutput.CloseLink c && c.Peer == stranger);
    }

    [Fact]
    public void Trims_only_links_it_initiated_as_the_link_table_shows_them()
    {
        var (t, links, strangers) = EightNodesWithoutLongLinks();
        links.Links[strangers[0]] = (LinkState.Connected, LinkKind.LongDistance, false);   // ours, unwanted
        links.Links[strangers[1]] = (LinkState.Connected, LinkKind.LongDistance, true);    // the peer's
        links.Links[strangers[2]] = (LinkState.Connecting, LinkKind.LongDistance, false);  // ours, not up yet
        t.Handle(T0, new TopologyInput.LinkConnected(strangers[0], Initiator: true));
        var closed = Drain(t).OfType<TopologyOutput.CloseLink>().Select(c => c.Peer).ToList();
        Assert.Equal([strangers[0]], closed);
    }

    [Fact]
    public void Redraws_long_links_when_the_overlay_doubles()
    {
        var small = RandomView(64, 9, out var ids);
        var self = ids[0];
        var t = new SymphonyTopology(self, new TopologyConfig { LongLinkDelay = TimeSpan.Zero }, new FakeLinkTable(), new DeterministicRandom(2));
        t.Handle(T0, new TopologyInput.MembershipChanged(small));
        var before = t.LongLinkTargets.ToList();
        var r = new DeterministicRandom(10);
        var more = ids.Concat(Enumerable.Range(0, 64).Select(_ => new NodeId(r.NextUInt128()))).ToArray();
        var doubled = new MembershipView(more, 2);
        t.Handle(T0 + TimeSpan.FromSeconds(1), new TopologyInput.MembershipChanged(doubled));
        Assert.Equal(before, t.LongLinkTargets.Take(before.Count).ToList()); // within the hold-off: no re-draw (k grew by one: one slot added)
        Assert.False(t.IsSatisfied);                      // ...but one is due
        t.HandleTimeout(T0 + new TopologyConfig { LongLinkDelay = TimeSpan.Zero }.RedrawHoldoff + TimeSpan.FromSeconds(1));
        Assert.Equal(7, t.LongLinkSlots);
        Assert.NotEqual(before, t.LongLinkTargets.ToList());
    }

    [Fact]
    public void Ignores_an_older_view_that_arrives_late()
    {
        var view = RandomView(32, 4, out var ids);
        var t = new SymphonyTopology(ids[0], new TopologyConfig { LongLinkDelay = TimeSpan.Zero }, new FakeLinkTable(), new DeterministicRandom(2));
        t.Handle(T0, new TopologyInput.MembershipChanged(view));
        t.Handle(T0, new TopologyInput.MembershipChanged(new MembershipView(ids.Take(4).ToArray(), 0)));
        Assert.Equal(32, t.View.Count);
    }

    [Fact]
    public void Asks_for_an_on_demand_link_once_traffic_crosses_the_threshold_and_trims_it_when_idle()
    {
        var view = RandomView(64, 12, out var ids);
        var self = ids[0];
        var links = new FakeLinkTable();
        var config = new TopologyConfig { LongLinksMax = 0, OnDemandThresholdBytes = 1000 };
        var t = new SymphonyTopology(self, config, links, new DeterministicRandom(2));
        t.Handle(T0, new TopologyInput.MembershipChanged(view));
        Drain(t);
        var far = ids.Where(i => i != self).OrderByDescending(i => NodeId.ClockwiseDistance(self, i)).First();
        t.Handle(T0, new TopologyInput.Traffic(far, 600));
        Assert.DoesNotContain(Drain(t), o => o is TopologyOutput.OpenLink { Kind: LinkKind.OnDemand });
        t.Handle(T0, new TopologyInput.Traffic(far, 600));
        Assert.Contains(Drain(t), o => o is TopologyOutput.OpenLink { Kind: LinkKind.OnDemand } open && open.Peer == far);

        links.Links[far] = (LinkState.Connected, LinkKind.OnDemand, false);
        t.Handle(T0, new TopologyInput.LinkConnected(far, Initiator: true));
        var later = T0 + config.OnDemandIdleTimeout + TimeSpan.FromSeconds(1);
        while (t.PollTimeout() is { } at && at <= later) t.HandleTimeout(at);
        t.HandleTimeout(later);
        while (t.PollTimeout() is { } at2 && at2 <= later + config.TickInterval * 2) t.HandleTimeout(at2);
        Assert.Contains(Drain(t), o => o is TopologyOutput.CloseLink c && c.Peer == far);
    }
}

public class SymphonyTopologyDelayTests
{
    [Fact]
    public void Long_links_wait_LongLinkDelay_after_the_first_view_while_successors_are_asked_for_at_once()
    {
        var r = new DeterministicRandom(1);
        var ids = Enumerable.Range(0, 256).Select(_ => new NodeId(r.NextUInt128())).ToArray();
        var config = new TopologyConfig { LongLinkDelay = TimeSpan.FromSeconds(10) };
        var t = new SymphonyTopology(ids[0], config, new FakeLinkTable(), new DeterministicRandom(2));
        var t0 = Instant.FromSeconds(3);
        t.Handle(t0, new TopologyInput.MembershipChanged(new MembershipView(ids, 1)));
        var first = new List<TopologyOutput>();
        while (t.TryPollOutput(out var o)) first.Add(o);
        Assert.All(first, o => Assert.Equal(LinkKind.Successor, ((TopologyOutput.OpenLink)o).Kind));
        Assert.False(t.IsSatisfied);
        Assert.Equal(t0 + config.LongLinkDelay, t.PollTimeout());

        t.HandleTimeout(t0 + config.LongLinkDelay);
        var later = new List<TopologyOutput>();
        while (t.TryPollOutput(out var o)) later.Add(o);
        Assert.Equal(8, later.Count(o => o is TopologyOutput.OpenLink { Kind: LinkKind.LongDistance }));
    }
}

public class SymphonyTopologyLookupTests
{
    private static readonly Instant T0 = Instant.FromSeconds(1);

    private static int Resolves(SymphonyTopology t)
    {
        int count = 0;
        while (t.TryPollOutput(out var o)) if (o is TopologyOutput.ResolveTarget) count++;
        return count;
    }

    [Fact]
    public void With_lookup_membership_the_long_link_count_follows_the_n_of_the_last_draw_not_every_wander_of_the_estimate()
    {
        var r = new DeterministicRandom(5);
        var self = new NodeId(r.NextUInt128());
        var successors = new[] { new NodeId(r.NextUInt128()), new NodeId(r.NextUInt128()) };
        var config = new TopologyConfig { Membership = MembershipMode.Lookup, LongLinkDelay = TimeSpan.Zero, RedrawHoldoff = TimeSpan.Zero };
        var t = new SymphonyTopology(self, config, new FakeLinkTable(), new DeterministicRandom(6));

        t.Handle(T0, new TopologyInput.RingChanged(successors, 1000));
        Assert.Equal(9, Resolves(t)); // floor(log2 1000)
        // 1100 would ask for 10 links, but it is within RedrawRatio of the drawn 1000: no change.
        t.Handle(T0 + TimeSpan.FromSeconds(1), new TopologyInput.RingChanged(successors, 1100));
        t.Handle(T0 + TimeSpan.FromSeconds(2), new TopologyInput.RingChanged(successors, 900));
        Assert.Equal(0, Resolves(t));
        t.CheckInvariants();
        // Twice the drawn n: a full re-draw with floor(log2 2100) = 11 slots.
        t.Handle(T0 + TimeSpan.FromSeconds(3), new TopologyInput.RingChanged(successors, 2100));
        Assert.Equal(11, Resolves(t));
        t.CheckInvariants();
    }
}
