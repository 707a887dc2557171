// The simulator with --signaling xmpp: every node runs the real XMPP client session against the
// stanza-level virtual XMPP server. Overlays converge and flood exactly once with either
// membership; every node gets every member's presence as a stanza (n^2 of them); link signals
// cross the server as <message/> stanzas; a crash is seen by the others only after the crash
// detection time, a leave at once; an outage takes every session offline and they log in again
// after it; runs are a pure function of the seed.
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Checkers;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class XmppSignalingSimTests
{
    private static SimParameters Xmpp(int nodes, ulong seed, MembershipMode membership = MembershipMode.Presence) => new()
    {
        Nodes = nodes,
        Seed = seed,
        JoinWindow = TimeSpan.FromSeconds(2),
        Signaling = SignalingModel.Xmpp,
        Topology = new TopologyConfig { Membership = membership },
    };

    private static Simulation Converged(SimParameters parameters)
    {
        var sim = new Simulation(parameters);
        var c = ConvergeExperiment.Run(sim);
        Assert.True(c.Converged, "did not converge");
        Assert.Equal(0, c.RingViolations);
        return sim;
    }

    private static int RingViolations(Simulation sim)
    {
        RingChecker.Check(sim, sim.Parameters.Topology.SuccessorsMin, out int count);
        return count;
    }

    /// <summary>Whether node `watcher`'s own XMPP roster (what its session learnt from presence) holds node `member`.</summary>
    private static bool Sees(Simulation sim, int watcher, int member) =>
        sim.Nodes[watcher].Node!.Topology.View.Members.ToArray().Contains(sim.Nodes[member].Id);

    [Theory]
    [InlineData(MembershipMode.Presence, 40, 1UL)]
    [InlineData(MembershipMode.Lookup, 40, 2UL)]
    public void Overlays_with_xmpp_signaling_converge_and_a_flood_reaches_every_node_exactly_once(MembershipMode membership, int nodes, ulong seed)
    {
        var sim = Converged(Xmpp(nodes, seed, membership));
        var server = sim.XmppServer!;
        Assert.Equal(nodes, server.AvailableSessions);
        Assert.Equal(nodes, sim.Stats.XmppLogins);
        // Every node's presence went to every node (itself included: the echo), one stanza each.
        Assert.Equal((long)nodes * nodes, server.PresenceDelivered);
        Assert.Equal(0, sim.Stats.ProtocolErrors);
        Assert.Equal(0, sim.Stats.XmppDropped);
        var f = FloodExperiment.Run(sim);
        Assert.Equal(nodes, f.Reached);
        Assert.Equal(0, f.Duplicates);
        Assert.True(f.ReplyReturned);
    }

    [Fact]
    public void Link_signals_cross_the_server_as_message_stanzas_and_arrive_as_they_were_sent()
    {
        var sim = Converged(Xmpp(30, 3));
        var server = sim.XmppServer!;
        Assert.True(sim.Stats.LinksUp > 0);
        Assert.True(server.MessagesRouted > 0, "no signal crossed the server");
        // Each routed message reached a session that handed it on; none was refused or lost.
        Assert.Equal(server.MessagesRouted, sim.Stats.SignalMessages);
        Assert.Equal(0, server.MessagesDropped);
        Assert.Equal(0, sim.Stats.SignalsLost);
        Assert.True(sim.Stats.SignalingPayloadBytes > 100 * server.MessagesRouted / 2, "signal payloads are implausibly small");
        sim.CheckSignalingInvariants();
    }

    [Fact]
    public void Members_learn_of_a_crash_only_after_the_crash_detection_time_and_of_a_leave_at_once()
    {
        var sim = Converged(Xmpp(20, 4));
        Assert.True(Sees(sim, 0, 5) && Sees(sim, 0, 6));
        sim.Crash(5);
        sim.Leave(6);
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.True(Sees(sim, 0, 5), "a crash was seen before the server could notice it");
        Assert.False(Sees(sim, 0, 6), "a graceful leave was not seen within two seconds");
        sim.RunFor(sim.Parameters.CrashDetection);
        Assert.False(Sees(sim, 0, 5), "the crash was not seen after the crash detection time");
        Assert.Equal(18, sim.XmppServer!.AvailableSessions);
        Assert.True(sim.RunUntil(() => sim.IsConverged, sim.Now + TimeSpan.FromMinutes(5)));
        Assert.Equal(0, RingViolations(sim));
        Assert.Equal(18, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void A_restarted_node_logs_in_again_under_its_address_and_rejoins_the_overlay()
    {
        var sim = Converged(Xmpp(20, 5));
        sim.Crash(7);
        sim.RunFor(TimeSpan.FromSeconds(1));
        sim.Restart(7);   // before the server noticed the crash: the new login takes the address over
        Assert.True(sim.RunUntil(() => sim.IsConverged, sim.Now + TimeSpan.FromMinutes(5)));
        Assert.Equal(21, sim.Stats.XmppLogins);
        Assert.Equal(20, sim.XmppServer!.AvailableSessions);
        Assert.Equal(0, RingViolations(sim));
        var f = FloodExperiment.Run(sim);
        Assert.Equal(20, f.Reached);
        Assert.Equal(0, f.Duplicates);
    }

    [Fact]
    public void An_outage_takes_every_session_offline_and_after_it_they_log_in_again_and_the_overlay_converges()
    {
        var sim = Converged(Xmpp(20, 6));
        sim.SignalingDown = true;
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(0, sim.XmppServer!.OpenStreams);
        Assert.All(Enumerable.Range(0, 20), i => Assert.False(sim.SignalingOnline(i)));
        Assert.Equal(20, sim.Stats.XmppDisconnects);
        Assert.False(sim.IsConverged);
        // Links do not need the server once up: a flood still reaches everyone.
        Assert.Equal(20, FloodExperiment.Run(sim).Reached);

        sim.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(20, sim.Stats.XmppLogins);   // refused while down
        sim.SignalingDown = false;
        Assert.True(sim.RunUntil(() => sim.IsConverged, sim.Now + TimeSpan.FromMinutes(5)));
        Assert.Equal(40, sim.Stats.XmppLogins);
        Assert.Equal(20, sim.XmppServer.AvailableSessions);
        Assert.Equal(0, RingViolations(sim));
        sim.CheckSignalingInvariants();
    }

    [Fact]
    public void Xmpp_signaling_and_ice_links_run_together_through_nats()
    {
        var p = Xmpp(30, 7) with { NatMix = NatMix.Parse("none=0.3,port-restricted=0.5,symmetric=0.2").Value, LinkModel = LinkModel.Ice };
        var sim = Converged(p);
        Assert.True(sim.IceDatagramsSent > 0);
        Assert.True(sim.XmppServer!.MessagesRouted > 0);
        Assert.Equal(0, sim.Stats.ProtocolErrors);
        var f = FloodExperiment.Run(sim);
        Assert.Equal(30, f.Reached);
        Assert.Equal(0, f.Duplicates);
    }

    [Fact]
    public void The_same_seed_gives_the_same_xmpp_run_event_for_event()
    {
        static (ulong Hash, long Events, long Bytes) Run(ulong seed)
        {
            var sim = new Simulation(Xmpp(25, seed));
            ConvergeExperiment.Run(sim);
            return (sim.TraceHash, sim.Stats.Events, sim.XmppServer!.BytesOut);
        }
        var a = Run(8);
        Assert.Equal(a, Run(8));
        Assert.NotEqual(a.Hash, Run(9).Hash);
    }

    [Fact]
    public void Xmpp_signaling_refuses_more_nodes_than_it_can_carry_and_says_why()
    {
        var problem = (Xmpp(SimParameters.XmppNodesMax + 1, 1)).Validate();
        Assert.NotNull(problem);
        Assert.Contains("--signaling xmpp", problem);
        Assert.Null(Xmpp(SimParameters.XmppNodesMax, 1).Validate());
    }
}
