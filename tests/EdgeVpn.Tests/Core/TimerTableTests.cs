// Tests for TimerTable: Earliest is the minimum armed deadline, TakeIfDue fires a timer once
// and only when due (early calls are harmless), and any enum shape can index the table.
using EdgeVpn.Protocol.Core;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Core;

public sealed class TimerTableTests
{
    private enum Timer { Retry, Keepalive, Idle, Protect }

    private enum SparseTimer { First = 1, Second = 10, Third = 100 }

    private enum NegativeTimer : short { Low = -5, Mid = 0, High = 3 }

    [Fact]
    public void A_new_table_has_no_timer_armed()
    {
        var t = new TimerTable<Timer>();
        Assert.Null(t.Earliest());
        foreach (var k in Enum.GetValues<Timer>())
        {
            Assert.False(t.IsArmed(k));
            Assert.Null(t.Get(k));
            Assert.False(t.TakeIfDue(k, Instant.MaxValue));
        }
    }

    [Fact]
    public void Earliest_is_the_minimum_armed_deadline() =>
        PropertyCheck.Run(300, Prop.ForAll(Arb.From(
            Gen.Choose(-1, 1000).ArrayOf(4)), deadlines =>
        {
            var t = new TimerTable<Timer>();
            for (int i = 0; i < 4; i++)
                if (deadlines[i] >= 0) t.Set((Timer)i, new Instant(deadlines[i]));
            var armed = deadlines.Where(d => d >= 0).ToArray();
            Instant? expected = armed.Length == 0 ? null : new Instant(armed.Min());
            return t.Earliest() == expected;
        }));

    [Fact]
    public void Set_replaces_a_deadline_and_Stop_disarms_it()
    {
        var t = new TimerTable<Timer>();
        t.Set(Timer.Idle, new Instant(50));
        t.Set(Timer.Idle, new Instant(80));
        Assert.Equal(new Instant(80), t.Get(Timer.Idle));
        t.Set(Timer.Retry, new Instant(90));
        Assert.Equal(new Instant(80), t.Earliest());
        t.Stop(Timer.Idle);
        Assert.False(t.IsArmed(Timer.Idle));
        Assert.Equal(new Instant(90), t.Earliest());
    }

    [Fact]
    public void TakeIfDue_before_the_deadline_does_nothing()
    {
        var t = new TimerTable<Timer>();
        t.Set(Timer.Keepalive, new Instant(100));
        Assert.False(t.TakeIfDue(Timer.Keepalive, new Instant(99)));
        Assert.False(t.TakeIfDue(Timer.Keepalive, Instant.Zero));
        Assert.True(t.IsArmed(Timer.Keepalive));
        Assert.Equal(new Instant(100), t.Earliest());
    }

    [Fact]
    public void TakeIfDue_fires_once_at_or_after_the_deadline_and_clears_it()
    {
        var t = new TimerTable<Timer>();
        t.Set(Timer.Keepalive, new Instant(100));
        t.Set(Timer.Protect, new Instant(200));
        Assert.True(t.TakeIfDue(Timer.Keepalive, new Instant(100)));
        Assert.False(t.TakeIfDue(Timer.Keepalive, new Instant(100)));
        Assert.False(t.IsArmed(Timer.Keepalive));
        Assert.Equal(new Instant(200), t.Earliest());
        Assert.True(t.TakeIfDue(Timer.Protect, new Instant(1000)));
        Assert.Null(t.Earliest());
    }

    [Fact]
    public void Walking_the_table_at_random_times_fires_each_timer_exactly_once_and_never_early() =>
        PropertyCheck.Run(300, Prop.ForAll(Arb.From(
            from deadlines in Gen.Choose(0, 100).ArrayOf(4)
            from times in Gen.Choose(0, 120).ArrayOf()
            select (deadlines, times)), c =>
        {
            var t = new TimerTable<Timer>();
            for (int i = 0; i < 4; i++) t.Set((Timer)i, new Instant(c.deadlines[i]));
            var fired = new int[4];
            var now = Instant.Zero;
            foreach (int step in c.times.Order().Append(200))
            {
                now = new Instant(step);
                for (int i = 0; i < 4; i++)
                    if (t.TakeIfDue((Timer)i, now))
                    {
                        if (c.deadlines[i] > step) return false;
                        fired[i]++;
                    }
            }
            return fired.All(f => f == 1) && t.Earliest() is null;
        }));

    [Fact]
    public void Enums_that_do_not_start_at_zero_or_have_gaps_index_the_table()
    {
        var t = new TimerTable<SparseTimer>();
        t.Set(SparseTimer.Third, new Instant(3));
        t.Set(SparseTimer.First, new Instant(1));
        Assert.Equal(new Instant(3), t.Get(SparseTimer.Third));
        Assert.Equal(new Instant(1), t.Earliest());
        Assert.False(t.IsArmed(SparseTimer.Second));
        Assert.True(t.TakeIfDue(SparseTimer.First, new Instant(1)));
        Assert.Equal(new Instant(3), t.Earliest());

        var n = new TimerTable<NegativeTimer>();
        n.Set(NegativeTimer.Low, new Instant(7));
        Assert.Equal(new Instant(7), n.Earliest());
        Assert.False(n.IsArmed(NegativeTimer.High));
    }

    [Fact]
    public void A_value_the_enum_does_not_declare_is_rejected()
    {
        var t = new TimerTable<SparseTimer>();
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Set((SparseTimer)2, Instant.Zero));
    }
}
