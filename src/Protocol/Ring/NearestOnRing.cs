// The peer of a clockwise-sorted view nearest a key by ring distance, in O(log n) reads of the
// view instead of a scan: a lookup hop asks this of its ~40 neighbours, hundreds of millions of
// times in a million-node run.
// Contract: view.IdAt(0 .. Count-1) is strictly clockwise from origin (origin itself not among
// them). The answer is the index a scan from 0 would keep when it replaces its best only on a
// strictly smaller distance: the nearest peer, the lower index of two at the same distance.
// Why two candidates suffice: going clockwise from the key the first peer met is nearer that way
// than any other, and likewise counter-clockwise; every other peer is strictly farther both ways
// (ids are distinct), so the nearest is one of those two neighbours of the key's position.
namespace EdgeVpn.Protocol.Ring;

public static class NearestOnRing
{
    /// <summary>The index of the peer nearest key by ring distance; -1 when the view is empty.</summary>
    public static int IndexOf(IPeerView view, NodeId origin, NodeId key)
    {
        int n = view.Count;
        if (n == 0) return -1;
        UInt128 target = NodeId.ClockwiseDistance(origin, key);
        int lo = 0, hi = n; // the first position at or clockwise past the key
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (NodeId.ClockwiseDistance(origin, view.IdAt(mid)) < target) lo = mid + 1; else hi = mid;
        }
        int after = lo == n ? 0 : lo;          // wrapping past the origin
        int before = lo == 0 ? n - 1 : lo - 1;
        if (after == before) return after;
        UInt128 dAfter = NodeId.RingDistance(view.IdAt(after), key);
        UInt128 dBefore = NodeId.RingDistance(view.IdAt(before), key);
        if (dAfter != dBefore) return dAfter < dBefore ? after : before;
        return Math.Min(after, before);
    }
}
