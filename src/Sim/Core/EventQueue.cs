// The simulator's agenda: events ordered by (time, sequence). The sequence number makes equal
// times FIFO and the order total, so a run is a pure function of its seed (PriorityQueue alone
// is not stable among equal priorities). A hand-written 4-ary min-heap of 16-byte keys: a node's
// four children are 64 bytes, one cache line (the heap starts at index HeapBase so that every
// group of siblings is line-aligned). The events themselves sit still in a slab; a key carries
// its event's slab slot in the low bits of the sequence word, so sifting moves only keys (no
// 32-byte event copies, no write barriers for the payload reference). Freed slots are reused
// last-in first-out, so the slot a push takes is usually the one a pop has just read: in cache.
namespace EdgeVpn.Sim;

public enum EventKind : byte
{
    Wake,
    Join,
    PresencePublish,
    PresenceDeliver,
    Signal,
    EndpointPrepared,
    TransportUp,
    TransportDown,
    LinkFrame,
    KeepAlive,
    LocalFrame,
    Leave,
    /// <summary>A node stops abruptly: no goodbye, its ends of links go silent.</summary>
    Crash,
    /// <summary>A crashed node starts again with the same id and fresh state.</summary>
    Restart,
    /// <summary>The signaling server notices a crashed node's session is gone and drops it from the roster.</summary>
    RosterDrop,
    /// <summary>A scripted step of an experiment (faults, healing), run at its virtual time.</summary>
    Script,
    /// <summary>Lookup membership: a membership message arrives (over a link or via the signaling server).</summary>
    Membership,
    /// <summary>--links ice: a UDP datagram arrives at a node's host or a STUN/TURN server (Node -1).</summary>
    IceDatagram,
    /// <summary>--links ice: a link end's ICE agent wants its timer handled.</summary>
    IceWake,
    /// <summary>--links ice: an agent finished gathering, connected, failed or lost consent; the node hears of it.</summary>
    IceNotify,
    /// <summary>Lookup membership: the signaling server names a member to this node (after a failed
    /// join, or for a self-check that asked for an introducer).</summary>
    Bootstrap,
}

/// <summary>One scheduled happening. Node is the receiving node's index; Payload depends on Kind.</summary>
public readonly record struct SimEvent(EventKind Kind, int Node, int From, ulong Link, object? Payload);

public sealed class EventQueue
{
    // SeqSlot = sequence << SlotBits | slot. Sequences are unique, so comparing SeqSlot orders by
    // sequence exactly as comparing the sequences would. Both limits are far beyond any run this
    // machine can hold (2^28 pending events would need 8 GiB of slab; 2^35 events take days).
    private const int SlotBits = 28;
    private const long SlotMask = (1L << SlotBits) - 1;
    private const long SequenceMax = long.MaxValue >> SlotBits;
    private const int HeapBase = 3; // heap index h lives at h + 3: the children of h (4h+1 .. 4h+4) at 4h+4 .. 4h+7

    private struct Key { public long Time; public long SeqSlot; }

    private Key[] _keys = new Key[1024 + HeapBase];
    private SimEvent[] _slab = new SimEvent[1024];
    private int[] _free = new int[1024];
    private int _freeCount;
    private int _slabUsed;
    private int _count;
    private long _nextSeq;

    public int Count => _count;
    public long Scheduled => _nextSeq;

    public void Push(long timeNs, in SimEvent e)
    {
        long seq = _nextSeq;
        if (seq >= SequenceMax) throw new InvalidOperationException("event queue: sequence numbers exhausted");
        _nextSeq = seq + 1;
        int slot = TakeSlot();
        _slab[slot] = e;
        long seqSlot = seq << SlotBits | (long)slot;

        if (_count + HeapBase == _keys.Length) Array.Resize(ref _keys, (_keys.Length - HeapBase) * 2 + HeapBase);
        var keys = _keys;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 2;
            ref Key p = ref keys[parent + HeapBase];
            if (!Less(timeNs, seqSlot, p.Time, p.SeqSlot)) break;
            keys[i + HeapBase] = p;
            i = parent;
        }
        keys[i + HeapBase].Time = timeNs;
        keys[i + HeapBase].SeqSlot = seqSlot;
    }

    public long PeekTime => _count > 0 ? _keys[HeapBase].Time : long.MaxValue;

    public bool TryPop(out long timeNs, out SimEvent e)
    {
        if (_count == 0) { timeNs = 0; e = default; return false; }
        var keys = _keys;
        timeNs = keys[HeapBase].Time;
        int slot = (int)(keys[HeapBase].SeqSlot & SlotMask);
        e = _slab[slot];
        _slab[slot] = default; // drop the payload reference
        _free[_freeCount++] = slot;

        int last = --_count;
        Key moving = keys[last + HeapBase];
        int i = 0;
        while (true)
        {
            int first = (i << 2) + 1;
            if (first >= last) break;
            int best = first;
            int end = Math.Min(first + 4, last);
            for (int c = first + 1; c < end; c++)
                if (Less(keys[c + HeapBase].Time, keys[c + HeapBase].SeqSlot, keys[best + HeapBase].Time, keys[best + HeapBase].SeqSlot)) best = c;
            if (!Less(keys[best + HeapBase].Time, keys[best + HeapBase].SeqSlot, moving.Time, moving.SeqSlot)) break;
            keys[i + HeapBase] = keys[best + HeapBase];
            i = best;
        }
        if (last > 0) keys[i + HeapBase] = moving;
        return true;
    }

    private int TakeSlot()
    {
        if (_freeCount > 0) return _free[--_freeCount];
        if (_slabUsed == _slab.Length)
        {
            if (_slab.Length > SlotMask) throw new InvalidOperationException("event queue: too many pending events");
            Array.Resize(ref _slab, _slab.Length * 2);
            Array.Resize(ref _free, _slab.Length);
        }
        return _slabUsed++;
    }

    private static bool Less(long t1, long s1, long t2, long s2) => t1 < t2 || (t1 == t2 && s1 < s2);
}
