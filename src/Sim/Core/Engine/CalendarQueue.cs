// An agenda for events whose times are integer ticks and whose delays are bounded: a calendar
// (bucket) queue. Why: when every event is scheduled at most DelayMaxTicks after the current
// time, the pending times all lie in the window [Now, Now + DelayMaxTicks], so one bucket per
// tick of a ring of at least DelayMaxTicks + 1 buckets holds each pending time alone. A push
// appends to its bucket and a pop takes from the head of the current bucket: O(1) each, with no
// comparisons, where a heap pays O(log n) cache-missing sifts (src/Sim/Core/EventQueue.cs).
//
// Contract (the same order as EventQueue, a priority queue on (time, sequence)):
// - Events pop in time order, first-in first-out among equal times, whatever the interleaving of
//   pushes and pops (a bucket is a FIFO, and a push at time Now lands behind the events of Now
//   that are still pending, exactly where its larger sequence number would put it).
// - Now is the time of the last popped event (StartTicks before the first pop). Push refuses,
//   with an ArgumentOutOfRangeException naming both times, a time before Now or after
//   Now + DelayMaxTicks: the first would break the order, the second would alias a bucket.
// - Events are unmanaged structs stored by value in fixed-size chunks that are recycled through
//   a free list: no allocation per event once the queue has reached its peak size. A bucket
//   holds chunks only while it has events, so memory follows the pending count, not the
//   bucket count. Chunks are allocated on the pinned object heap: they hold no references and
//   live long, so a gen0 collection neither scans nor copies them.
using System.Runtime.CompilerServices;

namespace EdgeVpn.Sim.Engine;

public sealed class CalendarQueue<T> where T : unmanaged
{
    /// <summary>Largest accepted delay bound: the bucket ring (16 bytes per bucket) stays under 256 MiB.</summary>
    public const int DelayMaxTicksLimit = (1 << 24) - 1;
    public const int ChunkLengthDefault = 4096;

    private struct Bucket
    {
        public int Count;
        public int HeadChunk;  // chunk holding the oldest event, -1 when empty
        public int HeadIndex;  // position of the oldest event in HeadChunk
        public int TailChunk;  // chunk receiving the next push
        public int TailIndex;  // next free position in TailChunk
    }

    private readonly Bucket[] _buckets;
    private readonly long _mask;
    private readonly int _chunkLength;
    private T[][] _chunks = new T[16][];
    private int[] _nextChunk = new int[16]; // a bucket's chunks form a linked list through this table
    private int[] _freeChunks = new int[16];
    private int _freeCount;
    private int _chunksAllocated;
    private long _now;
    private long _count;
    private long _scheduled;

    public CalendarQueue(int delayMaxTicks, long startTicks = 0, int chunkLength = ChunkLengthDefault)
    {
        if (delayMaxTicks < 0 || delayMaxTicks > DelayMaxTicksLimit)
            throw new ArgumentOutOfRangeException(nameof(delayMaxTicks), $"calendar queue: DelayMaxTicks must be in 0..{DelayMaxTicksLimit}, got {delayMaxTicks}");
        if (chunkLength < 1) throw new ArgumentOutOfRangeException(nameof(chunkLength), "calendar queue: chunk length must be positive");
        if (startTicks < 0) throw new ArgumentOutOfRangeException(nameof(startTicks), "calendar queue: the start time must not be negative");
        DelayMaxTicks = delayMaxTicks;
        int bucketCount = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)delayMaxTicks + 1);
        _buckets = new Bucket[bucketCount];
        for (int i = 0; i < bucketCount; i++) _buckets[i].HeadChunk = _buckets[i].TailChunk = -1;
        _mask = bucketCount - 1;
        _chunkLength = chunkLength;
        _now = startTicks;
    }

    public int DelayMaxTicks { get; }
    /// <summary>The time of the last popped event: no push may come before it.</summary>
    public long Now => _now;
    public long Count => _count;
    /// <summary>Events pushed since construction.</summary>
    public long Scheduled => _scheduled;
    /// <summary>Chunks allocated so far (a measure of the peak pending count, for memory reports).</summary>
    public int ChunksAllocated => _chunksAllocated;

    /// <summary>The time of the next event to pop, long.MaxValue when empty. O(DelayMaxTicks) at worst.</summary>
    public long PeekTime
    {
        get
        {
            if (_count == 0) return long.MaxValue;
            long t = _now;
            while (_buckets[t & _mask].Count == 0) t++;
            return t;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long timeTicks, in T e)
    {
        // One unsigned comparison checks both ends of the window.
        if ((ulong)(timeTicks - _now) > (ulong)DelayMaxTicks) ThrowOutOfWindow(timeTicks);
        ref Bucket b = ref _buckets[timeTicks & _mask];
        if (b.TailIndex == _chunkLength || b.TailChunk < 0) AppendChunk(ref b);
        _chunks[b.TailChunk][b.TailIndex++] = e;
        b.Count++;
        _count++;
        _scheduled++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(out long timeTicks, out T e)
    {
        if (_count == 0) { timeTicks = _now; e = default; return false; }
        long t = _now;
        ref Bucket b = ref _buckets[t & _mask];
        while (b.Count == 0)
        {
            t++;
            b = ref _buckets[t & _mask];
        }
        _now = t;
        timeTicks = t;
        e = _chunks[b.HeadChunk][b.HeadIndex++];
        _count--;
        if (--b.Count == 0) ReleaseAll(ref b);
        else if (b.HeadIndex == _chunkLength) ReleaseHead(ref b);
        return true;
    }

    private void AppendChunk(ref Bucket b)
    {
        int chunk = TakeChunk();
        _nextChunk[chunk] = -1;
        if (b.TailChunk < 0) { b.HeadChunk = chunk; b.HeadIndex = 0; }
        else _nextChunk[b.TailChunk] = chunk;
        b.TailChunk = chunk;
        b.TailIndex = 0;
    }

    private void ReleaseHead(ref Bucket b)
    {
        int old = b.HeadChunk;
        b.HeadChunk = _nextChunk[old];
        b.HeadIndex = 0;
        _freeChunks[_freeCount++] = old;
    }

    private void ReleaseAll(ref Bucket b)
    {
        // The bucket is empty, so its head chunk is its tail chunk: the only one it holds.
        _freeChunks[_freeCount++] = b.HeadChunk;
        b.HeadChunk = b.TailChunk = -1;
        b.HeadIndex = b.TailIndex = 0;
    }

    private int TakeChunk()
    {
        // Last-in first-out: the chunk a push takes is usually the one a pop has just emptied.
        if (_freeCount > 0) return _freeChunks[--_freeCount];
        if (_chunksAllocated == _chunks.Length)
        {
            if (_chunks.Length >= Array.MaxLength / 2) throw new InvalidOperationException("calendar queue: too many pending events");
            Array.Resize(ref _chunks, _chunks.Length * 2);
            Array.Resize(ref _nextChunk, _chunks.Length);
            Array.Resize(ref _freeChunks, _chunks.Length);
        }
        _chunks[_chunksAllocated] = GC.AllocateUninitializedArray<T>(_chunkLength, pinned: true);
        return _chunksAllocated++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowOutOfWindow(long timeTicks) =>
        throw new ArgumentOutOfRangeException(nameof(timeTicks), timeTicks < _now
            ? $"calendar queue: event scheduled in the past (time {timeTicks} < now {_now})"
            : $"calendar queue: event scheduled beyond the delay bound (time {timeTicks} > now {_now} + DelayMaxTicks {DelayMaxTicks})");
}
