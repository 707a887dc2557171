// Estimating the overlay size n from the spacing of nearby ids (Symphony, section "estimation of n").
//
// Ids are uniform on the ring, so the G gaps between G + 1 consecutive members are (nearly)
// independent exponentials of mean 1/n (as fractions of the ring). A node sees the arc from its
// predecessor to its L-th successor: G = L + 1 gaps (G = L without a predecessor). Its raw
// spacing s = D / G, D = that arc's length, has mean 1/n and relative standard deviation 1/sqrt(G)
// (0.45 for L = 4). The size estimate is n = 1/s, which is the spec's L·2^128 / D up to the
// predecessor gap; as the inverse of a Gamma variable it is biased up by G/(G-1) and has relative
// deviation about 1/sqrt(G-2).
//
// Smoothing: each StabilizeReply carries the successor's smoothed spacing, and a node keeps
//   s_smoothed = w·s_raw + (1 - w)·s_successor_smoothed,   w = EstimateOwnWeight (0.125),
// a filter along the ring that weighs the j-th successor's raw window by w(1-w)^j. Counting how
// much each gap weighs in the sum, the effective number of gaps is about 18 for L = 4 and
// w = 0.125 (5 unsmoothed, 10.5 for w = 0.25): relative deviation about 0.23, bias about +6%. The
// price is latency: a change travels one node per stabilize round, and an old value decays only
// by (1 - w) per round. So the successor's report is first clamped to within a factor
// ReportClampRatio (4) of the node's own raw spacing: a report from the time the ring was ten
// times smaller cannot hold the estimate down for dozens of rounds, while in a steady ring the
// clamp almost never acts (a raw spacing below a quarter of the mean needs 5 gaps summing to
// less than 1.25 means: probability 0.9%; a factor of 2 would clip 11% of the nodes, exactly the
// outliers the smoothing is for).
// The state is one double and the successor's last report.
//
// When the successor list is shorter than SuccessorListLength the node knows the whole ring
// (every other member is in its list), so n = count + 1 exactly.
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Membership;

public static class SizeEstimator
{
    private const double TwoTo64 = 18446744073709551616.0;

    /// <summary>The mean gap between adjacent members seen from this node, as a fraction of the ring.</summary>
    public static double RawSpacing(NodeId self, NodeId? predecessor, ReadOnlySpan<NodeId> successors, int listLength)
    {
        if (successors.Length == 0) return 1.0;
        if (successors.Length < listLength) return 1.0 / (successors.Length + 1);
        NodeId last = successors[^1];
        // A predecessor inside (self, last] means the ring is just the list and self: it adds no gap.
        bool usePredecessor = predecessor is { } p && !NodeId.IsInHalfOpen(p, self, last);
        NodeId from = usePredecessor ? predecessor!.Value : self;
        int gaps = successors.Length + (usePredecessor ? 1 : 0);
        double arc = NodeId.FractionOfRing(NodeId.ClockwiseDistance(from, last));
        return Math.Max(arc, double.Epsilon) / gaps;
    }

    /// <summary>Blends the node's own spacing with its successor's smoothed report (0: none yet).</summary>
    public static double Smooth(double raw, ulong successorReport, double ownWeight) =>
        successorReport == 0 ? raw
            : ownWeight * raw + (1 - ownWeight) * Math.Clamp(FromWire(successorReport), raw / ReportClampRatio, raw * ReportClampRatio);

    /// <summary>A successor's report counts for at most this factor away from the node's own spacing.</summary>
    public const double ReportClampRatio = 4.0;

    /// <summary>The size estimate for a spacing: round(1/spacing), at least 1.</summary>
    public static int SizeOf(double spacing) =>
        spacing <= 0 || 1.0 / spacing >= int.MaxValue ? int.MaxValue : Math.Max(1, (int)Math.Round(1.0 / spacing));

    /// <summary>A spacing in 0.64 fixed point, never 0 (0 means "no estimate" on the wire).</summary>
    public static ulong ToWire(double spacing)
    {
        double scaled = spacing * TwoTo64;
        if (!(scaled >= 1)) return 1;
        return scaled >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)scaled;
    }

    public static double FromWire(ulong fixedPoint) => fixedPoint / TwoTo64;
}
