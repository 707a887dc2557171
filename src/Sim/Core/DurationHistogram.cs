// Durations of one kind (e.g. link setups) in 1 ms bins up to BinsMax ms, one overflow bin
// beyond: constant memory whatever the run's size, medians and percentiles to the millisecond.
// Used to compare the modeled link timing with the packet-level one (--links ice).
namespace EdgeVpn.Sim;

public sealed class DurationHistogram
{
    public const int BinsMax = 120_000;

    private readonly long[] _bins = new long[BinsMax + 1];
    private long _sumNs;

    public long Count { get; private set; }
    public double MeanMs => Count == 0 ? double.NaN : _sumNs / 1e6 / Count;

    public void Add(long ns)
    {
        if (ns < 0) ns = 0;
        _bins[(int)Math.Min(BinsMax, ns / 1_000_000)]++;
        _sumNs += ns;
        Count++;
    }

    /// <summary>The q-quantile (0..1) in ms, as the lower edge of its bin; NaN when empty; BinsMax for the overflow bin.</summary>
    public double PercentileMs(double q)
    {
        if (Count == 0) return double.NaN;
        long rank = Math.Clamp((long)Math.Ceiling(q * Count), 1, Count), seen = 0;
        for (int i = 0; i < _bins.Length; i++)
            if ((seen += _bins[i]) >= rank) return i;
        return BinsMax;
    }

    public double MedianMs => PercentileMs(0.5);
}
