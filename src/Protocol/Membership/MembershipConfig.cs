// Parameters of RingMembership (Symphony's scalable membership). Every bound carries its unit last.
// Defaults aim at a million-node simulation: a stable ring costs each node one Stabilize and one
// reply per StabilizeIntervalMax, a change costs a short burst that backs off by doubling.
namespace EdgeVpn.Protocol.Membership;

public sealed record MembershipConfig
{
    /// <summary>Successors each node tracks (Chord's r); the topology links the first SuccessorsMin of them.</summary>
    public int SuccessorListLength { get; init; } = 4;
    /// <summary>A lookup that has travelled this many hops without reaching its owner fails.</summary>
    public int LookupHopsMax { get; init; } = 64;
    /// <summary>How long the origin waits for a lookup's answer before retrying it.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Retries of one lookup (or join) after a timeout or a routing failure, then it fails.</summary>
    public int LookupRetriesMax { get; init; } = 2;
    /// <summary>A failed attempt is retried after this delay (jittered), not at once.</summary>
    public TimeSpan LookupRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Lookups in flight from this node; more are refused with LookupFailed.</summary>
    public int PendingLookupsMax { get; init; } = 32;
    /// <summary>The stabilize period right after a change to the successors or predecessor.</summary>
    public TimeSpan StabilizeIntervalMin { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The stabilize period doubles after each round that changed nothing, up to this.</summary>
    public TimeSpan StabilizeIntervalMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Every period and timeout is scaled by a seeded factor in [1 - spread, 1 + spread].</summary>
    public double JitterSpread { get; init; } = 0.1;
    /// <summary>How long a node waits for its successor's StabilizeReply.</summary>
    public TimeSpan StabilizeReplyTimeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Unanswered Stabilize requests in a row after which the successor is taken for dead.</summary>
    public int StabilizeMissesMax { get; init; } = 2;
    /// <summary>The predecessor is forgotten when nothing was heard from it for this long (it stabilizes
    /// with this node at least every StabilizeIntervalMax while it is alive and still the predecessor).</summary>
    public TimeSpan PredecessorTimeout { get; init; } = TimeSpan.FromSeconds(100);
    /// <summary>Period of the self-check: a lookup of self + 1 sent through the farthest neighbour, whose
    /// answer (and the answering node, which is introduced to this one) merges rings that formed apart,
    /// e.g. two loops after concurrent joins; stabilization alone cannot see them.</summary>
    public TimeSpan SelfCheckInterval { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Weight of the node's own spacing measurement against its successor's smoothed one (see SizeEstimator).</summary>
    public double EstimateOwnWeight { get; init; } = 0.125;
    /// <summary>SizeEstimate is reported again only when n moved by more than this fraction.</summary>
    public double EstimateReportChangeMin { get; init; } = 0.05;
    /// <summary>A node pushes its smoothed spacing to its predecessor when it moved by more than this fraction.</summary>
    public double EstimatePushChangeMin { get; init; } = 0.03;

    /// <summary>Checks the bounds; returns the first problem as "Field: reason" or null.</summary>
    public string? Validate()
    {
        if (SuccessorListLength < 1 || SuccessorListLength > MembershipMessage.SuccessorsOnWireMax) return $"SuccessorListLength: must be in 1..{MembershipMessage.SuccessorsOnWireMax}";
        if (LookupHopsMax < 1 || LookupHopsMax > 255) return "LookupHopsMax: must be in 1..255 (the hop count is one byte)";
        if (LookupTimeout <= TimeSpan.Zero) return "LookupTimeout: must be positive";
        if (LookupRetriesMax < 0 || LookupRetriesMax > 16) return "LookupRetriesMax: must be in 0..16";
        if (LookupRetryDelay <= TimeSpan.Zero) return "LookupRetryDelay: must be positive";
        if (PendingLookupsMax < 1 || PendingLookupsMax > 4096) return "PendingLookupsMax: must be in 1..4096";
        if (StabilizeIntervalMin <= TimeSpan.Zero) return "StabilizeIntervalMin: must be positive";
        if (StabilizeIntervalMax < StabilizeIntervalMin) return "StabilizeIntervalMax: must not be below StabilizeIntervalMin";
        if (!(JitterSpread >= 0 && JitterSpread < 1)) return "JitterSpread: must be in [0, 1)";
        if (SelfCheckInterval <= TimeSpan.Zero) return "SelfCheckInterval: must be positive";
        if (StabilizeReplyTimeout <= TimeSpan.Zero) return "StabilizeReplyTimeout: must be positive";
        if (StabilizeMissesMax < 1 || StabilizeMissesMax > 16) return "StabilizeMissesMax: must be in 1..16";
        if (PredecessorTimeout <= StabilizeIntervalMax) return "PredecessorTimeout: must exceed StabilizeIntervalMax";
        if (!(EstimateOwnWeight > 0 && EstimateOwnWeight <= 1)) return "EstimateOwnWeight: must be in (0, 1]";
        if (!(EstimateReportChangeMin >= 0)) return "EstimateReportChangeMin: must not be negative";
        // Zero would let an estimate creeping by rounding errors push forever.
        if (!(EstimatePushChangeMin >= 0.001)) return "EstimatePushChangeMin: must be at least 0.001";
        return null;
    }
}
