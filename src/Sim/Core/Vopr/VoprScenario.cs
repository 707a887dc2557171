// One swarm-test scenario, drawn entirely from a seed (TigerBeetle's VOPR, "swarm testing"): the
// overlay size, the churn, the loss and duplication, the partitions, latency spikes and
// signaling outages of its fault phase. Describe() lists every parameter, so a printed scenario
// can be read back by a person and replayed from its seed alone.
using System.Globalization;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Topology;

namespace EdgeVpn.Sim.Vopr;

public sealed record TimedFault(double StartSeconds, double DurationSeconds);
public sealed record PartitionFault(double StartSeconds, double DurationSeconds, int Groups, bool OneWay) ;
public sealed record SpikeFault(double StartSeconds, double DurationSeconds, double Factor);

public sealed record VoprScenario
{
    public const int NodesMin = 8;
    public const int NodesMax = 160;

    public required ulong Seed { get; init; }
    public required int Nodes { get; init; }
    public required double JoinWindowSeconds { get; init; }
    public required double FaultSeconds { get; init; }
    /// <summary>Mean session length under churn (exponential); 0 = no churn.</summary>
    public required double SessionMeanSeconds { get; init; }
    public required double DowntimeMeanSeconds { get; init; }
    /// <summary>Share of churn departures that are graceful leaves (the rest crash).</summary>
    public required double LeaveShare { get; init; }
    public required double LossRate { get; init; }
    public required double DuplicateRate { get; init; }
    public required int LossyPaths { get; init; }
    public required double LossyPathRate { get; init; }
    public required IReadOnlyList<PartitionFault> Partitions { get; init; }
    public required IReadOnlyList<SpikeFault> Spikes { get; init; }
    public required IReadOnlyList<TimedFault> SignalingOutages { get; init; }
    /// <summary>The nodes' NAT presets, as the weights --nat-mix takes (NatMixEcho shows them as shares; a TURN server is always there: without one some pairs cannot link by design).</summary>
    public required string NatMix { get; init; }
    /// <summary>NAT mapping expiries/rebindings at random nodes and times of the fault phase.</summary>
    public required IReadOnlyList<double> NatExpirySeconds { get; init; }
    /// <summary>After healing, the overlay must converge within this many virtual seconds.</summary>
    public required double HealBoundSeconds { get; init; }
    /// <summary>How link setups are simulated (chosen on the command line, not drawn: `vopr --links ice`
    /// runs the same drawn scenarios with the real ICE agents at packet level).</summary>
    public LinkModel Links { get; init; } = LinkModel.Modeled;
    /// <summary>How members find each other (chosen on the command line like Links: `vopr --membership
    /// lookup` runs the same drawn scenarios on Symphony's join/lookup/stabilization membership).</summary>
    public MembershipMode Membership { get; init; } = MembershipMode.Presence;
    /// <summary>How the signaling server is simulated (chosen on the command line like Links: `vopr
    /// --signaling xmpp` runs the same drawn scenarios with every node's real XMPP session against
    /// the stanza-level virtual XMPP server).</summary>
    public SignalingModel Signaling { get; init; } = SignalingModel.Modeled;

    public static VoprScenario Draw(ulong seed)
    {
        var r = new DeterministicRandom(seed).Fork("vopr-scenario");
        int nodes = (int)Math.Round(Math.Exp(Math.Log(NodesMin) + r.NextDouble() * (Math.Log(NodesMax) - Math.Log(NodesMin))));
        double fault = Round(60 + r.NextDouble() * 180);
        var partitions = new List<PartitionFault>();
        int partitionCount = r.NextInt(4);
        double at = 0;
        for (int i = 0; i < partitionCount && at < fault; i++)
        {
            // Partitions follow one another (a new one replaces none): each starts after the previous repair.
            double start = Round(at + r.NextDouble() * (fault - at) / 2);
            double duration = Round(5 + r.NextDouble() * 85);
            partitions.Add(new PartitionFault(start, duration, 2 + r.NextInt(2), r.NextDouble() < 0.3));
            at = start + duration;
        }
        var spikes = new List<SpikeFault>();
        for (int i = r.NextInt(4); i > 0; i--)
            spikes.Add(new SpikeFault(Round(r.NextDouble() * fault), Round(1 + r.NextDouble() * 19), Round(2 + r.NextDouble() * 18)));
        var outages = new List<TimedFault>();
        for (int i = r.NextInt(3); i > 0; i--)
            outages.Add(new TimedFault(Round(r.NextDouble() * fault), Round(5 + r.NextDouble() * 55)));
        bool churn = r.NextDouble() < 0.7;
        bool loss = r.NextDouble() < 0.7;
        bool dup = r.NextDouble() < 0.5;
        // Drawn after everything above, so that adding NATs left the earlier parameters of every seed as they were.
        string natMix = "none=1";
        var expiries = new List<double>();
        if (r.NextDouble() < 0.6)
        {
            var presets = new[] { "none", "full-cone", "restricted-cone", "port-restricted", "symmetric" };
            natMix = string.Join(",", presets.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p}={Round(r.NextDouble())}")));
            if (Net.NatMix.Parse(natMix) is not { Ok: true }) natMix = "none=1"; // all weights drew 0
            for (int i = r.NextInt(Math.Max(1, nodes / 4) + 1); i > 0; i--) expiries.Add(Round(r.NextDouble() * fault));
            expiries.Sort();
        }
        return new VoprScenario
        {
            Seed = seed,
            Nodes = nodes,
            JoinWindowSeconds = Round(1 + r.NextDouble() * 9),
            FaultSeconds = fault,
            SessionMeanSeconds = churn ? Round(60 + r.NextDouble() * 1140) : 0,
            DowntimeMeanSeconds = Round(5 + r.NextDouble() * 55),
            LeaveShare = Round(r.NextDouble() * 0.5),
            LossRate = loss ? Round(r.NextDouble() * 0.1) : 0,
            DuplicateRate = dup ? Round(r.NextDouble() * 0.05) : 0,
            LossyPaths = r.NextInt(nodes + 1),
            LossyPathRate = Round(0.2 + r.NextDouble() * 0.7),
            Partitions = partitions,
            Spikes = spikes,
            SignalingOutages = outages,
            HealBoundSeconds = 900,
            NatMix = natMix,
            NatExpirySeconds = expiries,
        };
    }

    private static double Round(double x) => Math.Round(x, 3);

    public bool Churn => SessionMeanSeconds > 0;

    /// <summary>Every parameter as a typed value for a table (vopr --json, --csv): Describe()'s list
    /// with numbers as numbers, null for churn figures when there is no churn, and beside each fault
    /// list (kept as readable detail) its count and total; a fault still on at healing counts only
    /// up to healing, which ends it.</summary>
    public IEnumerable<(string Name, object? Value)> Values()
    {
        var text = Describe().ToDictionary(d => d.Name, d => d.Value);
        yield return ("nodes", Nodes);
        yield return ("joinWindowSeconds", JoinWindowSeconds);
        yield return ("faultSeconds", FaultSeconds);
        yield return ("churnSessionMeanSeconds", Churn ? SessionMeanSeconds : null);
        yield return ("churnDowntimeMeanSeconds", Churn ? DowntimeMeanSeconds : null);
        yield return ("churnLeaveShare", Churn ? LeaveShare : null);
        yield return ("lossRate", LossRate);
        yield return ("duplicateRate", DuplicateRate);
        yield return ("lossyPaths", text["lossyPaths"]);
        yield return ("lossyPathCount", LossyPaths);
        yield return ("lossyPathLossRate", LossyPathRate);
        yield return ("partitions", text["partitions"]);
        yield return ("partitionCount", Partitions.Count);
        yield return ("partitionOneWayCount", Partitions.Count(p => p.OneWay));
        yield return ("partitionSecondsTotal", SecondsWithinFaultPhase(Partitions.Select(p => (p.StartSeconds, p.DurationSeconds))));
        yield return ("latencySpikes", text["latencySpikes"]);
        yield return ("latencySpikeCount", Spikes.Count);
        // 1 without spikes: latency is never multiplied.
        yield return ("latencySpikeFactorMax", Spikes.Count == 0 ? 1.0 : Spikes.Max(s => s.Factor));
        yield return ("latencySpikeSecondsTotal", SecondsWithinFaultPhase(Spikes.Select(s => (s.StartSeconds, s.DurationSeconds))));
        yield return ("signalingOutages", text["signalingOutages"]);
        yield return ("signalingOutageCount", SignalingOutages.Count);
        yield return ("signalingOutageSecondsTotal", SecondsWithinFaultPhase(SignalingOutages.Select(o => (o.StartSeconds, o.DurationSeconds))));
        yield return ("natMix", text["natMix"]);
        // Null when the shares draw as the weights do: the column stays in every row of a table.
        yield return ("natMixWeights", text.GetValueOrDefault("natMixWeights"));
        yield return ("natExpiries", text["natExpiries"]);
        yield return ("natExpiryCount", NatExpirySeconds.Count);
        yield return ("healBoundSeconds", HealBoundSeconds);
        yield return ("links", text["links"]);
        yield return ("membership", text["membership"]);
        yield return ("signaling", text["signaling"]);
    }

    private double SecondsWithinFaultPhase(IEnumerable<(double Start, double Duration)> faults) =>
        Round(faults.Sum(f => Math.Clamp(FaultSeconds - f.Start, 0, f.Duration)));

    public IEnumerable<(string Name, string Value)> Describe()
    {
        var c = CultureInfo.InvariantCulture;
        yield return ("nodes", Nodes.ToString(c));
        yield return ("joinWindowSeconds", JoinWindowSeconds.ToString(c));
        yield return ("faultSeconds", FaultSeconds.ToString(c));
        // Without churn the downtime and leave share are drawn (to keep later draws in place) but unused.
        yield return ("churnSessionMeanSeconds", Churn ? SessionMeanSeconds.ToString(c) : "off");
        yield return ("churnDowntimeMeanSeconds", Churn ? DowntimeMeanSeconds.ToString(c) : "off");
        yield return ("churnLeaveShare", Churn ? LeaveShare.ToString(c) : "off");
        yield return ("lossRate", LossRate.ToString(c));
        yield return ("duplicateRate", DuplicateRate.ToString(c));
        yield return ("lossyPaths", $"{LossyPaths.ToString(c)} at {LossyPathRate.ToString(c)}");
        yield return ("partitions", Partitions.Count == 0 ? "none" : string.Join("; ", Partitions.Select(p =>
            string.Create(c, $"{p.Groups} groups{(p.OneWay ? " one-way" : "")} at {p.StartSeconds}s for {p.DurationSeconds}s"))));
        yield return ("latencySpikes", Spikes.Count == 0 ? "none" : string.Join("; ", Spikes.Select(s =>
            string.Create(c, $"x{s.Factor} at {s.StartSeconds}s for {s.DurationSeconds}s"))));
        yield return ("signalingOutages", SignalingOutages.Count == 0 ? "none" : string.Join("; ", SignalingOutages.Select(o =>
            string.Create(c, $"at {o.StartSeconds}s for {o.DurationSeconds}s"))));
        foreach (var echoed in Net.NatMixEcho.Describe(Net.NatMix.Parse(NatMix).Value)) yield return echoed;
        yield return ("natExpiries", NatExpirySeconds.Count == 0 ? "none" : string.Join(" ", NatExpirySeconds.Select(s => s.ToString(c) + "s")));
        yield return ("healBoundSeconds", HealBoundSeconds.ToString(c));
        yield return ("links", Links == LinkModel.Ice ? "ice" : "modeled");
        yield return ("membership", Membership == MembershipMode.Lookup ? "lookup" : "presence");
        yield return ("signaling", Signaling == SignalingModel.Xmpp ? "xmpp" : "modeled");
    }
}
