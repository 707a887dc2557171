// The simulator's agenda: events ordered by (time, sequence). The sequence number makes equal
// times FIFO and the order total, so a run is a pure function of its seed (PriorityQueue alone
// is not stable among equal priorities). A hand-written 4-ary min-heap on parallel arrays: it
// moves 16-byte keys instead of whole events and keeps the hot loop free of comparer calls.
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
    private long[] _times = new long[1024];
    private long[] _seqs = new long[1024];
    private SimEvent[] _events = new SimEvent[1024];
    private int _count;
    private long _nextSeq;

    public int Count => _count;
    public long Scheduled => _nextSeq;

    public void Push(long timeNs, in SimEvent e)
    {
        if (_count == _times.Length) Grow();
        long seq = _nextSeq++;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 2;
            if (!Less(timeNs, seq, _times[parent], _seqs[parent])) break;
            _times[i] = _times[parent];
            _seqs[i] = _seqs[parent];
            _events[i] = _events[parent];
            i = parent;
        }
        _times[i] = timeNs;
        _seqs[i] = seq;
        _events[i] = e;
    }

    public long PeekTime => _count > 0 ? _times[0] : long.MaxValue;

    public bool TryPop(out long timeNs, out SimEvent e)
    {
        if (_count == 0) { timeNs = 0; e = default; return false; }
        timeNs = _times[0];
        e = _events[0];
        int last = --_count;
        long t = _times[last], s = _seqs[last];
        var moving = _events[last];
        _events[last] = default;
        int i = 0;
        while (true)
        {
            int first = (i << 2) + 1;
            if (first >= last) break;
            int best = first;
            int end = Math.Min(first + 4, last);
            for (int c = first + 1; c < end; c++)
                if (Less(_times[c], _seqs[c], _times[best], _seqs[best])) best = c;
            if (!Less(_times[best], _seqs[best], t, s)) break;
            _times[i] = _times[best];
            _seqs[i] = _seqs[best];
            _events[i] = _events[best];
            i = best;
        }
        if (last > 0)
        {
            _times[i] = t;
            _seqs[i] = s;
            _events[i] = moving;
        }
        return true;
    }

    private static bool Less(long t1, long s1, long t2, long s2) => t1 < t2 || (t1 == t2 && s1 < s2);

    private void Grow()
    {
        int size = _times.Length * 2;
        Array.Resize(ref _times, size);
        Array.Resize(ref _seqs, size);
        Array.Resize(ref _events, size);
    }
}
