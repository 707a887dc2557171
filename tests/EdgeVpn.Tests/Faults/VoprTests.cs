// The swarm runner: a seed fully determines the scenario and the printed outcome, and a bounded
// range of seeds runs clean (the full 1..500 is a command, see experiments/README.md).
using EdgeVpn.Sim;
using EdgeVpn.Sim.Vopr;
using Xunit;

namespace EdgeVpn.Tests.Faults;

public class VoprTests
{
    private static List<string> Lines(ulong seed)
    {
        var sc = VoprScenario.Draw(seed);
        return VoprReport.Header(sc).Concat(VoprReport.Outcome(VoprRunner.Run(sc))).ToList();
    }

    [Fact]
    public void One_seed_prints_the_same_lines_twice_and_another_seed_prints_different_ones()
    {
        Assert.Equal(Lines(42), Lines(42));
        Assert.NotEqual(Lines(42), Lines(43));
    }

    [Fact]
    public void The_header_starts_with_the_seed_and_lists_every_parameter()
    {
        var lines = VoprReport.Header(VoprScenario.Draw(7)).ToList();
        Assert.Equal("SEED=7", lines[0]);
        foreach (var name in new[] { "nodes", "faultSeconds", "churnSessionMeanSeconds", "lossRate", "duplicateRate", "partitions", "latencySpikes", "signalingOutages", "healBoundSeconds" })
            Assert.Contains(lines, l => l.TrimStart().StartsWith(name + "=", StringComparison.Ordinal));
    }

    [Fact]
    public void Scenarios_drawn_from_many_seeds_stay_within_their_bounds_and_use_every_fault()
    {
        var all = Enumerable.Range(1, 300).Select(s => VoprScenario.Draw((ulong)s)).ToList();
        Assert.All(all, s => Assert.InRange(s.Nodes, VoprScenario.NodesMin, VoprScenario.NodesMax));
        Assert.Contains(all, s => s.SessionMeanSeconds > 0);
        Assert.Contains(all, s => s.Partitions.Any(p => p.OneWay));
        Assert.Contains(all, s => s.Partitions.Any(p => !p.OneWay));
        Assert.Contains(all, s => s.Spikes.Count > 0);
        Assert.Contains(all, s => s.SignalingOutages.Count > 0);
        Assert.Contains(all, s => s.LossRate > 0 && s.DuplicateRate > 0);
    }

    [Fact]
    public void Seeds_1_to_30_run_without_a_violation()
    {
        var failures = new List<string>();
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var r = VoprRunner.Run(VoprScenario.Draw(seed));
            if (r.Violation is { } v) failures.Add(string.Join("\n", VoprReport.Outcome(r)));
            else Assert.False(double.IsNaN(r.HealConvergeSeconds));
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void A_run_with_faults_really_crashes_restarts_and_loses_datagrams()
    {
        long crashes = 0, restarts = 0, lost = 0;
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var r = VoprRunner.Run(VoprScenario.Draw(seed));
            crashes += r.Crashes; restarts += r.Restarts; lost += r.DatagramsLost;
        }
        Assert.True(crashes > 0 && restarts > 0 && lost > 0, $"crashes {crashes}, restarts {restarts}, lost {lost}");
    }

    // Seed 436 (NAT mix, lossy paths, one-way partition, NAT expiries): the overlay was declared
    // converged after healing while a successor link that had lost keep-alives to the faults was
    // still to be declared dead; it died during the final flood, which missed a node. The runner
    // now requires the overlay to stay converged for a dead-link timeout before checking.
    [Fact]
    public void Seed_436_settles_before_the_final_checks_and_runs_clean()
    {
        var r = VoprRunner.Run(VoprScenario.Draw(436));
        Assert.True(r.Violation is null, string.Join("\n", VoprReport.Outcome(r)));
        Assert.True(r.NatExpiries > 0);
    }

    [Fact]
    public void Seed_3_with_NAT_expiries_frees_torn_down_links_and_converges()
    {
        // Found the fabric keeping a half-closed slot for every torn-down link: with silenced
        // links never freed, the overlay never counted as converged.
        var r = VoprRunner.Run(VoprScenario.Draw(3));
        Assert.True(r.Violation is null, string.Join("\n", VoprReport.Outcome(r)));
        Assert.True(r.NatExpiries > 0);
    }

    [Fact]
    public void Drawn_scenarios_run_clean_with_ice_links_and_say_so_in_their_header()
    {
        // Seed 3: NAT mix, churn, loss, NAT expiries; seed 8: a small overlay. Same scenarios as modeled.
        foreach (ulong seed in new ulong[] { 3, 8 })
        {
            var sc = VoprScenario.Draw(seed) with { Links = EdgeVpn.Sim.LinkModel.Ice };
            Assert.Contains("  links=ice", VoprReport.Header(sc));
            var r = VoprRunner.Run(sc);
            Assert.True(r.Violation is null, string.Join("\n", VoprReport.Outcome(r)));
        }
    }

    private static VoprScenario WithLookup(ulong seed) =>
        VoprScenario.Draw(seed) with { Membership = EdgeVpn.Protocol.Topology.MembershipMode.Lookup };

    /// <summary>Runs seeds 1..30 of a variant; fails with every violation's report.</summary>
    private static void AssertSeeds1To30RunClean(Func<ulong, VoprScenario> draw)
    {
        var failures = new List<string>();
        for (ulong seed = 1; seed <= 30; seed++)
            if (VoprRunner.Run(draw(seed)) is { Violation: not null } r) failures.Add(string.Join("\n", VoprReport.Outcome(r)));
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static void AssertRunsClean(VoprScenario scenario)
    {
        var r = VoprRunner.Run(scenario);
        Assert.True(r.Violation is null, string.Join("\n", VoprReport.Outcome(r)));
    }

    [Fact]
    public void Seeds_1_to_30_run_clean_with_lookup_membership_and_say_so_in_their_header()
    {
        Assert.Contains("  membership=lookup", VoprReport.Header(WithLookup(1)));
        AssertSeeds1To30RunClean(WithLookup);
    }

    // Lookup membership, found by `vopr --membership lookup`: seeds 27, 32, 36 (partitions) left two
    // loops that each looked consistent, with no link across once the partition healed; the
    // self-check went through the farthest neighbour, inside its own loop (fixed: it goes through a
    // random member the signaling server names). Seed 33: a node whose link setups all failed
    // during a signaling outage believed itself a ring of one, and a ring of one never checked.
    [Theory]
    [InlineData(27UL)]
    [InlineData(32UL)]
    [InlineData(33UL)]
    [InlineData(36UL)]
    public void With_lookup_membership_loops_left_by_a_partition_merge_again(ulong seed) => AssertRunsClean(WithLookup(seed));

    // Lookup membership, found by `vopr --seeds 1..1500 --membership lookup` (2026-12-01): churn and
    // crashes took every member of the ring away while 7 nodes were (re)joining; the signaling server
    // kept naming one joiner to another, each answered NotJoined, and no ring formed in 900 s. As the
    // real node's BootstrapChoice does, the lowest id online now starts the ring after 3 such failures.
    [Fact]
    public void With_lookup_membership_joiners_left_without_a_ring_start_one() => AssertRunsClean(WithLookup(989));

    private static VoprScenario WithXmpp(ulong seed) =>
        VoprScenario.Draw(seed) with { Signaling = EdgeVpn.Sim.SignalingModel.Xmpp };

    [Fact]
    public void Seeds_1_to_30_run_clean_with_xmpp_signaling_and_say_so_in_their_header()
    {
        Assert.Contains("  signaling=xmpp", VoprReport.Header(WithXmpp(1)));
        AssertSeeds1To30RunClean(WithXmpp);
    }

    // Xmpp signaling, found by `vopr --signaling xmpp`: seed 20 (a restart as a latency spike ended)
    // delivered a node's new presence before the unavailable presence of its old, kicked stream,
    // which was sent earlier but under the spike: members forgot a live node for good. A stream
    // never reorders now. Seeds 23, 33, 40 (members that left during an outage stayed in the views
    // of those that reconnected: links to them were retried for ever) are fixed by the resync after a reconnect.
    [Theory]
    [InlineData(20UL)]
    [InlineData(23UL)]
    [InlineData(33UL)]
    [InlineData(40UL)]
    public void With_xmpp_signaling_streams_keep_their_order_and_a_reconnect_forgets_members_that_left(ulong seed) => AssertRunsClean(WithXmpp(seed));

    [Fact]
    public void A_violation_s_replay_line_names_every_option_the_run_was_made_with()
    {
        static string Replay(VoprScenario sc) => VoprReport.Outcome(new VoprResult
        {
            Scenario = sc,
            Violation = new VoprViolation("ring", new EdgeVpn.Protocol.Core.Instant(0), "made up for the test", []),
            HealConvergeSeconds = double.NaN, LiveNodes = 1, Events = 1, TraceHash = 1, Crashes = 0, Leaves = 0, Restarts = 0,
            DatagramsLost = 0, SignalsLost = 0, NatExpiries = 0, RelayedSetups = 0, NodeHistories = [],
        }).Single(l => l.Contains("replay:")).Trim();
        Assert.Equal("replay: scripts/sim.sh vopr --seed 7", Replay(VoprScenario.Draw(7)));
        Assert.Equal("replay: scripts/sim.sh vopr --seed 7 --links ice --membership lookup --signaling xmpp",
            Replay(VoprScenario.Draw(7) with { Links = EdgeVpn.Sim.LinkModel.Ice, Membership = EdgeVpn.Protocol.Topology.MembershipMode.Lookup, Signaling = EdgeVpn.Sim.SignalingModel.Xmpp }));
    }

    // Seed 989 (lookup) ended its heal-convergence detail with "first: #0 6468ca8a: " and nothing
    // after it: the node had never joined, so it wanted no successor and no long link.
    [Fact]
    public void A_node_that_has_not_joined_is_described_as_not_joined_with_its_last_join_failure()
    {
        var sim = new Simulation(new SimParameters
        {
            Nodes = 30, Seed = 5, JoinWindow = TimeSpan.FromSeconds(1), RecentEventsPerNode = VoprRunner.RecentEventsPerNode,
            Topology = new EdgeVpn.Protocol.Topology.TopologyConfig { Membership = EdgeVpn.Protocol.Topology.MembershipMode.Lookup },
        });
        int failedNode = -1;
        string reason = "";
        sim.Observer = (node, e) =>
        {
            if (failedNode < 0 && e is EdgeVpn.Protocol.Node.NodeEvent.JoinFailed f) (failedNode, reason) = (node, f.Reason);
        };
        sim.RunUntil(() => failedNode >= 0, new EdgeVpn.Protocol.Core.Instant(60_000_000_000));
        Assert.True(failedNode >= 0, "no join failed: the test needs another seed or size");
        Assert.NotEqual(EdgeVpn.Protocol.Membership.MembershipPhase.Member, sim.Nodes[failedNode].Node!.MembershipPhaseNow);

        string described = NodeWants.Describe(sim, failedNode);

        Assert.StartsWith($"#{failedNode} {sim.Nodes[failedNode].Id.Short}: not joined (lookup membership, ", described);
        Assert.EndsWith($"; last JoinFailed: {reason})", described);
    }
}
