// Example tests of LinkManager: one behaviour each, named as sentences.
using EdgeVpn.Protocol.Core;
using Xunit;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using static EdgeVpn.Tests.Links.LinkTestKit;

namespace EdgeVpn.Tests.Links;

public class LinkManagerTests
{
    private static readonly NodeId Low = Id(10);
    private static readonly NodeId High = Id(20);

    [Fact]
    public void A_links_limit_beyond_what_the_neighbour_view_can_index_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Manager(1, config: Defaults with { LinksMax = ushort.MaxValue + 2 }));
        Assert.Contains("LinksMax must be at most 65536", e.Message);
        Assert.Null(Record.Exception(() => Manager(1, config: Defaults with { LinksMax = ushort.MaxValue + 1 })));
    }

    [Fact]
    public void Initiator_and_responder_negotiate_a_link_end_to_end()
    {
        var a = Manager(10, seed: 7);
        var b = Manager(20, seed: 8);
        var t = At(1);

        var request = a.Step(t, new LinkInput.Open(High, LinkKind.LongDistance)).Single<LinkOutput.SendSignal>();
        Assert.Equal(High, request.To);
        var req = Assert.IsType<LinkRequest>(request.Signal);
        Assert.Equal(LinkState.Requested, a.StateOf(High));

        var prepB = b.Step(t, new LinkInput.SignalReceived(Low, req)).Single<LinkOutput.PrepareEndpoint>();
        Assert.Equal(new LinkOutput.PrepareEndpoint(req.Link, Low, IceRole.Controlled), prepB);
        Assert.Equal(LinkState.Preparing, b.StateOf(Low));

        var response = b.Step(t, new LinkInput.EndpointPrepared(req.Link, "ep-B")).Single<LinkOutput.SendSignal>();
        Assert.Equal(new LinkResponse(req.Link, LinkRefusal.None, "ep-B", "fp-20"), response.Signal);
        Assert.Equal(LinkState.Responded, b.StateOf(Low));

        var prepA = a.Step(t, new LinkInput.SignalReceived(High, response.Signal)).Single<LinkOutput.PrepareEndpoint>();
        Assert.Equal(IceRole.Controlling, prepA.Role);

        var outA = a.Step(t, new LinkInput.EndpointPrepared(req.Link, "ep-A"));
        var complete = outA.Single<LinkOutput.SendSignal>();
        Assert.Equal(new LinkComplete(req.Link, "ep-A", "fp-10"), complete.Signal);
        Assert.Equal(new LinkOutput.ConnectTransport(req.Link, High, IceRole.Controlling, "ep-B", "fp-20"), outA.Single<LinkOutput.ConnectTransport>());
        Assert.Equal(LinkState.Connecting, a.StateOf(High));

        var connectB = b.Step(t, new LinkInput.SignalReceived(Low, complete.Signal)).Single<LinkOutput.ConnectTransport>();
        Assert.Equal(new LinkOutput.ConnectTransport(req.Link, Low, IceRole.Controlled, "ep-A", "fp-10"), connectB);

        var t2 = At(2);
        Assert.Equal(new LinkOutput.Connected(req.Link, High, LinkKind.LongDistance, true), a.Step(t2, new LinkInput.TransportUp(req.Link)).Single<LinkOutput.Connected>());
        Assert.Equal(new LinkOutput.Connected(req.Link, Low, LinkKind.LongDistance, false), b.Step(t2, new LinkInput.TransportUp(req.Link)).Single<LinkOutput.Connected>());
        Assert.Equal(req.Link, a.LinkIdOf(High));
        Assert.Equal(req.Link, b.LinkIdOf(Low));
        Assert.True(b.TryGetPeer(req.Link, out var peer) && peer == Low);
        Assert.Equal(1, b.CountIncoming(LinkKind.LongDistance));
        Assert.Equal(0, a.CountIncoming());
        Assert.False(a.HasPendingSetups);
        Assert.True(a.IsProtected(High, t2 + TimeSpan.FromSeconds(29)));
        Assert.False(a.IsProtected(High, t2 + Defaults.ProtectionWindow));
        var snap = Assert.Single(a.Snapshot());
        Assert.Equal(new LinkSnapshot(req.Link, High, LinkKind.LongDistance, LinkState.Connected, true, t, t2), snap);
    }

    [Fact]
    public void Lower_id_refuses_when_both_sides_ask_at_once()
    {
        var low = Manager(10);
        var own = (LinkRequest)low.Step(At(0), new LinkInput.Open(High, LinkKind.Successor)).Single<LinkOutput.SendSignal>().Signal;
        var theirs = new LinkRequest(new LinkId(999), LinkKind.Successor);

        var outputs = low.Step(At(0.1), new LinkInput.SignalReceived(High, theirs));

        var refusal = Assert.Single(outputs);
        Assert.Equal(new LinkOutput.SendSignal(High, new LinkResponse(theirs.Link, LinkRefusal.Collision, "", "")), refusal);
        Assert.Equal(own.Link, low.LinkIdOf(High));
        Assert.Equal(LinkState.Requested, low.StateOf(High));
    }

    [Fact]
    public void Higher_id_abandons_its_own_request_and_accepts_when_both_sides_ask_at_once()
    {
        var high = Manager(20);
        high.Step(At(0), new LinkInput.Open(Low, LinkKind.Successor));
        var theirs = new LinkRequest(new LinkId(999), LinkKind.Successor);

        var outputs = high.Step(At(0.1), new LinkInput.SignalReceived(Low, theirs));

        Assert.Equal(
            [new LinkOutput.Failed(Low, LinkFailure.Abandoned, LinkRefusal.None), new LinkOutput.PrepareEndpoint(theirs.Link, Low, IceRole.Controlled)],
            outputs);
        Assert.Equal(theirs.Link, high.LinkIdOf(Low));
        Assert.False(high.IsExcluded(Low, At(0.1)));
    }

    [Fact]
    public void A_collision_refusal_does_not_exclude_the_peer()
    {
        var high = Manager(20);
        var own = (LinkRequest)high.Step(At(0), new LinkInput.Open(Low, LinkKind.Successor)).Single<LinkOutput.SendSignal>().Signal;

        var outputs = high.Step(At(0.1), new LinkInput.SignalReceived(Low, new LinkResponse(own.Link, LinkRefusal.Collision, "", "")));

        Assert.Equal([new LinkOutput.Failed(Low, LinkFailure.Refused, LinkRefusal.Collision)], outputs);
        Assert.False(high.HasLink(Low));
        Assert.False(high.IsExcluded(Low, At(0.1)));
    }

    [Theory]
    [InlineData(1UL, 2UL)]
    [InlineData(2UL, 1UL)]
    [InlineData(0xFFFF_0000UL, 3UL)]
    public void Both_sides_opening_at_once_end_with_one_shared_link(ulong idA, ulong idB)
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var pair = new LinkPair(idA, idB, seed);
            pair.Inject(0, new LinkInput.Open(Id(idB), LinkKind.Successor));
            pair.Inject(1, new LinkInput.Open(Id(idA), LinkKind.Successor));
            pair.RunToQuiescence();
            Assert.Equal(LinkState.Connected, pair.Nodes[0].StateOf(Id(idB)));
            Assert.Equal(LinkState.Connected, pair.Nodes[1].StateOf(Id(idA)));
            Assert.Equal(pair.Nodes[0].LinkIdOf(Id(idB)), pair.Nodes[1].LinkIdOf(Id(idA)));
        }
    }

    [Fact]
    public void Refusals_exclude_the_peer_for_a_growing_jittered_backoff()
    {
        var config = new LinkConfig { BackoffBase = TimeSpan.FromSeconds(4), BackoffMax = TimeSpan.FromSeconds(40), BackoffJitter = 0.25 };
        var delays = RefusalBackoffs(seed: 3, config, rounds: 6);

        for (int f = 1; f <= delays.Count; f++)
        {
            double nominal = Math.Min(4 * Math.Pow(2, f - 1), 40);
            Assert.InRange(delays[f - 1].TotalSeconds, nominal * 0.75 - 1e-6, nominal * 1.25 + 1e-6);
        }
        Assert.True(delays[2] > delays[0]);
        Assert.Equal(delays, RefusalBackoffs(seed: 3, config, rounds: 6));
        Assert.NotEqual(delays, RefusalBackoffs(seed: 4, config, rounds: 6));
    }

    private static List<TimeSpan> RefusalBackoffs(ulong seed, LinkConfig config, int rounds)
    {
        var m = Manager(10, seed, config);
        var delays = new List<TimeSpan>();
        var now = At(100);
        for (int round = 0; round < rounds; round++)
        {
            var req = (LinkRequest)m.Step(now, new LinkInput.Open(High, LinkKind.Successor)).Single<LinkOutput.SendSignal>().Signal;
            var outputs = m.Step(now, new LinkInput.SignalReceived(High, new LinkResponse(req.Link, LinkRefusal.TooManyIncoming, "", "")));
            Assert.Equal([new LinkOutput.Failed(High, LinkFailure.Refused, LinkRefusal.TooManyIncoming)], outputs);
            Assert.Equal(round + 1, m.FailuresOf(High));
            Assert.True(m.IsExcluded(High, now));
            var until = m.ExcludedUntil(High, now)!.Value;
            delays.Add(until - now);

            // While excluded, an Open fails at once without signaling.
            Assert.Equal([new LinkOutput.Failed(High, LinkFailure.PeerExcluded, LinkRefusal.None)], m.Step(until - TimeSpan.FromTicks(1), new LinkInput.Open(High, LinkKind.Successor)));
            Assert.False(m.IsExcluded(High, until));
            now = until;
        }
        return delays;
    }

    [Fact]
    public void The_backoff_table_forgets_the_earliest_expiring_peer_when_full()
    {
        var m = Manager(1, config: Defaults with { BackoffPeersMax = 2, BackoffJitter = 0 });
        void Fail(ulong peer, double at)
        {
            var id = DriveInitiator(m, Id(peer), LinkState.Connecting, At(at));
            m.Step(At(at), new LinkInput.TransportDown(id));
        }
        Fail(5, 0);
        Fail(6, 1);
        Fail(6, 10); // second failure: excluded 10 s, until 20
        Fail(7, 11); // table full: peer 5 (until 5) goes, peer 6 (until 20) stays

        Assert.Equal(0, m.FailuresOf(Id(5)));
        Assert.Equal(2, m.FailuresOf(Id(6)));
        Assert.Equal(1, m.FailuresOf(Id(7)));
        Assert.Equal(At(20), m.ExcludedUntil(Id(6), At(11)));
    }

    [Fact]
    public void A_successful_link_forgets_earlier_failures()
    {
        var m = Manager(10);
        var req = (LinkRequest)m.Step(At(0), new LinkInput.Open(High, LinkKind.Successor)).Single<LinkOutput.SendSignal>().Signal;
        m.Step(At(0), new LinkInput.SignalReceived(High, new LinkResponse(req.Link, LinkRefusal.NotAccepting, "", "")));
        Assert.Equal(1, m.FailuresOf(High));

        DriveInitiator(m, High, LinkState.Connected, At(1000));

        Assert.Equal(0, m.FailuresOf(High));
    }

    [Fact]
    public void A_setup_that_never_completes_times_out_and_backs_off()
    {
        var m = Manager(10);
        DriveResponder(m, High, LinkState.Responded, At(0));
        DriveInitiator(m, Id(30), LinkState.Requested, At(1));

        Assert.Empty(m.Tick(At(29.9)));
        var first = m.Tick(At(30));
        Assert.Equal([new LinkOutput.CloseTransport(new LinkId(0xABCDEF), High), new LinkOutput.Failed(High, LinkFailure.SetupTimeout, LinkRefusal.None)], first);
        var second = m.Tick(At(31));
        Assert.Equal([new LinkOutput.Failed(Id(30), LinkFailure.SetupTimeout, LinkRefusal.None)], second);
        Assert.Equal(0, m.Count);
        Assert.True(m.IsExcluded(High, At(31)));
        Assert.True(m.IsExcluded(Id(30), At(31)));
        Assert.Null(m.PollTimeout());
    }

    [Fact]
    public void A_responder_refuses_excluded_peers_and_whatever_admission_refuses()
    {
        var admission = new ScriptedAdmission { Answer = LinkRefusal.TooManyIncomingLong };
        var m = Manager(10, admission: admission);
        var request = new LinkRequest(new LinkId(5), LinkKind.LongDistance);

        Assert.Equal([new LinkOutput.SendSignal(High, new LinkResponse(request.Link, LinkRefusal.TooManyIncomingLong, "", ""))],
            m.Step(At(0), new LinkInput.SignalReceived(High, request)));
        Assert.Equal(0, m.Count);

        admission.Answer = LinkRefusal.None;
        DriveResponder(m, High, LinkState.Connecting, At(1), link: 6);
        m.Step(At(2), new LinkInput.TransportDown(new LinkId(6)));
        Assert.True(m.IsExcluded(High, At(2)));
        int calls = admission.Calls;
        Assert.Equal([new LinkOutput.SendSignal(High, new LinkResponse(new LinkId(7), LinkRefusal.Excluded, "", ""))],
            m.Step(At(2), new LinkInput.SignalReceived(High, new LinkRequest(new LinkId(7), LinkKind.Successor))));
        Assert.Equal(calls, admission.Calls);
    }

    [Fact]
    public void Requests_beyond_the_link_limit_are_refused_and_opens_fail()
    {
        var m = Manager(1, config: Defaults with { LinksMax = 2 });
        DriveInitiator(m, Id(2), LinkState.Requested, At(0));
        DriveResponder(m, Id(3), LinkState.Preparing, At(0), link: 33);

        Assert.Equal([new LinkOutput.SendSignal(Id(4), new LinkResponse(new LinkId(44), LinkRefusal.TooManyIncoming, "", ""))],
            m.Step(At(0), new LinkInput.SignalReceived(Id(4), new LinkRequest(new LinkId(44), LinkKind.Successor))));
        Assert.Equal([new LinkOutput.Failed(Id(5), LinkFailure.Abandoned, LinkRefusal.TooManyIncoming)],
            m.Step(At(0), new LinkInput.Open(Id(5), LinkKind.Successor)));
        Assert.Equal(2, m.Count);
    }

    [Fact]
    public void Every_sweep_sends_a_keep_alive_on_a_connected_link_even_right_after_hearing_from_the_peer()
    {
        var m = Manager(10);
        var id = DriveInitiator(m, High, LinkState.Connected, At(0));
        var wake = m.PollTimeout()!.Value;
        Assert.InRange(wake.Nanoseconds, 0, (At(0) + Defaults.KeepAliveInterval).Nanoseconds);

        Assert.Equal([new LinkOutput.SendKeepAlive(id, High)], m.Tick(wake));
        var next = m.PollTimeout()!.Value;
        Assert.Equal(wake + Defaults.KeepAliveInterval, next);
        Assert.Empty(m.Step(next - TimeSpan.FromMilliseconds(1), new LinkInput.Activity(id)));
        Assert.Equal([new LinkOutput.SendKeepAlive(id, High)], m.Tick(next));
    }

    [Fact]
    public void Activity_postpones_death()
    {
        var m = Manager(10);
        var id = DriveInitiator(m, High, LinkState.Connected, At(0));
        for (double s = 5; s < 200; s += 5)
        {
            m.Step(At(s), new LinkInput.Activity(id));
            while (m.PollTimeout() is { } t && t <= At(s))
                Assert.All(m.Tick(t), o => Assert.IsType<LinkOutput.SendKeepAlive>(o));
        }
        Assert.Equal(LinkState.Connected, m.StateOf(High));
    }

    [Fact]
    public void Two_idle_managers_that_only_exchange_keep_alives_keep_their_link_for_ten_minutes()
    {
        // Regression (seed 1, 30k nodes): a side that sent keep-alives only when it had heard
        // nothing for an interval fell silent while the other side's keep-alives arrived, and the
        // other side then removed the link as dead.
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var pair = new LinkPair(10, 20, seed) { DeliverKeepAlives = true };
            pair.Inject(0, new LinkInput.Open(High, LinkKind.Successor));
            pair.RunUntil(At(5));
            Assert.Equal(LinkState.Connected, pair.Nodes[0].StateOf(High));
            pair.RunUntil(At(600));
            Assert.Equal(LinkState.Connected, pair.Nodes[0].StateOf(High));
            Assert.Equal(LinkState.Connected, pair.Nodes[1].StateOf(Low));
            Assert.Contains(pair.Trace, t => t.Node == 1 && t.Output is LinkOutput.SendKeepAlive);
            Assert.DoesNotContain(pair.Trace, t => t.Output is LinkOutput.Removed);
        }
    }

    [Fact]
    public void A_link_without_activity_is_removed_as_dead()
    {
        var m = Manager(10);
        var id = DriveInitiator(m, High, LinkState.Connected, At(0));
        var all = new List<LinkOutput>();
        while (m.Count > 0 && m.PollTimeout() is { } t) all.AddRange(m.Tick(t));

        Assert.Contains(new LinkOutput.SendKeepAlive(id, High), all);
        Assert.Equal([new LinkOutput.CloseTransport(id, High), new LinkOutput.Removed(id, High, LinkRemoval.Dead)], all.TakeLast(2));
        Assert.Null(m.PollTimeout());
    }

    [Theory]
    [InlineData(true, LinkState.Requested)]
    [InlineData(true, LinkState.Preparing)]
    [InlineData(true, LinkState.Connecting)]
    [InlineData(true, LinkState.Connected)]
    [InlineData(false, LinkState.Preparing)]
    [InlineData(false, LinkState.Responded)]
    [InlineData(false, LinkState.Connecting)]
    [InlineData(false, LinkState.Connected)]
    public void Close_undoes_whatever_the_state_set_up(bool initiator, LinkState state)
    {
        var m = Manager(10);
        var id = initiator ? DriveInitiator(m, High, state, At(0)) : DriveResponder(m, High, state, At(0));
        Assert.Equal(state, m.StateOf(High));

        var outputs = m.Step(At(1), new LinkInput.Close(High));

        List<LinkOutput> expected = state switch
        {
            LinkState.Requested => [new LinkOutput.Failed(High, LinkFailure.Abandoned, LinkRefusal.None)],
            LinkState.Connected => [new LinkOutput.CloseTransport(id, High), new LinkOutput.Removed(id, High, LinkRemoval.ClosedLocally)],
            _ => [new LinkOutput.CloseTransport(id, High), new LinkOutput.Failed(High, LinkFailure.Abandoned, LinkRefusal.None)],
        };
        Assert.Equal(expected, outputs);
        Assert.False(m.HasLink(High));
        Assert.False(m.IsExcluded(High, At(1)));
        Assert.Empty(m.Step(At(1), new LinkInput.Close(High)));
    }

    [Fact]
    public void A_request_with_a_new_link_id_replaces_the_old_link()
    {
        var m = Manager(10);
        var old = DriveResponder(m, High, LinkState.Connected, At(0), link: 1);
        var fresh = new LinkRequest(new LinkId(2), LinkKind.Successor);

        var outputs = m.Step(At(5), new LinkInput.SignalReceived(High, fresh));

        Assert.Equal(
            [new LinkOutput.CloseTransport(old, High), new LinkOutput.Removed(old, High, LinkRemoval.Replaced), new LinkOutput.PrepareEndpoint(fresh.Link, High, IceRole.Controlled)],
            outputs);
        Assert.Equal(fresh.Link, m.LinkIdOf(High));
        Assert.Equal(LinkState.Preparing, m.StateOf(High));
    }

    [Fact]
    public void A_higher_initiator_replaces_its_link_when_the_lower_peer_asks_again()
    {
        var m = Manager(20);
        var old = DriveInitiator(m, Low, LinkState.Connected, At(0));
        var fresh = new LinkRequest(new LinkId(77), LinkKind.Successor);

        var outputs = m.Step(At(5), new LinkInput.SignalReceived(Low, fresh));

        Assert.Equal(
            [new LinkOutput.CloseTransport(old, Low), new LinkOutput.Removed(old, Low, LinkRemoval.Replaced), new LinkOutput.PrepareEndpoint(fresh.Link, Low, IceRole.Controlled)],
            outputs);
    }

    [Fact]
    public void A_lower_initiator_keeps_its_link_when_a_delayed_collision_request_arrives()
    {
        var m = Manager(10);
        var own = DriveInitiator(m, High, LinkState.Connected, At(0));
        var late = new LinkRequest(new LinkId(77), LinkKind.Successor);

        Assert.Equal([new LinkOutput.SendSignal(High, new LinkResponse(late.Link, LinkRefusal.Collision, "", ""))],
            m.Step(At(5), new LinkInput.SignalReceived(High, late)));
        Assert.Equal(own, m.LinkIdOf(High));
        Assert.Equal(LinkState.Connected, m.StateOf(High));
    }

    [Fact]
    public void A_duplicated_request_is_ignored()
    {
        var m = Manager(10);
        var request = new LinkRequest(new LinkId(9), LinkKind.OnDemand);
        m.Step(At(0), new LinkInput.SignalReceived(High, request));

        Assert.Empty(m.Step(At(1), new LinkInput.SignalReceived(High, request)));
        m.Step(At(1), new LinkInput.EndpointPrepared(request.Link, "ep"));
        Assert.Empty(m.Step(At(2), new LinkInput.SignalReceived(High, request)));
        Assert.Equal(LinkState.Responded, m.StateOf(High));
    }

    [Fact]
    public void An_oversized_endpoint_is_an_error_and_changes_nothing()
    {
        var config = Defaults with { EndpointLengthMax = 8 };
        var m = Manager(10, config: config);
        var id = DriveInitiator(m, High, LinkState.Requested, At(0));

        var outputs = m.Step(At(1), new LinkInput.SignalReceived(High, new LinkResponse(id, LinkRefusal.None, new string('x', 9), "fp")));
        var error = Assert.IsType<LinkOutput.Error>(Assert.Single(outputs));
        Assert.Equal("LinkManager", error.Problem.Machine);
        Assert.Equal(LinkState.Requested, m.StateOf(High));

        var responder = Manager(10, config: config);
        var rid = DriveResponder(responder, High, LinkState.Preparing, At(0));
        Assert.IsType<LinkOutput.Error>(Assert.Single(responder.Step(At(1), new LinkInput.EndpointPrepared(rid, new string('x', 9)))));
        Assert.Equal(LinkState.Preparing, responder.StateOf(High));
    }

    [Fact]
    public void Inputs_the_state_does_not_allow_are_errors_that_change_nothing()
    {
        var m = Manager(10);
        var id = DriveInitiator(m, High, LinkState.Requested, At(0));

        var up = Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.TransportUp(id))));
        Assert.Equal("Requested", up.Problem.State);
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.SignalReceived(High, new LinkComplete(id, "ep", "fp")))));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.SignalReceived(Id(30), new LinkResponse(id, LinkRefusal.None, "ep", "fp")))));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.SignalReceived(High, new LinkRequest(id, LinkKind.Successor)))));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.Open(m.Self, LinkKind.Successor))));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.Open(Id(40), (LinkKind)99))));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), null!)));
        Assert.IsType<LinkOutput.Error>(Assert.Single(m.Step(At(1), new LinkInput.SignalReceived(High, null!))));
        Assert.Equal(LinkState.Requested, m.StateOf(High));
        Assert.Equal(id, m.LinkIdOf(High));
    }

    [Fact]
    public void Inputs_for_unknown_links_are_ignored_as_races()
    {
        var m = Manager(10);
        var stranger = new LinkId(12345);
        Assert.Empty(m.Step(At(0), new LinkInput.SignalReceived(High, new LinkResponse(stranger, LinkRefusal.None, "ep", "fp"))));
        Assert.Empty(m.Step(At(0), new LinkInput.SignalReceived(High, new LinkComplete(stranger, "ep", "fp"))));
        Assert.Empty(m.Step(At(0), new LinkInput.EndpointPrepared(stranger, "ep")));
        Assert.Empty(m.Step(At(0), new LinkInput.TransportUp(stranger)));
        Assert.Empty(m.Step(At(0), new LinkInput.TransportDown(stranger)));
        Assert.Empty(m.Step(At(0), new LinkInput.Activity(stranger)));
        Assert.Empty(m.Step(At(0), new LinkInput.Close(High)));
        Assert.Equal(0, m.Count);
    }

    [Fact]
    public void Transport_down_before_connected_fails_and_backs_off_but_after_is_a_removal()
    {
        var m = Manager(10);
        var id = DriveInitiator(m, High, LinkState.Connecting, At(0));
        Assert.Equal([new LinkOutput.Failed(High, LinkFailure.TransportFailed, LinkRefusal.None)], m.Step(At(1), new LinkInput.TransportDown(id)));
        Assert.True(m.IsExcluded(High, At(1)));

        var later = At(1000);
        var id2 = DriveInitiator(m, High, LinkState.Connected, later);
        Assert.Equal([new LinkOutput.Removed(id2, High, LinkRemoval.ClosedByPeer)], m.Step(later, new LinkInput.TransportDown(id2)));
        Assert.False(m.IsExcluded(High, later));
    }

    [Fact]
    public void An_early_timeout_is_harmless()
    {
        var m = Manager(10);
        Assert.Null(m.PollTimeout());
        Assert.Empty(m.Tick(At(0)));
        DriveInitiator(m, High, LinkState.Preparing, At(1));
        var before = m.Snapshot();
        var wake = m.PollTimeout();

        Assert.Empty(m.Tick(At(1)));
        Assert.Empty(m.Tick(wake!.Value - TimeSpan.FromTicks(1)));

        Assert.Equal(before, m.Snapshot());
        Assert.Equal(wake, m.PollTimeout());
    }

    [Fact]
    public void There_is_no_timer_without_links_and_the_sweep_phase_depends_on_the_seed()
    {
        var phases = new HashSet<Instant>();
        for (ulong seed = 0; seed < 10; seed++)
        {
            var m = Manager(10, seed);
            DriveInitiator(m, High, LinkState.Connected, At(0));
            var wake = m.PollTimeout()!.Value;
            Assert.InRange(wake.Nanoseconds, 0, (At(0) + Defaults.KeepAliveInterval).Nanoseconds - 1);
            phases.Add(wake);
            m.Step(At(1), new LinkInput.Close(High));
            Assert.Null(m.PollTimeout());
        }
        Assert.True(phases.Count > 5);
    }

    [Fact]
    public void Snapshot_lists_records_in_peer_order()
    {
        var m = Manager(50);
        foreach (ulong p in new ulong[] { 90, 10, 70, 30 }) DriveInitiator(m, Id(p), LinkState.Requested, At(0));
        DriveResponder(m, Id(60), LinkState.Preparing, At(0), link: 600);

        Assert.Equal([Id(10), Id(30), Id(60), Id(70), Id(90)], m.Snapshot().Select(s => s.Peer));
        Assert.True(m.HasPendingSetups);
        Assert.Equal(1, m.CountIncoming());
        Assert.Equal(1, m.CountIncoming(LinkKind.LongDistance));
        Assert.Equal(0, m.CountIncoming(LinkKind.Successor));
    }

    [Fact]
    public void Every_transition_keeps_a_record_within_the_states_of_its_side()
    {
        foreach (bool initiator in new[] { true, false })
            foreach (var from in Enum.GetValues<LinkState>())
                foreach (var ev in Enum.GetValues<LinkEvent>())
                {
                    if (!LinkTransitions.TryGet(initiator, from, ev, out var t)) continue;
                    Assert.True(LinkTransitions.IsReachable(initiator, from), $"row from unreachable {from} (initiator={initiator})");
                    if (t.Next is { } next) Assert.True(LinkTransitions.IsReachable(initiator, next), $"{from} --{ev}--> {next} (initiator={initiator})");
                }
        Assert.False(LinkTransitions.TryGet(true, LinkState.Requested, LinkEvent.TransportUp, out _));
    }

    [Fact]
    public void A_zero_backoff_base_never_excludes_and_never_loops()
    {
        var config = Defaults with { BackoffBase = TimeSpan.Zero };
        Assert.Equal(TimeSpan.Zero, LinkBackoff.Delay(int.MaxValue, config));
        Assert.Equal(config.BackoffMax, LinkBackoff.Delay(int.MaxValue, Defaults));
    }
}
