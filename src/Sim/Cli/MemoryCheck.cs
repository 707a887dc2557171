// Refuses, before it starts, a run whose estimated peak (MemoryEstimate) exceeds the memory this
// machine has available now: with no swap the kernel would kill it at its peak, after most of the
// work, with nothing written. --no-memory-check skips it (for a machine whose figures we got wrong).
using System.Globalization;

namespace EdgeVpn.Sim.Cli;

public static class MemoryCheck
{
    /// <summary>Null when the run fits, else why not, with what to do instead.</summary>
    public static string? Verdict(SimParameters p, long availableBytes)
    {
        long need = MemoryEstimate.PeakBytes(p);
        if (need <= availableBytes) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"this run needs about {Gb(need)} of memory at its peak (estimated from measured runs: MemoryEstimate) and this machine has {Gb(availableBytes)} available; " +
            $"with no room the kernel would kill it near its end. Use fewer nodes, or --no-memory-check to try anyway");
    }

    /// <summary>Memory available to a new allocation now: the kernel's MemAvailable (free memory plus
    /// what it can reclaim), or the runtime's view (physical memory or the container's limit).</summary>
    public static long AvailableBytes()
    {
        long runtime = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    return Math.Min(kb * 1024, runtime);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return runtime;
    }

    private static string Gb(long bytes) => bytes >= 10L << 30
        ? $"{bytes / (double)(1L << 30):0} GiB"
        : $"{bytes / (double)(1L << 30):0.0} GiB";
}
