// A node's connected neighbours (peer id + link), kept sorted by clockwise distance from the node
// itself, which is the order the bounded flood walks them. The node composes it and updates it as
// links come and go; the flood reads it by reference.
// Contract: no peer appears twice and the node itself never appears; Add on a known peer replaces
// its link. Compact by design (a million nodes each own one): two parallel arrays (distance from
// self as UInt128, link id), no dictionary; lookups and arc queries are binary searches, Add and
// Remove shift the arrays (neighbour counts are small: O(log n)).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flood;

public readonly record struct Neighbour(NodeId Id, LinkId Link);

public sealed class NeighbourTable : INeighbourView
{
    private UInt128[] _distances;
    private LinkId[] _links;
    private int _count;
    // The Version last validated by CheckInvariants (-1: never). Every change bumps Version, so an
    // equal Version means the arrays are exactly the ones already checked; the simulator checks
    // after every event and most events leave the table alone.
    private long _checkedVersion = -1;
    // Where the last change happened (insert, removal or link replaced), -1 if unknown. When the
    // Version moved by exactly one since the last check, only the entries around that index can
    // have broken the order: the rest were valid and only shifted, which keeps their order.
    private int _changedAt = -1;

    public NodeId Self { get; }
    public int Count => _count;
    /// <summary>Grows by one on every change, so a holder can tell its cached view is stale.</summary>
    public long Version { get; private set; }

    public NeighbourTable(NodeId self, int initialCapacity = 0)
    {
        Self = self;
        _distances = initialCapacity > 0 ? new UInt128[initialCapacity] : Array.Empty<UInt128>();
        _links = initialCapacity > 0 ? new LinkId[initialCapacity] : Array.Empty<LinkId>();
    }

    /// <summary>The i-th neighbour clockwise after Self (i = 0 is the nearest).</summary>
    public Neighbour this[int index] => new(IdAt(index), LinkAt(index));

    public NodeId IdAt(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        return Self.Add(_distances[index]);
    }

    public LinkId LinkAt(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        return _links[index];
    }

    /// <summary>Adds peer over link, or replaces the link of a known peer (then returns false).</summary>
    public bool Add(NodeId peer, LinkId link)
    {
        if (peer == Self) throw new ArgumentException("a node is not its own neighbour", nameof(peer));
        UInt128 d = NodeId.ClockwiseDistance(Self, peer);
        int i = Search(d);
        Version++;
        if (i >= 0) { _links[i] = link; _changedAt = i; return false; }
        i = ~i;
        _changedAt = i;
        if (_count == _distances.Length)
        {
            int capacity = Growth.Next(_count);
            Array.Resize(ref _distances, capacity);
            Array.Resize(ref _links, capacity);
        }
        Array.Copy(_distances, i, _distances, i + 1, _count - i);
        Array.Copy(_links, i, _links, i + 1, _count - i);
        _distances[i] = d;
        _links[i] = link;
        _count++;
        return true;
    }

    public bool Remove(NodeId peer)
    {
        int i = Search(NodeId.ClockwiseDistance(Self, peer));
        if (i < 0 || peer == Self) return false;
        RemoveAt(i);
        return true;
    }

    /// <summary>Removes the neighbour reached over link (linear scan); false when none is.</summary>
    public bool RemoveLink(LinkId link)
    {
        for (int i = 0; i < _count; i++)
            if (_links[i] == link) { RemoveAt(i); return true; }
        return false;
    }

    public bool TryGetLink(NodeId peer, out LinkId link)
    {
        int i = peer == Self ? -1 : Search(NodeId.ClockwiseDistance(Self, peer));
        if (i < 0) { link = default; return false; }
        link = _links[i];
        return true;
    }

    public bool Contains(NodeId peer) => TryGetLink(peer, out _);

    /// <summary>
    /// How many neighbours lie strictly inside the clockwise arc (Self, bound): they are the
    /// first ones of the table. bound == Self is the degenerate arc and holds none.
    /// </summary>
    public int CountInArc(NodeId bound)
    {
        UInt128 limit = NodeId.ClockwiseDistance(Self, bound);
        if (limit == UInt128.Zero) return 0;
        int i = Search(limit);
        return i >= 0 ? i : ~i;
    }

    public Enumerator GetEnumerator() => new(this);

    public struct Enumerator
    {
        private readonly NeighbourTable _table;
        private int _index;
        internal Enumerator(NeighbourTable table) { _table = table; _index = -1; }
        public bool MoveNext() => ++_index < _table._count;
        public readonly Neighbour Current => _table[_index];
    }

    public void CheckInvariants()
    {
        if (_checkedVersion == Version) return;
        if (_count > _distances.Length || _distances.Length != _links.Length) throw new InvariantViolation("neighbour table arrays inconsistent");
        int from = 0, to = _count;
        if (_checkedVersion >= 0 && Version == _checkedVersion + 1 && _changedAt >= 0)
        {
            from = Math.Max(0, _changedAt - 1);
            to = Math.Min(_count, _changedAt + 2);
        }
        for (int i = from; i < to; i++)
        {
            if (_distances[i] == UInt128.Zero) throw new InvariantViolation("neighbour table holds the node itself");
            if (i > 0 && _distances[i - 1] >= _distances[i]) throw new InvariantViolation($"neighbour table not strictly clockwise-sorted at {i}");
        }
        _checkedVersion = Version;
    }

    private void RemoveAt(int i)
    {
        Array.Copy(_distances, i + 1, _distances, i, _count - i - 1);
        Array.Copy(_links, i + 1, _links, i, _count - i - 1);
        _count--;
        _distances[_count] = default;
        _links[_count] = default;
        Version++;
        _changedAt = i;
    }

    /// <summary>Index of distance d, or the complement of its insertion point.</summary>
    private int Search(UInt128 d)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            UInt128 m = _distances[mid];
            if (m == d) return mid;
            if (m < d) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }
}
