// A min-heap of agenda keys (time, then sequence-and-slot), the building block of EventQueue:
// it holds the events pushed into the time span that is already being popped, and the events
// beyond the bucket ring's horizon. Hand-written (no package serves it): a 4-ary heap of 16-byte
// keys whose four children are 64 bytes, one cache line (the heap starts at index Base so that
// every group of siblings is line-aligned). Keys only: the events sit still in EventQueue's slab.
// Grows by doubling and never shrinks, so its memory is bounded by its peak count.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeVpn.Sim;

/// <summary>An agenda key: the event's time, and its sequence number shifted left over its slab slot.</summary>
// SeqSlot first: on a little-endian machine the key's 16 bytes are then the UInt128
// Time << 64 | SeqSlot, which orders keys of non-negative times exactly as Less does, so a bucket
// sorts as plain numbers (EventQueue.SortRun) instead of through a comparer delegate.
[StructLayout(LayoutKind.Sequential)]
internal struct EventKey
{
    public long SeqSlot;
    public long Time;

    /// <summary>(time, sequence) order; sequences are unique, so no two keys are equal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Less(in EventKey a, in EventKey b) => a.Time < b.Time || (a.Time == b.Time && a.SeqSlot < b.SeqSlot);
}

internal sealed class EventKeyHeap
{
    private const int Base = 3; // heap index h lives at h + 3: the children of h (4h+1 .. 4h+4) at 4h+4 .. 4h+7

    private EventKey[] _keys;
    private int _count;

    public EventKeyHeap(int capacity) => _keys = new EventKey[capacity + Base];

    public int Count => _count;

    /// <summary>The least key; only when Count &gt; 0.</summary>
    public ref readonly EventKey Min => ref _keys[Base];

    public void Push(in EventKey key)
    {
        if (_count + Base == _keys.Length) Array.Resize(ref _keys, (_keys.Length - Base) * 2 + Base);
        var keys = _keys;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 2;
            ref EventKey p = ref keys[parent + Base];
            if (!EventKey.Less(key, p)) break;
            keys[i + Base] = p;
            i = parent;
        }
        keys[i + Base] = key;
    }

    /// <summary>Removes and returns the least key; only when Count &gt; 0.</summary>
    public EventKey Pop()
    {
        var keys = _keys;
        EventKey top = keys[Base];
        int last = --_count;
        EventKey moving = keys[last + Base];
        int i = 0;
        while (true)
        {
            int first = (i << 2) + 1;
            if (first >= last) break;
            int best = first;
            int end = Math.Min(first + 4, last);
            for (int c = first + 1; c < end; c++)
                if (EventKey.Less(keys[c + Base], keys[best + Base])) best = c;
            if (!EventKey.Less(keys[best + Base], moving)) break;
            keys[i + Base] = keys[best + Base];
            i = best;
        }
        if (last > 0) keys[i + Base] = moving;
        return top;
    }
}
