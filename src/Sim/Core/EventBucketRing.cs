// The near-future part of EventQueue: a ring of time buckets, each an unsorted bag of agenda keys
// that is handed over whole (and sorted by EventQueue) when its time span comes up. Why: a push
// is an append and a pop reads a small sorted run, where one heap over millions of pending events
// pays a sift through cache-missing levels for every pop. Hand-written (no package serves it).
//
// Contract: the ring knows slots, not times (EventQueue maps a time to a slot and keeps every key
// of a slot within one bucket's span). Append keeps a slot's keys in arrival order. NextNonEmpty
// finds the first slot holding keys at or after a slot, circularly, through a bitmap of non-empty
// slots (one bit per slot), so sparse rings are crossed 64 slots per step. Drain moves a slot's
// keys out and empties it. Keys live in fixed-size chunks of one shared pool, linked per slot and
// recycled last-in first-out through a free list: no allocation per key once the pool has reached
// the peak pending count, and a slot holds chunks only while it has keys, so memory follows the
// pending count (plus at most one partly filled chunk per non-empty slot), not the slot count.
using System.Numerics;

namespace EdgeVpn.Sim;

internal sealed class EventBucketRing
{
    private const int ChunkBits = 5; // 32 keys, 512 bytes: small, as the far slots hold few keys each
    private const int ChunkLength = 1 << ChunkBits;

    private struct Bucket
    {
        public int Count;
        public int HeadChunk;
        public int TailChunk;
        public int TailFill; // keys in TailChunk
    }

    private readonly Bucket[] _buckets;
    private readonly ulong[] _nonEmpty;
    private readonly int _wordMask;
    private EventKey[] _pool = new EventKey[64 * ChunkLength];
    private int[] _nextChunk = new int[64];
    private int[] _freeChunks = new int[64];
    private int _freeCount;
    private int _chunksAllocated;
    private int _count;

    /// <param name="slotBits">log2 of the slot count; at least 6 (one bitmap word).</param>
    public EventBucketRing(int slotBits)
    {
        if (slotBits < 6 || slotBits > 24) throw new ArgumentOutOfRangeException(nameof(slotBits), $"bucket ring: slot bits must be in 6..24, got {slotBits}");
        _buckets = new Bucket[1 << slotBits];
        _nonEmpty = new ulong[(1 << slotBits) >> 6];
        _wordMask = _nonEmpty.Length - 1;
    }

    /// <summary>Keys held in all slots.</summary>
    public int Count => _count;

    public void Append(int slot, in EventKey key)
    {
        ref Bucket b = ref _buckets[slot];
        if (b.Count == 0)
        {
            int chunk = TakeChunk();
            b.HeadChunk = b.TailChunk = chunk;
            b.TailFill = 0;
            _nonEmpty[slot >> 6] |= 1UL << slot; // the shift count is taken mod 64
        }
        else if (b.TailFill == ChunkLength)
        {
            int chunk = TakeChunk();
            _nextChunk[b.TailChunk] = chunk;
            b.TailChunk = chunk;
            b.TailFill = 0;
        }
        _pool[(b.TailChunk << ChunkBits) + b.TailFill++] = key;
        b.Count++;
        _count++;
    }

    /// <summary>The first non-empty slot at or after from, circularly; only when Count &gt; 0.</summary>
    public int NextNonEmpty(int from)
    {
        int word = from >> 6;
        ulong bits = _nonEmpty[word] & (~0UL << from);
        // Back at the first word after a full turn, its low bits (slots before from) count too.
        while (bits == 0)
        {
            word = (word + 1) & _wordMask;
            bits = _nonEmpty[word];
        }
        return (word << 6) | BitOperations.TrailingZeroCount(bits);
    }

    /// <summary>Moves the slot's keys, in arrival order, to the start of into (grown if needed), empties the slot and returns how many.</summary>
    public int Drain(int slot, ref EventKey[] into)
    {
        ref Bucket b = ref _buckets[slot];
        int n = b.Count;
        if (into.Length < n) into = new EventKey[Math.Max(n, into.Length * 2)];
        int chunk = b.HeadChunk;
        int copied = 0;
        while (true)
        {
            int take = Math.Min(ChunkLength, n - copied);
            _pool.AsSpan(chunk << ChunkBits, take).CopyTo(into.AsSpan(copied));
            copied += take;
            _freeChunks[_freeCount++] = chunk;
            if (copied == n) break;
            chunk = _nextChunk[chunk];
        }
        b = default;
        _nonEmpty[slot >> 6] &= ~(1UL << slot);
        _count -= n;
        return n;
    }

    private int TakeChunk()
    {
        // Last-in first-out: the chunk a push takes is usually one a drain has just read, in cache.
        if (_freeCount > 0) return _freeChunks[--_freeCount];
        if (_chunksAllocated == _nextChunk.Length)
        {
            if (_nextChunk.Length >= Array.MaxLength >> (ChunkBits + 1)) throw new InvalidOperationException("bucket ring: too many pending events");
            Array.Resize(ref _pool, _pool.Length * 2);
            Array.Resize(ref _nextChunk, _nextChunk.Length * 2);
            Array.Resize(ref _freeChunks, _nextChunk.Length);
        }
        return _chunksAllocated++;
    }
}
