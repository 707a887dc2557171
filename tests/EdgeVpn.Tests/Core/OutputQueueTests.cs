// Tests for OutputQueue: FIFO order against a model queue through any interleaving of
// enqueues and dequeues (which drives growth, wrap-around and the release of large buffers),
// the overflow guard at CapacityMax, and the per-thread stock of drained arrays.
using EdgeVpn.Protocol.Core;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Core;

public sealed class OutputQueueTests
{
    [Fact]
    public void A_default_queue_is_empty_and_allocates_nothing()
    {
        var q = default(OutputQueue<int>);
        Assert.Equal(0, q.Count);
        Assert.False(q.TryDequeue(out int item));
        Assert.Equal(0, item);
    }

    [Fact]
    public void Any_interleaving_of_enqueues_and_dequeues_is_first_in_first_out() =>
        // Each op: a positive number enqueues that many items, otherwise one dequeue.
        PropertyCheck.Run(500, Prop.ForAll(Arb.From(
            Gen.Frequency((3, Gen.Choose(1, 70)), (4, Gen.Constant(0))).ArrayOf()), ops =>
        {
            var q = new OutputQueue<int>();
            var model = new Queue<int>();
            int next = 0;
            foreach (int op in ops)
            {
                if (op > 0)
                    for (int i = 0; i < op; i++) { q.Enqueue(next); model.Enqueue(next); next++; }
                else
                {
                    bool got = q.TryDequeue(out int item);
                    bool expected = model.TryDequeue(out int want);
                    if (got != expected || (got && item != want)) return false;
                }
                if (q.Count != model.Count) return false;
            }
            while (model.TryDequeue(out int want))
                if (!q.TryDequeue(out int item) || item != want) return false;
            return !q.TryDequeue(out _) && q.Count == 0;
        }));

    [Fact]
    public void Growth_after_wrap_around_keeps_order()
    {
        var q = new OutputQueue<string>();
        for (int i = 0; i < 4; i++) q.Enqueue($"a{i}");
        Assert.True(q.TryDequeue(out var first));
        Assert.Equal("a0", first);
        q.Enqueue("a4"); q.Enqueue("a5"); // wraps, then grows from a wrapped buffer
        var drained = new List<string>();
        while (q.TryDequeue(out var s)) drained.Add(s);
        Assert.Equal(["a1", "a2", "a3", "a4", "a5"], drained);
    }

    [Fact]
    public void A_queue_is_usable_again_after_draining_a_large_burst()
    {
        var q = new OutputQueue<int>();
        for (int i = 0; i < 1000; i++) q.Enqueue(i);
        for (int i = 0; i < 1000; i++) { Assert.True(q.TryDequeue(out int x)); Assert.Equal(i, x); }
        q.Enqueue(7);
        Assert.True(q.TryDequeue(out int y));
        Assert.Equal(7, y);
    }

    [Fact]
    public void Enqueueing_beyond_CapacityMax_is_reported_as_a_machine_bug()
    {
        var q = new OutputQueue<byte>();
        for (int i = 0; i < OutputQueue<byte>.CapacityMax; i++) q.Enqueue(1);
        Assert.Equal(OutputQueue<byte>.CapacityMax, q.Count);
        var ex = Assert.Throws<InvalidOperationException>(() => q.Enqueue(1));
        Assert.Contains("overflow", ex.Message);
    }

    [Fact]
    public void A_drained_queue_holds_no_array_and_the_next_queue_to_fill_takes_it_empty()
    {
        var first = new OutputQueue<string>();
        first.Enqueue("a"); first.Enqueue("b");
        object? array = first.Buffer;
        Assert.NotNull(array);
        while (first.TryDequeue(out _)) { }
        Assert.Null(first.Buffer);

        var second = new OutputQueue<string>();
        second.Enqueue("c");
        Assert.Same(array, second.Buffer);
        Assert.All((string?[])second.Buffer!, (s, i) => Assert.Equal(i == 0 ? "c" : null, s));
        Assert.True(second.TryDequeue(out var c));
        Assert.Equal("c", c);
        Assert.False(second.TryDequeue(out _));
    }

    [Fact]
    public void An_array_grown_by_a_burst_is_not_kept_for_other_queues()
    {
        var burst = new OutputQueue<long>();
        for (int i = 0; i < 100; i++) burst.Enqueue(i);
        object? big = burst.Buffer;
        while (burst.TryDequeue(out _)) { }
        var next = new OutputQueue<long>();
        next.Enqueue(1);
        Assert.NotSame(big, next.Buffer);
        Assert.True(((long[])next.Buffer!).Length <= 8);
    }
}
