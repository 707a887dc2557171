// The runtime's process-wide GC totals at one moment; the difference of two readings is what a run
// cost, so runs that share a process (the tests) each report their own figures.
namespace EdgeVpn.Sim.Cli;

internal readonly record struct GcCounters(TimeSpan Pause, long AllocatedBytes, int Gen0, int Gen1, int Gen2)
{
    public static GcCounters Now() => new(GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(),
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    public static GcCounters operator -(GcCounters a, GcCounters b) => new(a.Pause - b.Pause,
        a.AllocatedBytes - b.AllocatedBytes, a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2);
}
