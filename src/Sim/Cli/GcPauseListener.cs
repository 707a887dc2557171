// Counts every garbage collection made while it listens, with its pause, by the generation it
// collected, from the runtime's own GC events (an in-process EventListener on the runtime's event
// source). Why not the runtime's GC.GetGCMemoryInfo: it keeps only the last collection of each
// kind, so polling it at progress reports missed the full collections made while the simulation
// built its nodes, before the first report (6 of 20 at 1M, 4 of 9 at 30k).
// Contract: a pause runs from the runtime's "suspend begins" to its "restart ends", the span
// GC.GetTotalPauseDuration adds up. Events reach the listener on a runtime thread, a little after
// the collection: Read waits (bounded) until it has seen as many collections as the runtime counts
// since the listener started, and says how many it saw. Never feeds the simulation.
using System.Diagnostics.Tracing;

namespace EdgeVpn.Sim.Cli;

internal sealed class GcPauseListener : EventListener
{
    private const string RuntimeSourceName = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int Generations = 3;

    // Field initialisers run before the base constructor, which already enables the events.
    private readonly State _state = new();
    private readonly int _collectionsAtStart = GC.CollectionCount(0);

    private sealed class State
    {
        public readonly long[] Collections = new long[Generations];
        public readonly TimeSpan[] Pauses = new TimeSpan[Generations];
        public DateTime SuspendedAt;
        public bool Suspended;
        public int Generation = -1;
    }

    /// <summary>What was seen: collections and pause time by generation collected (0: young only,
    /// 1: gen1, 2: full), and how many collections the runtime made meanwhile.</summary>
    public readonly record struct Totals(long[] Collections, TimeSpan[] Pauses, long RuntimeCollections)
    {
        public long Seen => Collections.Sum();
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSourceName) EnableEvents(source, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var state = _state;
        lock (state)
        {
            switch (e.EventName)
            {
                case string n when n.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal):
                    state.SuspendedAt = e.TimeStamp;
                    state.Suspended = true;
                    state.Generation = -1;
                    break;
                case string n when n.StartsWith("GCStart", StringComparison.Ordinal):
                    state.Generation = DepthOf(e);
                    break;
                case string n when n.StartsWith("GCRestartEEEnd", StringComparison.Ordinal):
                    // A suspension without a collection (e.g. for a debugger) has no generation.
                    if (state.Suspended && state.Generation is >= 0 and < Generations)
                    {
                        state.Collections[state.Generation]++;
                        state.Pauses[state.Generation] += e.TimeStamp - state.SuspendedAt;
                    }
                    state.Suspended = false;
                    state.Generation = -1;
                    break;
            }
        }
    }

    /// <summary>The totals, after waiting up to <paramref name="wait"/> for the events of the
    /// collections the runtime has already made to arrive.</summary>
    public Totals Read(TimeSpan wait)
    {
        var state = _state;
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            long runtime = GC.CollectionCount(0) - _collectionsAtStart;
            lock (state)
            {
                if (state.Collections.Sum() >= runtime || DateTime.UtcNow >= deadline)
                    return new Totals((long[])state.Collections.Clone(), (TimeSpan[])state.Pauses.Clone(), runtime);
            }
            Thread.Sleep(20); // the events come on the runtime's thread; nothing to wait on but time
        }
    }

    private static int DepthOf(EventWrittenEventArgs e)
    {
        int at = e.PayloadNames?.IndexOf("Depth") ?? -1;
        return at >= 0 && e.Payload?[at] is { } depth ? Convert.ToInt32(depth, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }
}
