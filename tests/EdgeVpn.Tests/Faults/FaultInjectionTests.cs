// Each fault of the vocabulary does what it says, and the overlay recovers once it is repaired:
// crash and restart with the same id, partitions (symmetric and one way), loss, duplication,
// latency spikes and signaling outages.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Checkers;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Faults;
using Xunit;

namespace EdgeVpn.Tests.Faults;

public class FaultInjectionTests
{
    private static Simulation Converged(int nodes, ulong seed)
    {
        var sim = new Simulation(new SimParameters { Nodes = nodes, Seed = seed, JoinWindow = TimeSpan.FromSeconds(2) });
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        return sim;
    }

    private static int RingViolations(Simulation sim)
    {
        RingChecker.Check(sim, sim.Parameters.Topology.SuccessorsMin, out int count);
        return count;
    }

    private static bool Reconverge(Simulation sim, TimeSpan within) =>
        sim.RunUntil(() => sim.IsConverged, sim.Now + within);

    [Fact]
    public void A_crashed_node_leaves_half_open_links_that_its_peers_remove_as_dead_and_the_ring_closes_without_it()
    {
        var sim = Converged(60, 3);
        var dead = new List<NodeEvent.LinkDown>();
        sim.Observer = (_, e) => { if (e is NodeEvent.LinkDown d) dead.Add(d); };
        sim.Crash(17);
        sim.RunFor(TimeSpan.FromMilliseconds(1));

        Assert.False(sim.Nodes[17].Alive);
        Assert.True(sim.HalfOpenLinks > 0);
        Assert.False(sim.IsConverged);
        Assert.True(Reconverge(sim, TimeSpan.FromMinutes(5)));

        Assert.Equal(0, sim.HalfOpenLinks);
        Assert.Contains(dead, d => d.Reason == LinkRemoval.Dead);
        // Every torn-down link left the fabric: what remains is exactly the connected links.
        int connected = sim.Nodes.Where(n => n.Alive).Sum(n => n.Node!.ConnectedLinks().Count);
        Assert.Equal(connected / 2, sim.LiveLinksInFabric);
        Assert.Equal(0, RingViolations(sim));
        Assert.Equal(59, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void A_restarted_node_keeps_its_id_and_rejoins_the_ring()
    {
        var sim = Converged(40, 5);
        var id = sim.Nodes[9].Id;
        sim.Crash(9);
        sim.RunFor(TimeSpan.FromSeconds(10));
        sim.Restart(9);
        Assert.True(Reconverge(sim, TimeSpan.FromMinutes(5)));

        Assert.True(sim.Nodes[9].Alive);
        Assert.Equal(1, sim.Nodes[9].Incarnation);
        Assert.Equal(id, sim.Nodes[9].Node!.Id);
        Assert.Equal(0, RingViolations(sim));
        Assert.Equal(40, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void A_symmetric_partition_stops_the_flood_at_its_border_and_the_overlay_recovers_after_repair()
    {
        var sim = Converged(50, 7);
        var groups = Enumerable.Range(0, 50).Select(i => i % 2).ToArray();
        sim.Conditions.Partition(groups);
        var f = FloodExperiment.Run(sim);
        int side = groups[f.Root];
        // Only nodes on the root's side can be reached (and not all of them: the flood's arcs
        // assume the whole ring, so parts of the side hang behind nodes of the other side).
        Assert.InRange(f.Reached, 1, groups.Count(g => g == side));
        Assert.True(sim.Stats.DatagramsLost > 0);

        sim.Conditions.Heal();
        sim.RunFor(TimeSpan.FromMinutes(2));
        Assert.True(Reconverge(sim, TimeSpan.FromMinutes(10)));
        Assert.Equal(0, RingViolations(sim));
        Assert.Equal(50, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void A_one_way_partition_drops_only_the_blocked_direction()
    {
        var c = new NetworkConditions();
        c.PartitionOneWay([0, 0, 1, 1], from: 0, to: 1);
        Assert.True(c.Blocks(0, 2));
        Assert.False(c.Blocks(2, 0));
        Assert.False(c.Blocks(0, 1));
        Assert.False(c.Blocks(3, 2));
        c.Heal();
        Assert.False(c.Blocks(0, 2));
    }

    [Fact]
    public void A_path_losing_every_datagram_kills_its_link_within_the_dead_link_timeout()
    {
        var sim = Converged(30, 11);
        var node = sim.Nodes[4].Node!;
        var link = node.ConnectedLinks()[0];
        Assert.True(sim.TryIndexOf(link.Peer, out int peer));
        sim.Conditions.SetPath(4, peer, new PathCondition(LossRate: 1, DuplicateRate: 0));
        var limit = sim.Parameters.Links.DeadLinkTimeout + sim.Parameters.Links.KeepAliveInterval;
        sim.RunFor(limit);
        Assert.NotEqual(link.Link, sim.Nodes[4].Node!.Links.LinkIdOf(link.Peer));
    }

    [Fact]
    public void Duplicated_datagrams_arrive_twice_and_the_bounded_flood_delivers_the_copy_again()
    {
        // Bounded flood has no duplicate suppression (EdgeVPN relies on the ring partition): a
        // network that duplicates frames duplicates deliveries. The checker must see it.
        var sim = Converged(30, 13);
        sim.Conditions.DuplicateRate = 1;
        var f = FloodExperiment.Run(sim);
        Assert.True(sim.Stats.DatagramsDuplicated > 0);
        Assert.True(f.Duplicates > 0);
    }

    [Fact]
    public void A_latency_spike_slows_the_flood_by_its_factor()
    {
        double FloodSeconds(double factor)
        {
            var sim = Converged(40, 17);
            sim.Conditions.LatencyFactor = factor;
            return FloodExperiment.Run(sim).FloodSeconds;
        }
        double normal = FloodSeconds(1), spiked = FloodSeconds(10);
        Assert.InRange(spiked / normal, 9.0, 11.0);
    }

    [Fact]
    public void During_a_signaling_outage_link_requests_are_lost_and_after_it_the_overlay_converges()
    {
        var sim = Converged(30, 19);
        sim.SignalingDown = true;
        sim.Crash(3);
        sim.RunFor(TimeSpan.FromSeconds(1));
        sim.Restart(3);
        sim.RunFor(TimeSpan.FromSeconds(40));
        Assert.True(sim.Stats.SignalsLost > 0);
        Assert.False(sim.IsConverged);

        sim.SignalingDown = false;
        Assert.True(Reconverge(sim, TimeSpan.FromMinutes(10)));
        Assert.Equal(0, RingViolations(sim));
        Assert.Equal(30, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void The_signaling_server_drops_a_crashed_node_from_the_roster_after_the_crash_detection_time()
    {
        var sim = Converged(20, 23);
        var other = sim.Nodes[0].Node!;
        int before = other.Topology.View.Count;
        sim.Crash(5);
        sim.RunFor(sim.Parameters.CrashDetection - TimeSpan.FromSeconds(1));
        Assert.Equal(before, sim.Nodes[0].Node!.Topology.View.Count);
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(before - 1, sim.Nodes[0].Node!.Topology.View.Count);
    }

    [Fact]
    public void Bad_fault_values_are_refused_with_a_message()
    {
        var c = new NetworkConditions();
        Assert.Throws<ArgumentOutOfRangeException>(() => c.LossRate = 1.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.LatencyFactor = 0.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Partition([0, NetworkConditions.GroupsMax]));
        var sim = new Simulation(new SimParameters { Nodes = 3 });
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.At(Instant.Zero, () => { }));
    }
}
