// An instant of time as the host sees it, in nanoseconds since the host's epoch.
// Contract: machines never read a clock; every instant they see came in through Handle*/HandleTimeout.
// Durations are TimeSpan (100 ns ticks); an Instant plus a TimeSpan is exact. Arithmetic
// saturates at long.MinValue / long.MaxValue nanoseconds instead of wrapping, so that
// "now + TimeSpan.MaxValue" (a timer that never fires) stays in the far future.
namespace EdgeVpn.Protocol.Core;

public readonly record struct Instant(long Nanoseconds) : IComparable<Instant>
{
    public static readonly Instant Zero = new(0);
    public static readonly Instant MaxValue = new(long.MaxValue);

    public static Instant FromSeconds(double seconds) => new((long)Math.Round(seconds * 1e9));
    public static Instant FromTimeSpan(TimeSpan sinceEpoch) => new(Saturate((Int128)sinceEpoch.Ticks * 100));

    public double TotalSeconds => Nanoseconds / 1e9;
    public TimeSpan SinceEpoch => TimeSpan.FromTicks(Nanoseconds / 100);

    public static Instant operator +(Instant a, TimeSpan d) => new(Saturate((Int128)a.Nanoseconds + (Int128)d.Ticks * 100));
    public static Instant operator -(Instant a, TimeSpan d) => new(Saturate((Int128)a.Nanoseconds - (Int128)d.Ticks * 100));
    /// <summary>The duration from b to a, truncated toward zero to whole ticks (always fits a TimeSpan).</summary>
    public static TimeSpan operator -(Instant a, Instant b) => TimeSpan.FromTicks((long)(((Int128)a.Nanoseconds - b.Nanoseconds) / 100));
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

    /// <summary>The exact result clamped to the range of Instant.</summary>
    private static long Saturate(Int128 nanoseconds) =>
        nanoseconds > long.MaxValue ? long.MaxValue : nanoseconds < long.MinValue ? long.MinValue : (long)nanoseconds;
}
