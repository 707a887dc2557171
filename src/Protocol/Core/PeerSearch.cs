// Binary search over small arrays kept sorted by peer id (link records, back-off entries, the
// topology's initiated links). One implementation for all of them; generic over a struct so the
// JIT specialises it and the hot path makes no interface or delegate calls.
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Core;

/// <summary>An item of an array sorted by peer id.</summary>
public interface IPeerKeyed
{
    NodeId Peer { get; }
}

public static class PeerSearch
{
    /// <summary>The index of peer in items (sorted strictly by Peer), or the bitwise complement of where it would go.</summary>
    public static int Find<T>(ReadOnlySpan<T> items, NodeId peer) where T : struct, IPeerKeyed
    {
        // Two plain UInt128 comparisons instead of a three-way CompareTo: the same order, fewer
        // branches (this runs dozens of times per simulated link event).
        UInt128 key = peer.Value;
        int lo = 0, hi = items.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            UInt128 m = items[mid].Peer.Value;
            if (m == key) return mid;
            if (m < key) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }
}
