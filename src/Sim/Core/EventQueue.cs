// The simulator's agenda: events ordered by (time, sequence). The sequence number makes equal
// times FIFO and the order total, so a run is a pure function of its seed (PriorityQueue alone
// is not stable among equal priorities). A hand-written 4-ary min-heap: keys (time, sequence)
// sit together in one array, so comparing a node's four children touches one or two cache
// lines; events move in a parallel array; the hot loop has no comparer calls.
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
}

/// <summary>One scheduled happening. Node is the receiving node's index; Payload depends on Kind.</summary>
public readonly record struct SimEvent(EventKind Kind, int Node, int From, ulong Link, object? Payload);

public sealed class EventQueue
{
    private struct Key { public long Time; public long Seq; }

    private Key[] _keys = new Key[1024];
    private SimEvent[] _events = new SimEvent[1024];
    private int _count;
    private long _nextSeq;

    public int Count => _count;
    public long Scheduled => _nextSeq;

    public void Push(long timeNs, in SimEvent e)
    {
        if (_count == _keys.Length) Grow();
        long seq = _nextSeq++;
        int i = _count++;
        var keys = _keys;
        while (i > 0)
        {
            int parent = (i - 1) >> 2;
            if (!Less(timeNs, seq, keys[parent].Time, keys[parent].Seq)) break;
            keys[i] = keys[parent];
            _events[i] = _events[parent];
            i = parent;
        }
        keys[i].Time = timeNs;
        keys[i].Seq = seq;
        _events[i] = e;
    }

    public long PeekTime => _count > 0 ? _keys[0].Time : long.MaxValue;

    public bool TryPop(out long timeNs, out SimEvent e)
    {
        if (_count == 0) { timeNs = 0; e = default; return false; }
        var keys = _keys;
        timeNs = keys[0].Time;
        e = _events[0];
        int last = --_count;
        Key moving = keys[last];
        var movingEvent = _events[last];
        _events[last] = default;
        int i = 0;
        while (true)
        {
            int first = (i << 2) + 1;
            if (first >= last) break;
            int best = first;
            int end = Math.Min(first + 4, last);
            for (int c = first + 1; c < end; c++)
                if (Less(keys[c].Time, keys[c].Seq, keys[best].Time, keys[best].Seq)) best = c;
            if (!Less(keys[best].Time, keys[best].Seq, moving.Time, moving.Seq)) break;
            keys[i] = keys[best];
            _events[i] = _events[best];
            i = best;
        }
        if (last > 0)
        {
            keys[i] = moving;
            _events[i] = movingEvent;
        }
        return true;
    }

    private static bool Less(long t1, long s1, long t2, long s2) => t1 < t2 || (t1 == t2 && s1 < s2);

    private void Grow()
    {
        int size = _keys.Length * 2;
        Array.Resize(ref _keys, size);
        Array.Resize(ref _events, size);
    }
}
