// The agenda's order is the run's order: (time, then insertion sequence), whatever the pattern of pushes and pops.
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
        Prop.ForAll(ops.ToArbitrary(), script =>
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
        }).QuickCheckThrowOnFailure();
    }
}
