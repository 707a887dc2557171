// Cache hints (CacheHint, EdgeNode.NameHotState) only ask the CPU to preload memory: a run with
// them is the same run as without, and a node names the state its next input touches.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Experiments;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class CacheHintTests
{
    private static SimParameters Lookup(int nodes) => new()
    {
        Nodes = nodes,
        Seed = 21,
        JoinWindow = TimeSpan.FromSeconds(5),
        Topology = new TopologyConfig { Membership = MembershipMode.Lookup },
    };

    [Fact]
    public void A_run_with_cache_hints_has_the_same_events_and_trace_as_one_without()
    {
        (ulong Hash, long Events, int Reached) Run(bool hints)
        {
            var sim = new Simulation(Lookup(1500)) { CacheHints = hints };
            Assert.True(ConvergeExperiment.Run(sim).Converged);
            var flood = FloodExperiment.Run(sim);
            return (sim.TraceHash, sim.Stats.Events, flood.Reached);
        }
        var with = Run(true);
        var without = Run(false);
        Assert.Equal(without, with);
        Assert.Equal(1500, with.Reached);
    }

    private struct Recorder(List<(object Target, int Bytes)> named) : ICacheWarmer
    {
        public readonly void Warm(object? o, int bytes) { if (o is not null) named.Add((o, bytes)); }
    }

    [Fact]
    public void A_node_names_its_machines_then_their_tables_and_naming_changes_nothing()
    {
        var sim = new Simulation(Lookup(60));
        Assert.True(ConvergeExperiment.Run(sim).Converged);
        foreach (var n in sim.Nodes)
        {
            var node = n.Node!;
            var before = node.PollTimeout();
            var level0 = new List<(object Target, int Bytes)>();
            var level1 = new List<(object Target, int Bytes)>();
            var r0 = new Recorder(level0);
            var r1 = new Recorder(level1);
            node.NameHotState(ref r0, 0);
            node.NameHotState(ref r1, 1);

            Assert.Contains(level0, x => ReferenceEquals(x.Target, node.Links));
            Assert.Contains(level0, x => ReferenceEquals(x.Target, node.Topology));
            Assert.Contains(level0, x => ReferenceEquals(x.Target, node.Membership));
            // Level 1: what the machines point to (tables, timers), the link tables among them,
            // named over their used length; nothing of level 0 again.
            Assert.DoesNotContain(level1, x => level0.Exists(y => ReferenceEquals(x.Target, y.Target)));
            int links = node.Links.Count;
            Assert.True(links > 0);
            Assert.Contains(level1, x => x.Target is Array a && a.Length >= links && x.Bytes >= 16 + 8 * links);
            Assert.Equal(before, node.PollTimeout());
            Assert.False(node.TryPollOutput(out _));
        }
    }
    [Fact]
    public void The_queue_guesses_the_next_events_of_its_current_bucket_in_pop_order()
    {
        var q = new EventQueue();
        for (int i = 0; i < 50; i++) q.Push(1000 - 7 * i, new SimEvent(EventKind.Wake, i, -1, 0, null));
        Assert.True(q.TryPop(out _, out _)); // the bucket is now the current run
        int guessed = 0;
        while (q.Count > 0)
        {
            var guesses = new List<int>();
            for (int k = 0; k < 3 && q.TryPeekRun(k, out var g); k++) guesses.Add(g.Node);
            var popped = new List<int>();
            for (int k = 0; k < guesses.Count && q.TryPop(out _, out var e); k++) popped.Add(e.Node);
            Assert.Equal(popped, guesses);
            guessed += guesses.Count;
            if (guesses.Count == 0) Assert.True(q.TryPop(out _, out _));
        }
        Assert.Equal(49, guessed); // all in one bucket: every remaining event was guessed
    }
}
