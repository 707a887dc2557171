// An instant of time as the host sees it, in nanoseconds since the host's epoch.
// Contract: machines never read a clock; every instant they see came in through Handle*/HandleTimeout.
// Durations are TimeSpan (100 ns ticks); an Instant plus a TimeSpan is exact.
namespace EdgeVpn.Protocol.Core;

public readonly record struct Instant(long Nanoseconds) : IComparable<Instant>
{
    public static readonly Instant Zero = new(0);
    public static readonly Instant MaxValue = new(long.MaxValue);

    public static Instant FromSeconds(double seconds) => new((long)Math.Round(seconds * 1e9));
    public static Instant FromTimeSpan(TimeSpan sinceEpoch) => new(sinceEpoch.Ticks * 100);

    public double TotalSeconds => Nanoseconds / 1e9;
    public TimeSpan SinceEpoch => TimeSpan.FromTicks(Nanoseconds / 100);

    public static Instant operator +(Instant a, TimeSpan d) => new(SaturatingAdd(a.Nanoseconds, d.Ticks * 100));
    public static Instant operator -(Instant a, TimeSpan d) => new(a.Nanoseconds - d.Ticks * 100);
    public static TimeSpan operator -(Instant a, Instant b) => TimeSpan.FromTicks((a.Nanoseconds - b.Nanoseconds) / 100);
    public static bool operator <(Instant a, Instant b) => a.Nanoseconds < b.Nanoseconds;
    public static bool operator >(Instant a, Instant b) => a.Nanoseconds > b.Nanoseconds;
    public static bool operator <=(Instant a, Instant b) => a.Nanoseconds <= b.Nanoseconds;
    public static bool operator >=(Instant a, Instant b) => a.Nanoseconds >= b.Nanoseconds;

    public int CompareTo(Instant other) => Nanoseconds.CompareTo(other.Nanoseconds);

    public static Instant Min(Instant a, Instant b) => a <= b ? a : b;
    public static Instant Max(Instant a, Instant b) => a >= b ? a : b;

    /// <summary>The earlier of two optional instants; null means "no timer".</summary>
    public static Instant? Earliest(Instant? a, Instant? b) =>
        a is null ? b : b is null ? a : (a.Value <= b.Value ? a : b);

    public override string ToString() => $"{Nanoseconds / 1e9:F6}s";

    private static long SaturatingAdd(long a, long b)
    {
        long r = unchecked(a + b);
        if (((a ^ r) & (b ^ r)) < 0) return b > 0 ? long.MaxValue : long.MinValue;
        return r;
    }
}
