// The simulator's agenda: events ordered by (time, sequence). The sequence number makes equal
// times FIFO and the order total, so a run is a pure function of its seed (PriorityQueue alone
// is not stable among equal priorities). Hand-written (no package serves it): a two-level
// calendar queue. Why: the agenda holds millions of pending events (timers, wakes, messages) and
// one heap over all of them pays a sift through cache-missing levels for every pop.
//
// Time is cut into buckets of 2^BucketWidthBits ns. The bucket ring (EventBucketRing) holds the
// events of the next RingLength buckets, unsorted; an event beyond that horizon waits in the far
// heap and moves into the ring as the horizon passes it. When the events before the ring are all
// popped, the ring's first non-empty bucket becomes the current run: it is sorted by (time,
// sequence) and popped in order. A push before the ring's start (into the current run's span, at
// the current time, or even earlier) goes to the early heap, and a pop takes the lesser of the
// run's head and the early heap's least. So at every moment: run and early heap < ring start <=
// ring < horizon <= far heap, and the least pending key is the least of the run's head and the
// early heap's top, which gives exactly the order of one heap on (time, sequence), whatever the
// interleaving of pushes and pops, for any times (negative and long.MaxValue included).
//
// The events themselves sit still in a slab; a key carries its event's slab slot in the low bits
// of the sequence word, so sorting and sifting move only 16-byte keys (no 32-byte event copies,
// no write barriers for the payload reference). Freed slots are reused last-in first-out, so the
// slot a push takes is usually the one a pop has just read: in cache. Memory follows the peak
// pending count: nothing is allocated per event once the arrays have grown to it.
using System.Runtime.InteropServices;

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
    /// <summary>--signaling xmpp: bytes (or the connection's opening, TLS or loss) reach the XMPP server on a node's stream.</summary>
    XmppToServer,
    /// <summary>--signaling xmpp: the server's bytes (or the connection's acceptance, TLS or failure) reach a node.</summary>
    XmppToClient,
    /// <summary>--signaling xmpp: a node's XMPP session wants its timer handled.</summary>
    XmppWake,
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

    // Buckets of 2^20 ns (about 1 ms): a few hundred events each at 30k-100k nodes, a sort that
    // stays in cache. 2^16 of them reach about 69 s ahead, past the keep-alive, setup and
    // protection timers, so few events take the far heap; the ring's headers take 1 MiB.
    internal const int BucketWidthBits = 20;
    internal const int RingBits = 16;
    private const long RingLength = 1L << RingBits;
    private const long RingMask = RingLength - 1;

    private SimEvent[] _slab = new SimEvent[1024];
    private int[] _free = new int[1024];
    private int _freeCount;
    private int _slabUsed;
    private int _count;
    private long _nextSeq;

    private EventKey[] _run = new EventKey[256]; // the current bucket, sorted; [_runHead, _runCount) pending
    private int _runHead;
    private int _runCount;
    private readonly EventKeyHeap _early = new(64);
    private readonly EventBucketRing _ring = new(RingBits);
    private readonly EventKeyHeap _far = new(64);
    private long _ringStartBucket; // absolute bucket number (time >> BucketWidthBits) of the ring's first slot

    public int Count => _count;
    public long Scheduled => _nextSeq;

    public void Push(long timeNs, in SimEvent e)
    {
        long seq = _nextSeq;
        if (seq >= SequenceMax) throw new InvalidOperationException("event queue: sequence numbers exhausted");
        _nextSeq = seq + 1;
        int slot = TakeSlot();
        _slab[slot] = e;
        _count++;
        var key = new EventKey { Time = timeNs, SeqSlot = seq << SlotBits | (long)slot };
        long bucket = timeNs >> BucketWidthBits; // arithmetic shift: floor, so negative times land before the ring
        if (bucket < _ringStartBucket) _early.Push(key);
        else if (bucket - _ringStartBucket < RingLength) _ring.Append((int)(bucket & RingMask), key);
        else _far.Push(key);
    }

    public long PeekTime
    {
        get
        {
            if (_count == 0) return long.MaxValue;
            if (_runHead == _runCount)
            {
                if (_early.Count > 0) return _early.Min.Time;
                Advance();
            }
            long t = _run[_runHead].Time;
            return _early.Count > 0 && _early.Min.Time < t ? _early.Min.Time : t;
        }
    }

    public bool TryPop(out long timeNs, out SimEvent e)
    {
        if (_count == 0) { timeNs = 0; e = default; return false; }
        EventKey key;
        if (_runHead < _runCount)
        {
            key = _run[_runHead];
            if (_early.Count > 0 && EventKey.Less(_early.Min, key)) key = _early.Pop();
            else _runHead++;
        }
        else if (_early.Count > 0) key = _early.Pop();
        else
        {
            Advance();
            key = _run[_runHead++];
        }
        _count--;
        timeNs = key.Time;
        int slot = (int)(key.SeqSlot & SlotMask);
        e = _slab[slot];
        _slab[slot] = default; // drop the payload reference
        _free[_freeCount++] = slot;
        return true;
    }

    /// <summary>A guess at the event <paramref name="ahead"/> pops from now, for cache hints only:
    /// it reads the current run and ignores the early heap and later buckets, so it may be wrong
    /// or missing. The loop never acts on it.</summary>
    internal bool TryPeekRun(int ahead, out SimEvent e)
    {
        int i = _runHead + ahead;
        if ((uint)i >= (uint)_runCount) { e = default; return false; }
        e = _slab[(int)(_run[i].SeqSlot & SlotMask)];
        return true;
    }

    /// <summary>Starts loading the slab slot of the event <paramref name="ahead"/> pops from now (see TryPeekRun).</summary>
    internal void HintRun(int ahead)
    {
        int i = _runHead + ahead;
        if ((uint)i < (uint)_runCount) CacheHint.Element(ref _slab[(int)(_run[i].SeqSlot & SlotMask)]);
    }

    /// <summary>Makes the ring's first non-empty bucket the current run. Only when the run and the
    /// early heap are empty and something is pending, so it lies in the ring or the far heap.</summary>
    private void Advance()
    {
        if (_ring.Count == 0)
        {
            // Everything pending is beyond the horizon: move the ring to the far heap's least bucket.
            _ringStartBucket = _far.Min.Time >> BucketWidthBits;
            Migrate();
        }
        int start = (int)(_ringStartBucket & RingMask);
        int slot = _ring.NextNonEmpty(start);
        long bucket = _ringStartBucket + ((slot - start) & RingMask);
        _runCount = _ring.Drain(slot, ref _run);
        _runHead = 0;
        SortRun(_run.AsSpan(0, _runCount));
        _ringStartBucket = bucket + 1; // the drained slot now stands for bucket + RingLength
        Migrate();
    }

    /// <summary>Moves the far heap's events that the advanced horizon now covers into the ring.</summary>
    private void Migrate()
    {
        while (_far.Count > 0 && (_far.Min.Time >> BucketWidthBits) - _ringStartBucket < RingLength)
        {
            var key = _far.Pop();
            _ring.Append((int)((key.Time >> BucketWidthBits) & RingMask), key);
        }
    }

    /// <summary>Sorts a drained bucket into (time, sequence) order. A ring bucket's times are never
    /// negative (the ring starts at bucket 0 and only advances; earlier times go to the early heap), so
    /// each key read as the UInt128 Time &lt;&lt; 64 | SeqSlot orders as EventKey.Less does: the sort
    /// compares numbers inline, where a comparer struct went through a delegate per comparison (3-4%
    /// of a 100k run).</summary>
    internal static void SortRun(Span<EventKey> run)
    {
        if (!BitConverter.IsLittleEndian) { run.Sort(static (a, b) => EventKey.Less(a, b) ? -1 : EventKey.Less(b, a) ? 1 : 0); return; }
        MemoryMarshal.Cast<EventKey, UInt128>(run).Sort();
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
}
