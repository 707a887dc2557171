// The calendar queue pops in exactly the order of a priority queue on (time, sequence), refuses
// times outside its window without losing state, and recycles its storage.
using EdgeVpn.Sim.Engine;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Sim.Engine;

public class CalendarQueueTests
{
    private readonly record struct Script(int DelayMaxTicks, int ChunkLength, int[] Ops);

    // Ops: -1 pops, d >= 0 pushes at Now + d. Tiny chunks and bounds put many events in one
    // bucket, spread buckets over several chunks and wrap the bucket ring many times.
    private static readonly Gen<Script> Scripts =
        from delayMax in Gen.Choose(0, 20)
        from chunk in Gen.Choose(1, 5)
        from ops in Gen.ListOf(Gen.Frequency((2, Gen.Constant(-1)), (3, Gen.Choose(0, delayMax))))
        select new Script(delayMax, chunk, ops.ToArray());

    [Fact]
    public void Pops_come_in_the_order_of_a_time_then_sequence_priority_queue()
    {
        Check(Scripts, s =>
        {
            var q = new CalendarQueue<int>(s.DelayMaxTicks, chunkLength: s.ChunkLength);
            var reference = new PriorityQueue<int, (long Time, long Seq)>();
            long seq = 0;
            int id = 0;
            bool Same()
            {
                if (q.Count != reference.Count) return false;
                if (reference.Count == 0) return !q.TryPop(out _, out _) && q.PeekTime == long.MaxValue;
                reference.TryPeek(out _, out var next);
                if (q.PeekTime != next.Time) return false;
                reference.TryDequeue(out int expected, out var key);
                return q.TryPop(out long t, out int e) && t == key.Time && e == expected && q.Now == t;
            }
            foreach (int op in s.Ops)
            {
                if (op < 0) { if (!Same()) return false; continue; }
                long time = q.Now + op;
                q.Push(time, id);
                reference.Enqueue(id++, (time, seq++));
            }
            while (reference.Count > 0) if (!Same()) return false;
            return Same() && q.Scheduled == id;
        }, maxTest: 500);
    }

    [Fact]
    public void Equal_times_pop_first_in_first_out_even_across_chunks()
    {
        var q = new CalendarQueue<int>(delayMaxTicks: 3, chunkLength: 2);
        for (int i = 0; i < 7; i++) q.Push(2, i);
        q.Push(1, 100);
        var popped = new List<(long, int)>();
        while (q.TryPop(out long t, out int e)) popped.Add((t, e));
        Assert.Equal([(1L, 100), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)], popped);
    }

    [Fact]
    public void A_push_before_now_is_refused_with_a_clear_error_and_changes_nothing()
    {
        var q = new CalendarQueue<int>(delayMaxTicks: 10);
        q.Push(5, 1);
        q.Push(7, 2);
        Assert.True(q.TryPop(out long t, out _));
        Assert.Equal(5, t);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => q.Push(4, 3));
        Assert.Contains("in the past (time 4 < now 5)", error.Message);
        Assert.Equal(1, q.Count);
        Assert.True(q.TryPop(out t, out int e));
        Assert.Equal((7L, 2), (t, e));
    }

    [Fact]
    public void A_push_beyond_the_delay_bound_is_refused_with_a_clear_error()
    {
        var q = new CalendarQueue<int>(delayMaxTicks: 10, startTicks: 100);
        q.Push(110, 1); // exactly at the bound is fine
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => q.Push(111, 2));
        Assert.Contains("beyond the delay bound (time 111 > now 100 + DelayMaxTicks 10)", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => q.Push(long.MaxValue, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => q.Push(long.MinValue, 2));
        Assert.Equal(1, q.Count);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(CalendarQueue<int>.DelayMaxTicksLimit + 1)]
    public void A_delay_bound_outside_the_supported_range_is_refused(int delayMax)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CalendarQueue<int>(delayMax));
        Assert.Contains("DelayMaxTicks must be in", error.Message);
    }

    [Fact]
    public void A_steady_stream_of_events_reuses_its_chunks_and_allocates_nothing_per_event()
    {
        var q = new CalendarQueue<long>(delayMaxTicks: 100, chunkLength: 64);
        ulong x = 12345;
        int Delay() { x = x * 6364136223846793005UL + 1442695040888963407UL; return (int)(x >> 33) % 101; }
        void Churn(int rounds)
        {
            for (int i = 0; i < 5000; i++) q.Push(q.Now + Delay(), i);
            for (int r = 0; r < rounds; r++) { q.TryPop(out long t, out long e); q.Push(t + Delay(), e); }
        }
        Churn(200_000); // warm up: reach the peak number of chunks, and let the JIT settle
        int chunks = q.ChunksAllocated;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 200_000; r++) { q.TryPop(out long t, out long e); q.Push(t + Delay(), e); }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated for 200,000 events");
        Assert.True(q.ChunksAllocated <= chunks + 101, $"{q.ChunksAllocated} chunks after {chunks}");
        Assert.True(chunks <= 5000 / 64 + 101 + 1, $"{chunks} chunks for 5000 pending events");
    }
}
