// The swarm runner (TigerBeetle's VOPR): one seed → one scenario → one run, checked throughout.
//  1. converge the overlay without faults;
//  2. fault phase: churn (exponential sessions; crashes and graceful leaves, restarts after an
//     exponential downtime), loss and duplication (default and per path), partitions (symmetric
//     or one way) and their repair, latency spikes, signaling outages — all scheduled from the
//     seed as scripted events, so the run is a pure function of the seed;
//  3. heal: every fault off, every crashed node restarted; the overlay must converge within the
//     scenario's bound and then stay converged, no link going down, for one dead-link timeout
//     plus one keep-alive interval (links that lost keep-alives to the faults may still die);
//  4. then: ring correctness, exactly-once flood among live nodes, the unicast reply returns
//     without a flow loop or black hole.
// Throughout: node invariants after every event, and every 5 virtual seconds no link setup
// dangling past its timeout and per-node memory within its bounds. The first violation stops
// the run and is reported with the checker, the virtual time and the nodes involved.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Sim.Checkers;
using EdgeVpn.Sim.Experiments;

namespace EdgeVpn.Sim.Vopr;

public sealed record VoprViolation(string Checker, Instant At, string Detail, IReadOnlyList<int> Nodes);

public sealed record VoprResult
{
    public required VoprScenario Scenario { get; init; }
    public VoprViolation? Violation { get; init; }
    /// <summary>Virtual seconds from healing to convergence (NaN when it did not converge).</summary>
    public required double HealConvergeSeconds { get; init; }
    /// <summary>The virtual time healing began, i.e. the fault phase ended (NaN when the overlay did
    /// not converge before the faults, which then never started).</summary>
    public double HealAtSeconds { get; init; } = double.NaN;
    public required int LiveNodes { get; init; }
    public required long Events { get; init; }
    public required ulong TraceHash { get; init; }
    public required long Crashes { get; init; }
    public required long Leaves { get; init; }
    public required long Restarts { get; init; }
    public required long DatagramsLost { get; init; }
    public required long SignalsLost { get; init; }
    public required long NatExpiries { get; init; }
    public required long RelayedSetups { get; init; }
    /// <summary>The last events of the nodes the violation names, per node (empty when none).</summary>
    public required IReadOnlyList<(int Node, string Id, IReadOnlyList<string> Events)> NodeHistories { get; init; }
}

public static class VoprRunner
{
    public const int RecentEventsPerNode = 24;
    public const int NodesReportedMax = 3;
    private static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(5);

    /// <param name="inspect">Called with the simulation once it converged after healing, before the
    /// final checks (for diagnosis of a seed; null normally).</param>
    /// <param name="trace">Receives every event, one per line, as flood's --trace (null: none).</param>
    /// <param name="finished">Called with the simulation as the run ends, after the final checks or
    /// at the violation (vopr --export-graph writes the overlay then).</param>
    public static VoprResult Run(VoprScenario sc, Action<Simulation>? inspect = null, TextWriter? trace = null, Action<Simulation>? finished = null)
    {
        var parameters = new SimParameters
        {
            Nodes = sc.Nodes,
            Seed = sc.Seed,
            JoinWindow = TimeSpan.FromSeconds(sc.JoinWindowSeconds),
            RecentEventsPerNode = RecentEventsPerNode,
            NatMix = Net.NatMix.Parse(sc.NatMix).Value,
            LinkModel = sc.Links,
            Signaling = sc.Signaling,
            Topology = new TopologyConfig { Membership = sc.Membership },
        };
        var sim = new Simulation(parameters, trace);
        var config = new EdgeNodeConfig { Topology = parameters.Topology, Links = parameters.Links, FloodHopsMax = parameters.FloodHopsMax };
        VoprViolation? violation = null;
        double healConverge = double.NaN, healAtSeconds = double.NaN;
        long leaves = 0;

        try
        {
            sim.Phase = "converge";
            if (!sim.RunUntil(() => sim.IsConverged, Instant.Zero + parameters.JoinWindow + parameters.ConvergeDeadline))
                violation = NotConverged(sim, "initial-convergence", "the overlay did not converge before any fault");
            else
            {
                var t0 = sim.Now;
                var healAt = t0 + TimeSpan.FromSeconds(sc.FaultSeconds);
                healAtSeconds = healAt.TotalSeconds;
                var deadline = healAt + TimeSpan.FromSeconds(sc.HealBoundSeconds);
                bool healed = false;
                ScheduleFaults(sim, sc, t0, () => healed, () => leaves++);
                SchedulePeriodicChecks(sim, config, deadline, v => violation ??= v);
                sim.At(healAt, () =>
                {
                    healed = true;
                    sim.Phase = "heal";
                    HealAll(sim);
                });

                sim.Phase = "faults";
                bool converged = sim.RunUntil(() => violation is not null || healed && sim.Now > healAt && sim.IsConverged, deadline);
                // Settled, not just converged: a link that lost its keep-alives to the faults just
                // before healing still looks connected and is rightly declared dead up to
                // DeadLinkTimeout later (seed 436: a successor link died during the final flood).
                // So the overlay must stay converged, without a link going down, for one
                // DeadLinkTimeout + KeepAliveInterval; if it does not, wait for convergence again.
                var settle = parameters.Links.DeadLinkTimeout + parameters.Links.KeepAliveInterval;
                while (converged && violation is null)
                {
                    long downBefore = sim.Stats.LinksDown;
                    var quietUntil = sim.Now + settle;
                    if (quietUntil > deadline) { converged = false; break; }
                    sim.RunUntil(() => violation is not null || sim.Stats.LinksDown != downBefore, quietUntil);
                    if (violation is null && sim.Stats.LinksDown == downBefore && sim.IsConverged) break;
                    converged = sim.RunUntil(() => violation is not null || sim.IsConverged, deadline);
                }
                if (violation is null && !converged)
                    violation = NotConverged(sim, "heal-convergence", $"not converged {sc.HealBoundSeconds} s after healing");
                else if (violation is null)
                {
                    healConverge = (sim.Now - healAt).TotalSeconds;
                    inspect?.Invoke(sim);
                    violation = CheckConverged(sim, parameters);
                }
            }
        }
        catch (SimInvariantViolation v)
        {
            violation = new VoprViolation("invariants", v.At, v.Problem, [v.Node]);
        }

        finished?.Invoke(sim);
        int live = sim.Nodes.Count(n => n.Alive);
        var histories = new List<(int, string, IReadOnlyList<string>)>();
        if (violation is not null && sim.Recent is { } recent)
            foreach (int node in violation.Nodes.Distinct().Take(NodesReportedMax))
                histories.Add((node, sim.Nodes[node].Id.ToString(), recent.Describe(node).ToList()));
        return new VoprResult
        {
            Scenario = sc,
            Violation = violation,
            HealConvergeSeconds = healConverge,
            HealAtSeconds = healAtSeconds,
            LiveNodes = live,
            Events = sim.Stats.Events,
            TraceHash = sim.TraceHash,
            Crashes = sim.Stats.Crashes,
            Leaves = leaves,
            Restarts = sim.Stats.Restarts,
            DatagramsLost = sim.Stats.DatagramsLost,
            SignalsLost = sim.Stats.SignalsLost,
            NatExpiries = sim.Stats.NatExpiries,
            RelayedSetups = sim.Stats.RelayedSetups,
            NodeHistories = histories,
        };
    }

    private static void ScheduleFaults(Simulation sim, VoprScenario sc, Instant t0, Func<bool> healed, Action countLeave)
    {
        var random = new DeterministicRandom(sc.Seed).Fork("vopr-faults");
        int n = sc.Nodes;
        var conditions = sim.Conditions;
        conditions.LossRate = sc.LossRate;
        conditions.DuplicateRate = sc.DuplicateRate;
        for (int i = 0; i < sc.LossyPaths && n > 1; i++)
        {
            int a = random.NextInt(n), b = (a + 1 + random.NextInt(n - 1)) % n;
            conditions.SetPath(a, b, new Faults.PathCondition(sc.LossyPathRate, sc.DuplicateRate));
        }

        Instant At(double seconds) => t0 + TimeSpan.FromSeconds(seconds);
        foreach (var p in sc.Partitions)
        {
            var groups = new int[n];
            for (int i = 0; i < n; i++) groups[i] = random.NextInt(p.Groups);
            sim.At(At(p.StartSeconds), () =>
            {
                if (healed()) return;
                if (p.OneWay) conditions.PartitionOneWay(groups, 0, 1); else conditions.Partition(groups);
            });
            sim.At(At(p.StartSeconds + p.DurationSeconds), () => { if (!healed()) conditions.Heal(); });
        }
        foreach (var s in sc.Spikes)
        {
            sim.At(At(s.StartSeconds), () => { if (!healed()) conditions.LatencyFactor = s.Factor; });
            sim.At(At(s.StartSeconds + s.DurationSeconds), () => conditions.LatencyFactor = 1);
        }
        foreach (double at in sc.NatExpirySeconds)
        {
            int node = random.NextInt(n);
            sim.At(At(at), () => { if (!healed()) sim.ExpireNatMappings(node); });
        }
        foreach (var o in sc.SignalingOutages)
        {
            sim.At(At(o.StartSeconds), () => { if (!healed()) sim.SignalingDown = true; });
            sim.At(At(o.StartSeconds + o.DurationSeconds), () => sim.SignalingDown = false);
        }

        if (sc.SessionMeanSeconds <= 0) return;
        var churn = new DeterministicRandom(sc.Seed).Fork("vopr-churn");
        for (int i = 0; i < n; i++)
        {
            int node = i;
            var r = churn.Fork((ulong)node);
            void Depart()
            {
                if (healed()) return;
                if (sim.Nodes[node].Alive)
                {
                    if (r.NextDouble() < sc.LeaveShare) { countLeave(); sim.Leave(node); }
                    else sim.Crash(node);
                }
                sim.At(sim.Now + TimeSpan.FromSeconds(r.NextExponential(sc.DowntimeMeanSeconds)), Return);
            }
            void Return()
            {
                if (healed()) return;
                sim.Restart(node);
                sim.At(sim.Now + TimeSpan.FromSeconds(r.NextExponential(sc.SessionMeanSeconds)), Depart);
            }
            sim.At(t0 + TimeSpan.FromSeconds(r.NextExponential(sc.SessionMeanSeconds)), Depart);
        }
    }

    private static void SchedulePeriodicChecks(Simulation sim, EdgeNodeConfig config, Instant until, Action<VoprViolation> report)
    {
        void Check()
        {
            var problem = NodeStateChecker.DanglingSetup(sim, config.Links) ?? NodeStateChecker.MemoryBound(sim, config);
            if (problem is not null) report(new VoprViolation(problem.Checker, sim.Now, problem.Detail, [problem.Node]));
            else if (sim.Now + CheckPeriod <= until) sim.At(sim.Now + CheckPeriod, Check);
        }
        sim.At(sim.Now, Check);
    }

    private static void HealAll(Simulation sim)
    {
        var c = sim.Conditions;
        c.Heal();
        c.LossRate = 0;
        c.DuplicateRate = 0;
        c.ClearPaths();
        c.LatencyFactor = 1;
        sim.SignalingDown = false;
        foreach (var n in sim.Nodes)
            if (n.Crashed) sim.Restart(n.Index);
    }

    private static VoprViolation? CheckConverged(Simulation sim, SimParameters p)
    {
        var ring = RingChecker.Check(sim, p.Topology.SuccessorsMin, out int count);
        if (count > 0)
            return new VoprViolation("ring", sim.Now, $"{count} violations, e.g. {ring[0].Describe(sim)}", ring.SelectMany(v => new[] { v.Node, v.MissingSuccessor }).ToList());

        int live = sim.Nodes.Count(n => n.Alive);
        if (live == 0) return null;
        var f = FloodExperiment.Run(sim);
        if (f.Reached != live || f.Duplicates != 0)
            return new VoprViolation("flood-exactly-once", sim.Now,
                $"flood from #{f.Root} reached {f.Reached} of {live} live nodes with {f.Duplicates} duplicates; missed {string.Join(", ", f.Missed.Select(m => "#" + m))}",
                [f.Root, .. f.Missed]);
        if (f.ReplyLooped)
            return new VoprViolation("flow-loop", sim.Now, $"the unicast reply to #{f.Root} visited a node twice ({f.ReplyHops} hops)", [f.Root]);
        if (!f.ReplyReturned)
            return new VoprViolation("black-hole", sim.Now, $"the unicast reply to #{f.Root} never arrived", [f.Root]);
        return NodeStateChecker.DanglingSetup(sim, p.Links) is { } d ? new VoprViolation(d.Checker, sim.Now, d.Detail, [d.Node]) : null;
    }

    private static VoprViolation NotConverged(Simulation sim, string checker, string what)
    {
        var unstable = sim.Nodes.Where(n => n.Alive && n.Node is { IsStable: false }).Select(n => n.Index).ToList();
        var ring = RingChecker.Check(sim, sim.Parameters.Topology.SuccessorsMin, out int ringViolations);
        string detail = $"{what}: {unstable.Count} unstable nodes, {ringViolations} ring violations, {sim.HalfOpenLinks} half-open links, {sim.SilencedLinks} silenced links, {sim.LiveLinksInFabric} links in the fabric";
        if (sim.NotConvergedBecause() is { Count: > 0 } why) detail += "; waiting for: " + string.Join(", ", why);
        if (unstable.Count > 0 && sim.Nodes[unstable[0]].Node is not null) detail += "; first: " + NodeWants.Describe(sim, unstable[0]);
        else if (ring.Count > 0)
        {
            var v = ring[0];
            detail += $"; first: #{v.Node} {sim.Nodes[v.Node].Id.Short} has no link to its ring successor {v.Rank} #{v.MissingSuccessor} {sim.Nodes[v.MissingSuccessor].Id.Short}";
            if (sim.Nodes[v.Node].Node is not null) detail += "; " + NodeWants.Describe(sim, v.Node);
            return new VoprViolation(checker, sim.Now, detail, unstable.Count > 0 ? unstable : [v.Node, v.MissingSuccessor]);
        }
        return new VoprViolation(checker, sim.Now, detail, unstable);
    }
}
