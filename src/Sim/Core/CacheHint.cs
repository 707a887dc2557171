// Cache hints for the event loop: ask the CPU to start loading memory an event a few steps ahead
// will touch, so that the load overlaps this event's work instead of stalling that one. A hint
// never changes what the simulation computes: a wrong or stale address (the GC moved the object,
// the guess of the next event was wrong) costs one wasted load and cannot fault (x86 PREFETCH
// ignores bad addresses; without SSE the hints do nothing). Why at all: a large run touches a
// random node per event, and that node's objects lie far apart in a heap of gigabytes, so an
// event spends more time waiting on memory than computing. Measured at 30k nodes: 27.6-32.8 s
// without hints, 18.7-21.1 s with them (the curve: experiments/results/scaling-lookup.md).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeVpn.Sim;

internal static class CacheHint
{
    /// <summary>At most this many lines per object: a longer table is read in order, which the
    /// CPU's own prefetcher follows once the first lines arrive.</summary>
    public const int LinesMax = 8;

    /// <summary>Starts loading the first bytes of an object (header and fields, or an array's
    /// length and first elements), at most LinesMax cache lines. Null: nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Object(object? o, int bytes)
    {
        if (o is null || !Sse.IsSupported) return;
        byte* p = (byte*)Unsafe.As<object, nint>(ref o);
        int lines = Math.Min(LinesMax, (bytes + 63) >> 6);
        for (int k = 0; k < lines; k++) Sse.Prefetch0(p + 64 * k);
    }

    /// <summary>Starts loading an array element (a struct in a large array).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Element<T>(ref T element)
    {
        if (!Sse.IsSupported) return;
        Sse.Prefetch0(Unsafe.AsPointer(ref element));
    }

    /// <summary>The warmer protocol machines name their hot state to (ICacheWarmer).</summary>
    public struct Warmer : EdgeVpn.Protocol.Core.ICacheWarmer
    {
        public readonly void Warm(object? o, int bytes) => Object(o, bytes);
    }
}
