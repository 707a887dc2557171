// converge: nodes join over the join window; the run ends when the overlay is stable (every
// node has every link it wants, no setup pending, the last roster delivered) or at the deadline.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Sim.Checkers;

namespace EdgeVpn.Sim.Experiments;

public sealed record ConvergeResult
{
    public required int Nodes { get; init; }
    public required bool Converged { get; init; }
    /// <summary>Virtual seconds from the start until the overlay was stable.</summary>
    public required double ConvergeSeconds { get; init; }
    /// <summary>Virtual seconds from the last join until stable.</summary>
    public required double SettleSeconds { get; init; }
    public required double LinksPerNodeMean { get; init; }
    public required int LinksPerNodeMax { get; init; }
    public required int SuccessorLinks { get; init; }
    public required int LongLinks { get; init; }
    public required int OnDemandLinks { get; init; }
    public required long Messages { get; init; }
    public required long SignalMessages { get; init; }
    public required long PresenceDeliveries { get; init; }
    /// <summary>What an XMPP server would send for the run's roster changes (SimStats.PresenceStanzas).</summary>
    public required long PresenceStanzas { get; init; }
    /// <summary>Roster entries each live node holds (the membership view's size): per-node state that grows with n.</summary>
    public required double RosterEntriesPerNode { get; init; }
    public required long LinkFailures { get; init; }
    /// <summary>Link setups relayed through TURN, and setups the NATs made impossible (no TURN server).</summary>
    public required long RelayedSetups { get; init; }
    /// <summary>Lookup membership: join, lookup and stabilization messages (and those relayed by the signaling server).</summary>
    public required long MembershipMessages { get; init; }
    public required long MembershipViaSignaling { get; init; }
    public required long NatFailedSetups { get; init; }
    public required long ProtocolErrors { get; init; }
    public required int RingViolations { get; init; }
    public required IReadOnlyList<string> RingViolationSamples { get; init; }
    public required long Events { get; init; }
    public required ulong TraceHash { get; init; }
}

public static class ConvergeExperiment
{
    /// <summary>Runs the join phase to stability; the simulation is left at the converged instant for further phases.</summary>
    public static ConvergeResult Run(Simulation sim)
    {
        sim.Phase = "converge";
        var p = sim.Parameters;
        bool converged = sim.RunUntil(() => sim.IsConverged, Instant.Zero + p.JoinWindow + p.ConvergeDeadline);
        return Summarize(sim, converged);
    }

    public static ConvergeResult Summarize(Simulation sim, bool converged)
    {
        var overlay = Overlay.Capture(sim);
        int live = 0, degreeMax = 0;
        long degreeSum = 0;
        for (int i = 0; i < overlay.NodeCount; i++)
        {
            if (!sim.Nodes[i].Alive) continue;
            live++;
            degreeSum += overlay.Degree(i);
            degreeMax = Math.Max(degreeMax, overlay.Degree(i));
        }
        int succ = 0, lng = 0, od = 0;
        foreach (var e in overlay.Edges)
        {
            if (e.Kind == LinkKind.Successor) succ++;
            else if (e.Kind == LinkKind.LongDistance) lng++;
            else od++;
        }
        var violations = RingChecker.Check(sim, sim.Parameters.Topology.SuccessorsMin, out int violationCount);
        double lastJoin = sim.Parameters.JoinWindow.TotalSeconds;
        double rosterEntries = 0;
        foreach (var n in sim.Nodes) if (n.Alive && n.Node is { } node) rosterEntries += node.Topology.View.Count;
        return new ConvergeResult
        {
            Nodes = sim.Nodes.Count,
            Converged = converged,
            ConvergeSeconds = sim.Now.TotalSeconds,
            SettleSeconds = Math.Max(0, sim.Now.TotalSeconds - lastJoin),
            LinksPerNodeMean = live == 0 ? 0 : (double)degreeSum / live,
            LinksPerNodeMax = degreeMax,
            SuccessorLinks = succ,
            LongLinks = lng,
            OnDemandLinks = od,
            Messages = sim.Stats.Messages,
            SignalMessages = sim.Stats.SignalMessages,
            PresenceDeliveries = sim.Stats.PresenceDeliveries,
            PresenceStanzas = sim.Stats.PresenceStanzas,
            RosterEntriesPerNode = live == 0 ? 0 : rosterEntries / live,
            LinkFailures = sim.Stats.LinkFailures,
            RelayedSetups = sim.Stats.RelayedSetups,
            MembershipMessages = sim.Stats.MembershipMessages,
            MembershipViaSignaling = sim.Stats.MembershipViaSignaling,
            NatFailedSetups = sim.Stats.NatFailedSetups,
            ProtocolErrors = sim.Stats.ProtocolErrors,
            RingViolations = violationCount,
            RingViolationSamples = violations.Take(5).Select(v => v.Describe(sim)).ToList(),
            Events = sim.Stats.Events,
            TraceHash = sim.TraceHash,
        };
    }
}
