// The agenda's order is the run's order: (time, then insertion sequence), whatever the pattern of pushes and pops.
// The oracle is PriorityQueue keyed on (time, push number): with unique push numbers its order is total, so it
// pops exactly what a single (time, sequence) heap would.
using EdgeVpn.Sim;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class EventQueueTests
{
    [Fact]
    public void Events_pop_in_time_order_and_first_in_first_out_among_equal_times()
    {
        var ops = Gen.ListOf(Gen.Choose(-1, 50)).Select(l => l.ToArray()); // -1 = pop, else push at that time
        PropertyCheck.Run(Prop.ForAll(ops.ToArbitrary(), script =>
        {
            var q = new EventQueue();
            var reference = new List<(long Time, int Id)>();
            int id = 0;
            foreach (int op in script)
            {
                if (op >= 0)
                {
                    q.Push(op, new SimEvent(EventKind.Wake, id, 0, 0, null));
                    reference.Add((op, id++));
                    continue;
                }
                bool popped = q.TryPop(out long t, out var e);
                if (reference.Count == 0) { if (popped) return false; continue; }
                var expected = reference.OrderBy(r => r.Time).ThenBy(r => r.Id).First();
                reference.Remove(expected);
                if (!popped || t != expected.Time || e.Node != expected.Id) return false;
            }
            while (reference.Count > 0)
            {
                var expected = reference.OrderBy(r => r.Time).ThenBy(r => r.Id).First();
                reference.Remove(expected);
                if (!q.TryPop(out long t, out var e) || t != expected.Time || e.Node != expected.Id) return false;
            }
            return q.Count == 0 && !q.TryPop(out _, out _);
        }));
    }

    private const long BucketNs = 1L << EventQueue.BucketWidthBits;
    private const long HorizonNs = BucketNs << EventQueue.RingBits;

    // One step of a script: Kind picks a pop or where a push lands relative to the current time
    // (the last popped time), A spreads it. Times hit equal values, the current time, the past,
    // bucket edges, the ring's horizon and beyond it, negative times and long.MaxValue.
    private static long TimeOf(int kind, int a, long now) => kind switch
    {
        2 => now,
        3 => Add(now, a % 7),
        4 => Add((now >> EventQueue.BucketWidthBits) + a % 3 << EventQueue.BucketWidthBits, a % 3 - 1),
        5 => Add(now, a * BucketNs + a % 2),
        6 => Add(now, HorizonNs * (a % 3) + (a % 5 - 2) * BucketNs + a % 3 - 1),
        7 => Add(now, (long)a << 32),
        8 => now - a,
        9 => new[] { 0L, BucketNs, HorizonNs, HorizonNs + BucketNs - 1, -1 }[a % 5],
        _ => long.MaxValue - a % 3,
    };

    private static long Add(long now, long delta) => now > long.MaxValue - delta ? long.MaxValue : now + delta;

    [Fact]
    public void Pops_follow_time_then_push_order_for_pushes_at_the_current_time_bucket_edges_the_horizon_and_beyond()
    {
        var step = Gen.Frequency(
            (9, Gen.Constant((Kind: 0, A: 0))), // pop
            (12, Gen.Choose(2, 10).SelectMany(k => Gen.Choose(0, 1000).Select(a => (Kind: k, A: a)))));
        var script = Gen.Choose(0, 600).SelectMany(n => Gen.ArrayOf(step, n));
        PropertyCheck.Run(500, Prop.ForAll(script.ToArbitrary(), ops => Replay(ops)));
    }

    [Fact]
    public void A_long_run_with_thousands_pending_pops_in_the_same_order_as_the_reference()
    {
        // Many keys per bucket (several chunks), many buckets, migrations from the far heap.
        var random = new Random(7);
        var ops = new (int Kind, int A)[200_000];
        for (int i = 0; i < ops.Length; i++)
            ops[i] = random.Next(100) < 45 ? (0, 0) : (random.Next(2, 9), random.Next(0, 1001));
        Assert.True(Replay(ops));
    }

    /// <summary>Runs the script on an EventQueue and on the reference; true if every pop, PeekTime and Count agree.</summary>
    private static bool Replay((int Kind, int A)[] ops)
    {
        var q = new EventQueue();
        var reference = new PriorityQueue<int, (long Time, int Id)>();
        int id = 0;
        long now = 0;
        foreach (var (kind, a) in ops)
        {
            if (kind != 0)
            {
                long t = TimeOf(kind, a, now);
                q.Push(t, new SimEvent(EventKind.Wake, id, 0, 0, null));
                reference.Enqueue(id, (t, id));
                id++;
            }
            else if (!PopAgrees(q, reference, ref now)) return false;
            if (q.Count != reference.Count || q.Scheduled != id) return false;
        }
        while (reference.Count > 0)
            if (!PopAgrees(q, reference, ref now)) return false;
        return q.Count == 0 && q.PeekTime == long.MaxValue && !q.TryPop(out _, out _);
    }

    private static bool PopAgrees(EventQueue q, PriorityQueue<int, (long Time, int Id)> reference, ref long now)
    {
        if (!reference.TryDequeue(out int expected, out var key)) return q.PeekTime == long.MaxValue && !q.TryPop(out _, out _);
        if (q.PeekTime != key.Time) return false;
        if (!q.TryPop(out long t, out var e) || t != key.Time || e.Node != expected) return false;
        now = t;
        return true;
    }

    [Fact]
    public void A_bucket_sorts_its_keys_in_time_then_sequence_order() =>
        // Times share high bits and collide (one bucket's span), sequences are unique: the numeric
        // sort must agree with EventKey.Less key for key.
        PropertyCheck.Run(300, Prop.ForAll(Arb.From(Gen.Choose(0, 2000).ArrayOf()), times =>
        {
            var keys = new EventKey[times.Length];
            for (int i = 0; i < times.Length; i++)
                keys[i] = new EventKey { Time = (7L << 40) + (times[i] % 64), SeqSlot = (long)(times.Length - i) << 28 | (uint)(times[i] * 31 % 1000) };
            var expected = keys.ToArray();
            Array.Sort(expected, (a, b) => EventKey.Less(a, b) ? -1 : EventKey.Less(b, a) ? 1 : 0);
            EventQueue.SortRun(keys);
            for (int i = 0; i < keys.Length; i++)
                if (keys[i].Time != expected[i].Time || keys[i].SeqSlot != expected[i].SeqSlot) return false;
            return true;
        }));
}
