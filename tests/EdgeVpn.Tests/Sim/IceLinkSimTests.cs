// The simulator with --links ice: every link end runs the real ICE agent through virtual NAT
// boxes and STUN/TURN servers. Small overlays converge and flood exactly once; every setup's
// outcome (direct, relayed, failed) is the one the RFC 4787 prediction gives for the two NATs;
// without TURN the pairs that need a relay fail, as the modeled mode says; the run is a pure
// function of its seed; frames travel as the agents' datagrams through the NATs (or the relay), so
// a lost NAT mapping drops them at once and takes links down through consent, and the overlay heals.
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class IceLinkSimTests
{
    private const string Mix = "none=0.3,port-restricted=0.5,symmetric=0.2";

    private static SimParameters Ice(int nodes, ulong seed, string mix, bool turn = true) => new()
    {
        Nodes = nodes,
        Seed = seed,
        JoinWindow = TimeSpan.FromSeconds(2),
        NatMix = NatMix.Parse(mix).Value,
        TurnServer = turn,
        LinkModel = LinkModel.Ice,
    };

    /// <summary>IceOutcomes[predicted * 3 + measured].</summary>
    private static long Outcome(Simulation sim, IcePath predicted, IcePath measured) => sim.Stats.IceOutcomes[(int)predicted * 3 + (int)measured];

    private static long Contradictions(Simulation sim)
    {
        long n = 0;
        for (int p = 0; p < 3; p++)
            for (int m = 0; m < 3; m++)
                if (p != m) n += sim.Stats.IceOutcomes[p * 3 + m];
        return n;
    }

    /// <summary>Up links whose two NATs need the relay, by the prediction.</summary>
    private static int PredictedRelayedLinks(Simulation sim)
    {
        int n = 0;
        foreach (var e in Overlay.Capture(sim).Edges)
            if (NatPrediction.Predict(sim.NatOf(e.Initiator), sim.NatOf(e.Responder), sim.Parameters.TurnServer) == IcePath.Relayed) n++;
        return n;
    }

    [Theory]
    [InlineData(20, 1UL, "none=1")]
    [InlineData(30, 2UL, "port-restricted=1")]
    [InlineData(30, 3UL, "symmetric=1")]
    [InlineData(50, 4UL, Mix)]
    public void Small_overlays_with_ice_links_converge_and_a_flood_reaches_every_node_exactly_once(int nodes, ulong seed, string mix)
    {
        var sim = new Simulation(Ice(nodes, seed, mix));
        var c = ConvergeExperiment.Run(sim);
        Assert.True(c.Converged, "did not converge");
        Assert.Equal(0, c.RingViolations);
        Assert.Equal(0, c.ProtocolErrors);
        Assert.True(sim.IceDatagramsSent > 0, "no ICE datagram was sent");
        Assert.True(sim.IceLinkEnds >= 2 * (c.SuccessorLinks + c.LongLinks), "fewer agents than link ends");
        Assert.Equal(0, Contradictions(sim));
        var f = FloodExperiment.Run(sim);
        Assert.Equal(nodes, f.Reached);
        Assert.Equal(0, f.Duplicates);
        Assert.True(f.ReplyReturned);
        Assert.False(f.ReplyLooped);
    }

    [Fact]
    public void Relayed_links_in_ice_mode_are_exactly_those_the_prediction_says_need_the_relay_and_match_the_modeled_run()
    {
        var ice = new Simulation(Ice(60, 5, Mix));
        Assert.True(ConvergeExperiment.Run(ice).Converged);
        Assert.Equal(0, Contradictions(ice));
        Assert.True(Outcome(ice, IcePath.Relayed, IcePath.Relayed) > 0, "the mix made no relayed setup");
        Assert.Equal(ice.Stats.RelayedSetups, Outcome(ice, IcePath.Relayed, IcePath.Relayed));
        Assert.Equal(PredictedRelayedLinks(ice), ice.RelayedLinks);

        var modeled = new Simulation(Ice(60, 5, Mix) with { LinkModel = LinkModel.Modeled });
        Assert.True(ConvergeExperiment.Run(modeled).Converged);
        Assert.Equal(PredictedRelayedLinks(modeled), modeled.RelayedLinks);
        // Same seed, same NAT draw, same overlay: the same links need the relay in both modes.
        Assert.Equal(modeled.RelayedLinks, ice.RelayedLinks);
    }

    [Fact]
    public void Without_TURN_the_pairs_that_need_a_relay_fail_in_ice_mode_as_the_modeled_prediction_says()
    {
        var p = Ice(30, 6, "port-restricted=1,symmetric=1", turn: false) with { ConvergeDeadline = TimeSpan.FromSeconds(90) };
        var ice = new Simulation(p);
        ConvergeExperiment.Run(ice);
        Assert.True(Outcome(ice, IcePath.Fails, IcePath.Fails) > 0, "no setup between NATs that need a relay was tried");
        Assert.Equal(0, Contradictions(ice));
        Assert.True(Outcome(ice, IcePath.Direct, IcePath.Direct) > 0, "no direct setup succeeded");
        Assert.Equal(0, ice.Stats.RelayedSetups);
        Assert.Equal(ice.Stats.NatFailedSetups, Outcome(ice, IcePath.Fails, IcePath.Fails));

        var modeled = new Simulation(p with { LinkModel = LinkModel.Modeled });
        ConvergeExperiment.Run(modeled);
        Assert.True(modeled.Stats.NatFailedSetups > 0);
        Assert.Equal(0, modeled.Stats.RelayedSetups);
    }

    [Fact]
    public void Ice_mode_gives_the_same_trace_byte_for_byte_for_one_seed_and_another_seed_differs()
    {
        (string Trace, ulong Hash) Run(ulong seed)
        {
            var w = new StringWriter();
            var sim = new Simulation(Ice(20, seed, Mix), w);
            Assert.True(ConvergeExperiment.Run(sim).Converged);
            FloodExperiment.Run(sim);
            return (w.ToString(), sim.TraceHash);
        }
        var a = Run(7);
        Assert.Contains(" IceDatagram ", a.Trace, StringComparison.Ordinal);
        Assert.Equal(a, Run(7));
        Assert.NotEqual(a.Hash, Run(8).Hash);
    }

    [Fact]
    public void A_NAT_that_forgets_its_mappings_takes_links_down_through_consent_and_the_overlay_heals()
    {
        var sim = new Simulation(Ice(30, 9, "port-restricted=1,symmetric=1"));
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        long downBefore = sim.Stats.LinksDown;
        for (int i = 0; i < 30; i++)
            if (sim.NatOf(i) == "symmetric") Assert.Equal(0, sim.ExpireNatMappings(i));
        Assert.True(sim.Stats.NatExpiries > 0);
        sim.RunFor(TimeSpan.FromSeconds(60));   // consent times out after 30 s without a response
        Assert.True(sim.Stats.LinksDown > downBefore, "no link went down although NATs lost their mappings");
        Assert.True(sim.RunUntil(() => sim.IsConverged, sim.Now + TimeSpan.FromSeconds(300)), "did not heal");
        // Setups that overlapped the lost mappings may fail (the prediction assumes mappings that
        // live through the checks); every setup that connected took the predicted path.
        Assert.Equal(0, Contradictions(sim) - Outcome(sim, IcePath.Direct, IcePath.Fails) - Outcome(sim, IcePath.Relayed, IcePath.Fails));
        var f = FloodExperiment.Run(sim);
        Assert.Equal(30, f.Reached);
        Assert.Equal(0, f.Duplicates);
    }

    [Theory]
    [InlineData(30, 21UL, "port-restricted=1")]
    [InlineData(24, 22UL, "symmetric=1")]   // every frame through the TURN relay
    public void Flood_frames_travel_as_the_agents_datagrams_through_the_NATs(int nodes, ulong seed, string mix)
    {
        var sim = new Simulation(Ice(nodes, seed, mix));
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        long before = sim.IceFrameDatagrams;
        var f = FloodExperiment.Run(sim);
        Assert.Equal(nodes, f.Reached);
        Assert.Equal(0, f.Duplicates);
        Assert.True(f.ReplyReturned);
        // Every frame the flood and the reply put on a link left as at least one datagram (two legs when relayed).
        long sent = sim.IceFrameDatagrams - before;
        Assert.True(sent >= f.Messages, $"{sent} frame datagrams for {f.Messages} frames");
        if (mix == "symmetric=1") Assert.True(sent >= 2 * f.Messages, $"{sent} frame datagrams for {f.Messages} relayed frames");
        Assert.Equal(0, sim.FramesInFlight);
    }

    [Fact]
    public void Links_come_up_only_after_their_DTLS_handshake_which_retransmits_on_a_lossy_network()
    {
        var clean = new Simulation(Ice(30, 31, Mix));
        Assert.True(ConvergeExperiment.Run(clean).Converged);
        // Every end of every link that came up finished its handshake first (LinksUp counts both ends).
        Assert.True(clean.IceDtls.Done >= clean.Stats.LinksUp, $"{clean.IceDtls.Done} handshakes for {clean.Stats.LinksUp} link ends up");
        // Without loss a flight 1 is sent again only when it reached the controlled agent before that
        // agent selected the pair (it drops data off its selected pair), as a real one does.
        Assert.True(clean.IceDtls.Retransmits < clean.IceDtls.Done / 10, $"{clean.IceDtls.Retransmits} retransmits without loss");
        Assert.Equal(0, clean.IceDtls.Failures);

        var lossy = new Simulation(Ice(30, 31, Mix));
        lossy.Conditions.LossRate = 0.05;
        Assert.True(ConvergeExperiment.Run(lossy).Converged);
        Assert.True(lossy.IceDtls.Retransmits > clean.IceDtls.Retransmits, $"5% loss: {lossy.IceDtls.Retransmits} flights sent again, {clean.IceDtls.Retransmits} without loss");
        Assert.True(lossy.IceDtls.Done >= lossy.Stats.LinksUp);
        var f = FloodExperiment.Run(lossy);
        Assert.Equal(0, f.Duplicates);
    }

    [Fact]
    public void Frames_sent_just_after_a_NAT_forgot_its_mappings_are_lost_at_the_NAT_before_consent_notices()
    {
        const int nodes = 30;
        // The NAT preserves ports: a datagram the cut node sends to a peer between the expiry and the
        // flood (a keep-alive, a consent check) re-creates its mapping on the same port and re-opens
        // that peer's path, as on a real NAT. Seed 23 did that once DTLS ran at packet level (the
        // flood then reached all 30); with seed 24 the flood misses the cut node, as the test wants.
        var sim = new Simulation(Ice(nodes, 24, "port-restricted=1"));
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        const int cut = 7;
        sim.ExpireNatMappings(cut);   // consent needs 30 s to notice; the flood takes well under a second
        var f = FloodExperiment.Run(sim);
        Assert.Equal(0, f.LinkChangesDuringFlood);
        // Its peers' frames find no mapping at its NAT; its own leave from a new mapping that the
        // peers' agents do not know (not the selected pair). Modeled frames would have got through.
        if (f.Root == cut) Assert.Equal(1, f.Reached);
        else
        {
            Assert.Equal(nodes - 1, f.Reached);
            Assert.Contains(cut, f.Missed);
        }
        Assert.Equal(0, f.Duplicates);
        Assert.Equal(0, sim.FramesInFlight);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // lookup membership: its messages relayed by the server go as wire text too
    public void What_crosses_the_signaling_server_travels_as_the_real_node_s_signal_text(bool lookup)
    {
        var p = Ice(30, 31, Mix);
        if (lookup) p = p with { Topology = new TopologyConfig { Membership = MembershipMode.Lookup } };
        var sim = new Simulation(p);
        var c = ConvergeExperiment.Run(sim);
        Assert.True(c.Converged);
        Assert.Equal(0, c.ProtocolErrors);
        long relayed = sim.Stats.SignalMessages + (lookup ? sim.Stats.MembershipViaSignaling : 0);
        Assert.True(relayed > 0);
        // The shortest payload, a link request, is {"v":1,"t":"request","link":"<16 hex>","kind":"long"}: 59 bytes.
        Assert.True(sim.Stats.SignalingPayloadBytes >= 50 * relayed, $"{sim.Stats.SignalingPayloadBytes} bytes for {relayed} signals");
    }

    [Fact]
    public void A_signal_the_codec_refuses_is_dropped_and_reported_and_the_overlay_carries_on()
    {
        var sim = new Simulation(Ice(20, 32, "none=1"));
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        var errors = new List<string>();
        sim.Observer = (_, e) => { if (e is NodeEvent.Error err) errors.Add(err.Problem.ToString()); };
        long before = sim.Stats.ProtocolErrors;
        sim.RelaySignalText(0, 1, "not json");
        sim.RelaySignalText(0, 1, "{\"v\":2,\"t\":\"request\"}");
        sim.RelaySignalText(0, 1, SignalCodec.Encode(new MembershipMessage.FoundOwner(7, new NodeId(42), 3, null, [])));   // membership where a link signal goes
        sim.RunFor(TimeSpan.FromSeconds(1));
        sim.Observer = null;
        Assert.Equal(before + 3, sim.Stats.ProtocolErrors);
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.Contains("SignalingServer", e));
        Assert.Equal(20, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void A_partition_also_cuts_the_relayed_path_so_no_link_comes_up_across_it()
    {
        var sim = new Simulation(Ice(24, 11, "symmetric=1"));   // every link needs the TURN relay
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        var groupOf = Enumerable.Range(0, 24).Select(i => i % 2).ToArray();
        Assert.Contains(Overlay.Capture(sim).Edges, e => groupOf[e.Initiator] != groupOf[e.Responder]);
        sim.Conditions.Partition(groupOf);
        sim.RunFor(TimeSpan.FromSeconds(150));   // old links die (dead-link timeout); new setups across must fail
        Assert.DoesNotContain(Overlay.Capture(sim).Edges, e => groupOf[e.Initiator] != groupOf[e.Responder]);
        sim.Conditions.Heal();
        Assert.True(sim.RunUntil(() => sim.IsConverged, sim.Now + TimeSpan.FromSeconds(600)), "did not heal");
        Assert.Equal(24, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void Ice_mode_above_its_node_bound_is_refused_with_a_clear_error()
    {
        var p = new SimParameters { Nodes = SimParameters.IceNodesMax + 1, LinkModel = LinkModel.Ice };
        Assert.Contains("--links ice", p.Validate(), StringComparison.Ordinal);
        Assert.Null((p with { Nodes = SimParameters.IceNodesMax }).Validate());
        Assert.Null((p with { LinkModel = LinkModel.Modeled }).Validate());
        var e = Assert.Throws<ArgumentException>(() => new Simulation(p));
        Assert.Contains("use --links modeled", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LinkModel.Modeled)]
    [InlineData(LinkModel.Ice)]
    public void Both_link_models_measure_gathering_and_setup_times(LinkModel model)
    {
        var sim = new Simulation(Ice(20, 10, Mix) with { LinkModel = model });
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        Assert.True(sim.Stats.SetupTimes.Count >= sim.Stats.LinksUp / 2, "setups not measured");
        Assert.True(sim.Stats.GatherTimes.Count >= sim.Stats.SetupTimes.Count);
        Assert.InRange(sim.Stats.SetupTimes.MedianMs, 1, 30_000);
    }
}
