// Whole-simulator laws over random overlay sizes, seeds and long-link counts: every run converges
// to a correct ring, and a flood from a random root reaches every node exactly once, with the
// unicast reply coming back over learned flows.
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Experiments;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class SimulationPropertyTests
{
    [Fact]
    public void Any_converged_overlay_is_a_correct_ring_and_floods_each_node_exactly_once()
    {
        // Without long links the flood tree is as deep as the ring is long; HopsMax (64) bounds it
        // by design, so those cases stay below 64 nodes.
        var cases =
            from k in Gen.Elements<int?>(null, 0, 1, 3)
            from nodes in k == 0 ? Gen.Choose(2, 60) : Gen.Choose(2, 250)
            from seed in Gen.Choose(1, int.MaxValue)
            from successors in Gen.Choose(1, 3)
            select (nodes, seed, k, successors);
        PropertyCheck.Run(40, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var sim = new Simulation(new SimParameters
            {
                Nodes = c.nodes,
                Seed = (ulong)c.seed,
                JoinWindow = TimeSpan.FromSeconds(2),
                Topology = new TopologyConfig { LongLinksMax = c.k, SuccessorsMin = c.successors },
            });
            var converge = ConvergeExperiment.Run(sim);
            if (!converge.Converged || converge.RingViolations != 0 || converge.ProtocolErrors != 0) return false;
            var flood = FloodExperiment.Run(sim);
            return flood.Reached == c.nodes && flood.Duplicates == 0 && flood.ReplyReturned && !flood.ReplyLooped;
        }));
    }
}
