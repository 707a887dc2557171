// RingMembership alone: what one machine sends and decides for hand-made inputs (join, routing,
// hop limit, retries, stabilization back-off, successor failure, leave).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using Xunit;
using static EdgeVpn.Protocol.Membership.MembershipMessage;
using In = EdgeVpn.Protocol.Membership.MembershipInput;
using Out = EdgeVpn.Protocol.Membership.MembershipOutput;

namespace EdgeVpn.Tests.Membership;

public class RingMembershipTests
{
    private static readonly MembershipConfig Config = new();
    private static NodeId Id(ulong v) => new(0, v);
    private static readonly Instant T0 = Instant.FromSeconds(100);

    private static RingMembership Machine(ulong self) => new(Id(self), Config, new DeterministicRandom(self));

    private static List<Out> Drain(RingMembership m)
    {
        var list = new List<Out>();
        while (m.TryPollOutput(out var o)) list.Add(o);
        m.CheckInvariants();
        return list;
    }

    /// <summary>Node 100 joined through 999: its successors are 200, 300, 400, 500 and its predecessor 50.</summary>
    private static RingMembership Member(IPeerView? neighbours = null)
    {
        var m = new RingMembership(Id(100), Config, new DeterministicRandom(100), neighbours);
        m.Handle(T0, new In.Join(Id(999)));
        var ask = Assert.IsType<FindSuccessor>(Assert.IsType<Out.Send>(Drain(m).Single()).Message);
        m.Handle(T0, new In.Received(Id(999), new FoundOwner(ask.RequestId, Id(200), 3, Id(50), [Id(200), Id(300), Id(400), Id(500)])));
        Drain(m);
        return m;
    }

    [Fact]
    public void The_first_member_owns_every_key_and_answers_lookups_at_once()
    {
        var m = Machine(7);
        m.Handle(T0, new In.JoinAsFirst());
        Assert.Contains(new Out.Joined(Id(7)), Drain(m));
        m.Handle(T0, new In.Lookup(12345, 9));
        Assert.Equal([new Out.LookupResolved(9, Id(7), 0)], Drain(m));
    }

    [Fact]
    public void A_joiner_asks_the_bootstrap_through_signaling_for_its_own_id_and_adopts_the_answer()
    {
        var m = Machine(100);
        m.Handle(T0, new In.Join(Id(999)));
        var send = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.True(send.ViaSignaling);
        Assert.Equal(Id(999), send.To);
        var ask = Assert.IsType<FindSuccessor>(send.Message);
        Assert.True(ask.ForJoin);
        Assert.Equal(Id(100).Value, ask.Key);

        m.Handle(T0, new In.Received(Id(999), new FoundOwner(ask.RequestId, Id(200), 3, Id(50), [Id(200), Id(300), Id(400), Id(500)])));
        var outs = Drain(m);
        Assert.Equal(new Out.Joined(Id(200)), outs[0]);
        Assert.Equal([Id(200), Id(300), Id(400), Id(500)], Assert.Single(outs.OfType<Out.SuccessorsChanged>()).Successors);
        Assert.Equal(Id(50), m.Predecessor);
        Assert.Equal(MembershipPhase.Member, m.Phase);
        // The new predecessor hears the list at once (a push), and the successor is notified at once.
        Assert.Contains(outs, o => o is Out.Send { Message: StabilizeReply { Nonce: 0 } } s && s.To == Id(50));
        m.HandleTimeout(T0);
        Assert.Contains(Drain(m), o => o is Out.Send { Message: Stabilize } s && s.To == Id(200));
    }

    [Fact]
    public void A_join_whose_bootstrap_is_not_in_a_ring_fails_at_once_while_a_lost_answer_is_retried()
    {
        var m = Machine(100);
        m.Handle(T0, new In.Join(Id(999)));
        var ask = Assert.IsType<FindSuccessor>(Assert.IsType<Out.Send>(Drain(m).Single()).Message);
        m.Handle(T0, new In.Received(Id(999), new FindFailed(ask.RequestId, 1, FindFailure.NotJoined)));
        var failed = Assert.IsType<Out.JoinFailed>(Drain(m).Single());
        Assert.True(failed.BootstrapNotMember);
        Assert.Equal(MembershipPhase.Idle, m.Phase);
        // Nothing left to retry (the host picks another bootstrap): no FindSuccessor when time passes.
        m.HandleTimeout(T0 + Config.LookupRetryDelay * 3 + Config.LookupTimeout * 3);
        Assert.DoesNotContain(Drain(m), o => o is Out.Send { Message: FindSuccessor });

        // Any other failure of the bootstrap's answer is retried after LookupRetryDelay, as before.
        var n = Machine(101);
        n.Handle(T0, new In.Join(Id(999)));
        var ask2 = Assert.IsType<FindSuccessor>(Assert.IsType<Out.Send>(Drain(n).Single()).Message);
        n.Handle(T0, new In.Received(Id(999), new FindFailed(ask2.RequestId, 1, FindFailure.NoRoute)));
        Assert.Empty(Drain(n));
        Assert.Equal(MembershipPhase.Joining, n.Phase);
        n.HandleTimeout(n.PollTimeout()!.Value);
        Assert.IsType<FindSuccessor>(Assert.IsType<Out.Send>(Drain(n).Single()).Message);
    }

    [Fact]
    public void A_lookup_goes_to_the_known_node_nearest_the_key_on_either_side()
    {
        var m = Member();
        foreach (ulong n in new ulong[] { 1000, 5000, 9000 }) m.Handle(T0, new In.NeighbourUp(Id(n)));
        Drain(m);
        m.Handle(T0, new In.Lookup(Id(6000).Value, 1));
        var send = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.Equal(Id(5000), send.To);
        Assert.False(send.ViaSignaling);
        Assert.True(((FindSuccessor)send.Message).Nearest);
        m.Handle(T0, new In.Lookup(Id(8500).Value, 2)); // past the key, but nearer than 5000
        Assert.Equal(Id(9000), Assert.IsType<Out.Send>(Drain(m).Single()).To);
    }

    [Fact]
    public void With_the_nodes_peer_table_shared_lookups_route_over_the_tables_peers_as_it_changes()
    {
        var table = new NeighbourTable(Id(100));
        var m = Member(table);
        foreach (ulong n in new ulong[] { 1000, 5000, 9000 }) { table.Add(Id(n), new LinkId(n)); m.Handle(T0, new In.NeighbourUp(Id(n))); }
        Drain(m);
        m.Handle(T0, new In.Lookup(Id(6000).Value, 1));
        Assert.Equal(Id(5000), Assert.IsType<Out.Send>(Drain(m).Single()).To);

        table.Remove(Id(5000));
        m.Handle(T0, new In.NeighbourDown(Id(5000)));
        Drain(m);
        m.Handle(T0, new In.Lookup(Id(6000).Value, 2));
        Assert.Equal(Id(9000), Assert.IsType<Out.Send>(Drain(m).Single()).To);
    }

    [Fact]
    public void A_forwarded_join_never_goes_past_the_key_even_when_the_nearest_node_lies_past_it()
    {
        var m = Member();
        foreach (ulong n in new ulong[] { 1000, 5000, 9000 }) m.Handle(T0, new In.NeighbourUp(Id(n)));
        Drain(m);
        m.Handle(T0, new In.Received(Id(40), new FindSuccessor(3, Id(8500), Id(8500).Value, 2, ForJoin: true, Nearest: true)));
        var forward = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.Equal(Id(5000), forward.To);
        Assert.False(((FindSuccessor)forward.Message).Nearest);
    }

    [Fact]
    public void A_node_past_the_key_that_cannot_resolve_it_sends_it_on_clockwise_and_clears_the_nearest_flag()
    {
        // Its predecessor 50 left without naming another: 100 cannot claim key 90, and no node it
        // knows (200, 300, 400, 500) is nearer the key than itself.
        var m = Member();
        m.Handle(T0, new In.Received(Id(50), new Leaving(null, [])));
        Drain(m);
        Assert.Null(m.Predecessor);
        m.Handle(T0, new In.Received(Id(40), new FindSuccessor(4, Id(40), Id(90).Value, 2, false, Nearest: true)));
        var send = Assert.IsType<Out.Send>(Drain(m).Single());
        var forward = Assert.IsType<FindSuccessor>(send.Message);
        Assert.Equal(Id(500), send.To); // the farthest known node clockwise before the key
        Assert.False(forward.Nearest);
        Assert.Equal(3, forward.Hops);
    }

    [Fact]
    public void A_member_answers_keys_up_to_its_successor_and_forwards_others_with_one_more_hop()
    {
        var m = Member();
        m.Handle(T0, new In.Received(Id(40), new FindSuccessor(77, Id(40), Id(150).Value, 5, false)));
        var answer = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.Equal(Id(40), answer.To);
        Assert.Equal(new FoundOwner(77, Id(200), 5, null, []) with { KeySuccessors = ((FoundOwner)answer.Message).KeySuccessors }, answer.Message);

        m.Handle(T0, new In.Received(Id(40), new FindSuccessor(78, Id(40), Id(450).Value, 5, false)));
        var forward = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.Equal(Id(400), forward.To);
        Assert.Equal(6, ((FindSuccessor)forward.Message).Hops);
    }

    [Fact]
    public void A_lookup_at_LookupHopsMax_fails_back_to_its_origin()
    {
        var m = Member();
        m.Handle(T0, new In.Received(Id(40), new FindSuccessor(77, Id(40), Id(450).Value, (byte)Config.LookupHopsMax, false)));
        var send = Assert.IsType<Out.Send>(Drain(m).Single());
        Assert.Equal(Id(40), send.To);
        Assert.Equal(new FindFailed(77, (byte)Config.LookupHopsMax, FindFailure.HopsExceeded), send.Message);
    }

    [Fact]
    public void An_unanswered_lookup_is_retried_LookupRetriesMax_times_then_fails()
    {
        var m = Member();
        m.Handle(T0, new In.Lookup(Id(450).Value, 5));
        int sends = Drain(m).Count(o => o is Out.Send { Message: FindSuccessor });
        var now = T0;
        var failed = new List<Out.LookupFailed>();
        for (int step = 0; step < 20 && failed.Count == 0; step++)
        {
            now = m.PollTimeout() is { } t && t > now ? t : now + TimeSpan.FromSeconds(1);
            m.HandleTimeout(now);
            foreach (var o in Drain(m))
            {
                if (o is Out.Send { Message: FindSuccessor { Key: var k } } && k == Id(450).Value) sends++;
                if (o is Out.LookupFailed f) failed.Add(f);
                if (o is Out.Send { Message: Stabilize st } s) m.Handle(now, new In.Received(s.To, new StabilizeReply(st.Nonce, 0, Id(100), [Id(300), Id(400), Id(500)])));
            }
        }
        Assert.Equal(Config.LookupRetriesMax + 1, sends);
        Assert.Equal(5UL, Assert.Single(failed).Cookie);
        Assert.Equal(0, m.PendingLookups);
    }

    [Fact]
    public void The_stabilize_period_doubles_while_nothing_changes_and_stops_at_the_maximum()
    {
        var m = Member();
        var now = T0;
        var periods = new List<TimeSpan>();
        Instant? lastSent = null;
        for (int round = 0; round < 10; round++)
        {
            Stabilize? st = null;
            while (st is null) // other timers (the self-check) may come first
            {
                now = m.PollTimeout()!.Value;
                m.HandleTimeout(now);
                st = Drain(m).OfType<Out.Send>().Select(s => s.Message).OfType<Stabilize>().SingleOrDefault();
            }
            m.Handle(now, new In.Received(Id(50), new Stabilize(1))); // the predecessor stays in touch
            if (lastSent is { } l) periods.Add(now - l);
            lastSent = now;
            m.Handle(now, new In.Received(Id(200), new StabilizeReply(st.Nonce, 0, Id(100), [Id(300), Id(400), Id(500), Id(600)])));
            Drain(m);
        }
        // Jitter is 10%: each period is within 10% of 1, 2, 4, 8, 16, 30, 30... seconds.
        double[] expected = [1, 2, 4, 8, 16, 30, 30, 30, 30];
        for (int i = 0; i < periods.Count; i++)
            Assert.InRange(periods[i].TotalSeconds, expected[i] * 0.89, expected[i] * 1.11);
        Assert.Equal(Config.StabilizeIntervalMax, m.StabilizeInterval);
    }

    [Fact]
    public void Losing_the_first_successor_promotes_the_next_and_restarts_stabilization()
    {
        var m = Member();
        m.Handle(T0, new In.NeighbourUp(Id(200)));
        Drain(m);
        m.Handle(T0, new In.NeighbourDown(Id(200)));
        var changed = Assert.Single(Drain(m).OfType<Out.SuccessorsChanged>());
        Assert.Equal([Id(300), Id(400), Id(500)], changed.Successors);
        m.HandleTimeout(T0);
        Assert.Contains(Drain(m), o => o is Out.Send { Message: Stabilize } s && s.To == Id(300));
    }

    [Fact]
    public void A_successor_that_never_answers_stabilize_is_dropped_after_StabilizeMissesMax_requests()
    {
        var m = Member();
        var now = T0;
        int asked = 0;
        while (m.Successors[0] == Id(200) && asked < 10)
        {
            now = Instant.Max(now, m.PollTimeout()!.Value);
            m.HandleTimeout(now);
            asked += Drain(m).Count(o => o is Out.Send { Message: Stabilize } s && s.To == Id(200));
        }
        Assert.Equal(Config.StabilizeMissesMax, asked);
        Assert.Equal(Id(300), m.Successors[0]);
    }

    [Fact]
    public void Leaving_tells_predecessor_and_successor_and_then_ignores_everything()
    {
        var m = Member();
        m.Handle(T0, new In.Leave());
        var sends = Drain(m).OfType<Out.Send>().ToList();
        Assert.Equal([Id(200), Id(50)], sends.Select(s => s.To));
        Assert.All(sends, s => Assert.Equal(Id(50), ((Leaving)s.Message).Predecessor));
        Assert.Null(m.PollTimeout());
        m.Handle(T0, new In.Lookup(1, 1));
        Assert.Empty(Drain(m));
    }

    [Fact]
    public void A_join_answered_by_a_ring_that_already_lists_the_joiner_leaves_the_joiner_out()
    {
        var b = Machine(500);
        b.Handle(T0, new In.JoinAsFirst());
        b.Handle(T0, new In.NeighbourUp(Id(100)));
        Drain(b);
        Assert.Equal([Id(100)], b.Successors);
        b.Handle(T0, new In.Received(Id(100), new FindSuccessor(3, Id(100), Id(100).Value, 1, ForJoin: true)));
        var answer = (FoundOwner)Assert.IsType<Out.Send>(Drain(b).Single()).Message;
        Assert.DoesNotContain(Id(100), answer.KeySuccessors);
        Assert.Equal(Id(500), answer.Owner);
    }

    [Fact]
    public void Configuration_bounds_are_checked()
    {
        Assert.Null(Config.Validate());
        Assert.NotNull((Config with { SuccessorListLength = 0 }).Validate());
        Assert.NotNull((Config with { LookupHopsMax = 256 }).Validate());
        Assert.NotNull((Config with { StabilizeIntervalMax = TimeSpan.FromMilliseconds(10) }).Validate());
        Assert.Throws<ArgumentException>(() => new RingMembership(Id(1), Config with { PendingLookupsMax = 0 }, new DeterministicRandom(1)));
    }
}
