// Tests for Instant arithmetic: exact addition of TimeSpans, differences truncated to ticks,
// ordering, Earliest with "no timer" nulls, and saturation at both ends instead of wrapping.
using EdgeVpn.Protocol.Core;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Core;

public sealed class InstantTests
{
    private const int Many = 500;

    // Instants within about +-290 years and durations within about +-29 years: no saturation.
    private static readonly Gen<Instant> Instants =
        Generators.UInt64Uniform.Select(u => new Instant((long)(u >> 1) - (long.MaxValue / 2)));
    private static readonly Gen<TimeSpan> Durations =
        Generators.UInt64Uniform.Select(u => TimeSpan.FromTicks((long)(u >> 8) - (long)(ulong.MaxValue >> 9)));

    private static readonly Arbitrary<(Instant At, TimeSpan D)> InstantAndDuration =
        Arb.From(from at in Instants from d in Durations select (at, d));

    [Fact]
    public void Adding_a_duration_adds_its_nanoseconds_exactly() =>
        PropertyCheck.Run(Many, Prop.ForAll(InstantAndDuration, c =>
            (c.At + c.D).Nanoseconds == c.At.Nanoseconds + c.D.Ticks * 100));

    [Fact]
    public void Subtracting_a_duration_undoes_adding_it() =>
        PropertyCheck.Run(Many, Prop.ForAll(InstantAndDuration, c => c.At + c.D - c.D == c.At));

    [Fact]
    public void The_difference_of_an_instant_plus_a_duration_and_that_instant_is_the_duration() =>
        PropertyCheck.Run(Many, Prop.ForAll(InstantAndDuration, c => (c.At + c.D) - c.At == c.D));

    [Fact]
    public void Differences_are_truncated_toward_zero_to_whole_ticks()
    {
        Assert.Equal(TimeSpan.FromTicks(1), new Instant(199) - new Instant(0));
        Assert.Equal(TimeSpan.FromTicks(-1), new Instant(0) - new Instant(199));
        Assert.Equal(TimeSpan.Zero, new Instant(99) - new Instant(0));
    }

    [Fact]
    public void Comparisons_follow_the_nanoseconds() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Gen.Two(Instants)), p =>
        {
            var (a, b) = p;
            long x = a.Nanoseconds, y = b.Nanoseconds;
            return (a < b) == (x < y) && (a > b) == (x > y) && (a <= b) == (x <= y) && (a >= b) == (x >= y)
                && (a == b) == (x == y) && Math.Sign(a.CompareTo(b)) == Math.Sign(x.CompareTo(y))
                && Instant.Min(a, b).Nanoseconds == Math.Min(x, y) && Instant.Max(a, b).Nanoseconds == Math.Max(x, y);
        }));

    [Fact]
    public void Earliest_treats_null_as_no_timer()
    {
        var t = new Instant(5);
        Assert.Null(Instant.Earliest(null, null));
        Assert.Equal(t, Instant.Earliest(t, null));
        Assert.Equal(t, Instant.Earliest(null, t));
        Assert.Equal(new Instant(3), Instant.Earliest(new Instant(3), t));
        Assert.Equal(new Instant(3), Instant.Earliest(t, new Instant(3)));
        Assert.Equal(t, Instant.Earliest(t, t));
    }

    [Fact]
    public void Earliest_of_two_instants_is_their_minimum() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Gen.Two(Instants)), p =>
            Instant.Earliest(p.Item1, p.Item2) == Instant.Min(p.Item1, p.Item2)));

    [Fact]
    public void Adding_past_the_end_of_time_saturates_at_MaxValue()
    {
        Assert.Equal(Instant.MaxValue, Instant.MaxValue + TimeSpan.FromTicks(1));
        Assert.Equal(Instant.MaxValue, new Instant(long.MaxValue - 50) + TimeSpan.FromTicks(1));
        Assert.Equal(Instant.MaxValue, Instant.MaxValue + TimeSpan.MaxValue);
    }

    [Fact]
    public void Adding_TimeSpan_MaxValue_means_never_and_does_not_wrap_into_the_past()
    {
        Assert.Equal(Instant.MaxValue, Instant.Zero + TimeSpan.MaxValue);
        Assert.Equal(Instant.MaxValue, Instant.FromSeconds(1000) + TimeSpan.MaxValue);
        Assert.Equal(Instant.MaxValue, Instant.FromTimeSpan(TimeSpan.MaxValue));
        Assert.Equal(Instant.MaxValue, new Instant(long.MinValue) + TimeSpan.MaxValue + TimeSpan.MaxValue);
    }

    [Fact]
    public void Subtraction_saturates_at_both_ends()
    {
        Assert.Equal(new Instant(long.MinValue), new Instant(long.MinValue) - TimeSpan.FromTicks(1));
        Assert.Equal(new Instant(long.MinValue), Instant.Zero - TimeSpan.MaxValue);
        Assert.Equal(Instant.MaxValue, Instant.Zero - TimeSpan.MinValue);
        Assert.Equal(new Instant(long.MinValue), Instant.Zero + TimeSpan.MinValue);
    }

    [Fact]
    public void The_difference_of_the_extreme_instants_does_not_overflow()
    {
        Assert.Equal(TimeSpan.FromTicks((long)(((Int128)long.MaxValue - long.MinValue) / 100)),
            Instant.MaxValue - new Instant(long.MinValue));
        Assert.True(new Instant(long.MinValue) - Instant.MaxValue < TimeSpan.Zero);
    }

    [Fact]
    public void Adding_is_monotone_in_the_duration_even_when_saturating() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(
            from at in Instants
            from d1 in Generators.UInt64Uniform
            from d2 in Generators.UInt64Uniform
            select (at, lo: TimeSpan.FromTicks((long)(Math.Min(d1, d2) >> 1)), hi: TimeSpan.FromTicks((long)(Math.Max(d1, d2) >> 1)))), c =>
            c.at + c.lo <= c.at + c.hi && c.at + c.lo >= c.at));

    [Fact]
    public void Seconds_and_TimeSpans_convert_exactly()
    {
        Assert.Equal(1_500_000_000L, Instant.FromSeconds(1.5).Nanoseconds);
        Assert.Equal(1.5, Instant.FromSeconds(1.5).TotalSeconds);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Instant.FromSeconds(1.5).SinceEpoch);
        Assert.Equal(Instant.FromSeconds(2), Instant.FromTimeSpan(TimeSpan.FromSeconds(2)));
        Assert.Equal("1.500000s", Instant.FromSeconds(1.5).ToString());
    }
}
