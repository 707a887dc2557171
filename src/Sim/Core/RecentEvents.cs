// The last few events of every node, kept so that a failed check can show what the nodes it names
// went through (VOPR's "last events of the nodes involved"). A fixed ring per node: memory is
// nodes x capacity entries, allocated once; off unless SimParameters.RecentEventsPerNode > 0.
using System.Globalization;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Node;

namespace EdgeVpn.Sim;

public sealed class RecentEvents
{
    private readonly struct Entry(long timeNs, EventKind kind, int from, ulong link, NodeEvent? observed)
    {
        public readonly long TimeNs = timeNs;
        public readonly EventKind Kind = kind;
        public readonly int From = from;
        public readonly ulong Link = link;
        public readonly NodeEvent? Observed = observed; // set for what the node reported, else the event it processed
    }

    private readonly Entry[] _entries;
    private readonly int[] _next;
    private readonly int[] _count;
    private readonly int _capacity;

    public RecentEvents(int nodes, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "must be at least 1");
        _capacity = capacity;
        _entries = new Entry[checked(nodes * capacity)];
        _next = new int[nodes];
        _count = new int[nodes];
    }

    internal void Processed(int node, long timeNs, EventKind kind, int from, ulong link) =>
        Add(node, new Entry(timeNs, kind, from, link, null));

    internal void Reported(int node, long timeNs, NodeEvent e) =>
        Add(node, new Entry(timeNs, EventKind.Script, -1, 0, e));

    private void Add(int node, Entry e)
    {
        if ((uint)node >= (uint)_next.Length) return;
        _entries[node * _capacity + _next[node]] = e;
        _next[node] = (_next[node] + 1) % _capacity;
        if (_count[node] < _capacity) _count[node]++;
    }

    /// <summary>The latest event of type T the node reported among its recent events (null if none).</summary>
    public T? LastReported<T>(int node) where T : NodeEvent
    {
        if ((uint)node >= (uint)_next.Length) return null;
        for (int k = 1; k <= _count[node]; k++)
            if (_entries[node * _capacity + (_next[node] - k + _capacity) % _capacity].Observed is T e) return e;
        return null;
    }

    /// <summary>The node's recent events, oldest first, one line each.</summary>
    public IEnumerable<string> Describe(int node)
    {
        if ((uint)node >= (uint)_next.Length) yield break;
        int count = _count[node];
        int start = (_next[node] - count + _capacity) % _capacity;
        for (int k = 0; k < count; k++)
        {
            var e = _entries[node * _capacity + (start + k) % _capacity];
            string at = new Instant(e.TimeNs).ToString();
            yield return e.Observed is { } o
                ? string.Create(CultureInfo.InvariantCulture, $"{at} reported {o}")
                : string.Create(CultureInfo.InvariantCulture, $"{at} {e.Kind}{(e.From >= 0 ? $" from #{e.From}" : "")}{(e.Link != 0 ? $" link {e.Link:x16}" : "")}");
        }
    }
}
