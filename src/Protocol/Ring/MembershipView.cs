// An immutable, sorted view of the overlay's members (what a node knows from presence).
// In the simulator every member may share one instance (a perfect roster), so memory stays O(n);
// a real node builds its own from XMPP presence. Lookups are binary searches: O(log n).
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Ring;

public sealed class MembershipView
{
    private readonly NodeId[] _sorted;

    /// <summary>A version number that grows with each new view the host hands out.</summary>
    public long Version { get; }
    public int Count => _sorted.Length;
    public NodeId this[int index] => _sorted[index];
    public ReadOnlySpan<NodeId> Members => _sorted;

    public static readonly MembershipView Empty = new(Array.Empty<NodeId>(), 0, alreadySortedUnique: true);

    /// <summary>Builds a view; ids are sorted and de-duplicated unless the caller vouches they are.</summary>
    public MembershipView(NodeId[] ids, long version, bool alreadySortedUnique = false)
    {
        Version = version;
        if (alreadySortedUnique) { _sorted = ids; return; }
        var copy = (NodeId[])ids.Clone();
        Array.Sort(copy);
        int w = 0;
        for (int r = 0; r < copy.Length; r++)
            if (w == 0 || copy[r] != copy[w - 1]) copy[w++] = copy[r];
        _sorted = w == copy.Length ? copy : copy[..w];
    }

    /// <summary>Index of the first member at or clockwise after id (wrapping); -1 when empty.</summary>
    public int IndexAtOrAfter(NodeId id)
    {
        if (_sorted.Length == 0) return -1;
        int i = Array.BinarySearch(_sorted, id);
        if (i < 0) i = ~i;
        return i == _sorted.Length ? 0 : i;
    }

    /// <summary>Index of the first member strictly clockwise after id (wrapping); -1 when empty.</summary>
    public int IndexAfter(NodeId id)
    {
        if (_sorted.Length == 0) return -1;
        int i = Array.BinarySearch(_sorted, id);
        i = i < 0 ? ~i : i + 1;
        return i == _sorted.Length ? 0 : i;
    }

    public bool Contains(NodeId id) => Array.BinarySearch(_sorted, id) >= 0;

    /// <summary>The k-th member clockwise after id (k = 1 is the successor), skipping id itself.</summary>
    public NodeId? Successor(NodeId id, int k)
    {
        int others = Contains(id) ? Count - 1 : Count;
        if (k < 1 || k > others) return null;
        int i = IndexAfter(id);
        return _sorted[(i + k - 1) % Count];
    }

    public void CheckInvariants()
    {
        for (int i = 1; i < _sorted.Length; i++)
            if (_sorted[i - 1] >= _sorted[i]) throw new InvariantViolation($"membership view not strictly sorted at {i}");
    }
}
