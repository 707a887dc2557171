// LinkManager as the node's neighbour view (INeighbourView): its connected links, clockwise from
// the node itself, for the bounded flood and the lookup membership's routing. The records already
// hold every connected peer and its link, so the view stores only which records are connected: a
// ushort index per connected link (2 bytes; the separate sorted table it replaces held 24 bytes a
// neighbour plus slack, about 1 KB per node at a million nodes).
// Why it stays cheap: the records are sorted by peer id, so the connected ones in index order are
// sorted by id too, and clockwise order from Self is that order rotated to start after Self. The
// index list is kept in ascending order, with the count of those below Self, whose peers come last.
// Contract: _connected holds exactly the indices of the Connected records, ascending; it changes in
// Insert, RemoveAt and Step (the places records change), and CheckInvariants verifies it.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

public sealed partial class LinkManager : INeighbourView
{
    private ushort[]? _connected;
    private int _connectedCount;
    private int _connectedBelowSelf;   // connected peers with ids below Self: the last ones clockwise

    /// <summary>The connected links as the node's neighbour view (the same object).</summary>
    public INeighbourView Neighbours => this;

    int IPeerView.Count => _connectedCount;

    NodeId IPeerView.IdAt(int index) => _records![ConnectedRecord(index)].Peer;

    LinkId INeighbourView.LinkAt(int index) => LinkOf(ConnectedRecord(index));

    bool IPeerView.Contains(NodeId peer)
    {
        int i = FindPeer(peer);
        return i >= 0 && _records![i].State == LinkState.Connected;
    }

    bool INeighbourView.TryGetLink(NodeId peer, out LinkId link)
    {
        int i = FindPeer(peer);
        if (i >= 0 && _records![i].State == LinkState.Connected) { link = LinkOf(i); return true; }
        link = default;
        return false;
    }

    int INeighbourView.CountInArc(NodeId bound)
    {
        UInt128 limit = NodeId.ClockwiseDistance(Self, bound);
        if (limit == UInt128.Zero) return 0;
        // The first position whose clockwise distance is >= limit: distances grow along the view.
        int lo = 0, hi = _connectedCount;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (NodeId.ClockwiseDistance(Self, _records![ConnectedRecord(mid)].Peer) < limit) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>The record index of the index-th connected peer clockwise from Self.</summary>
    private int ConnectedRecord(int index)
    {
        if ((uint)index >= (uint)_connectedCount) throw new ArgumentOutOfRangeException(nameof(index));
        int at = index + _connectedBelowSelf;
        if (at >= _connectedCount) at -= _connectedCount;
        return _connected![at];
    }

    /// <summary>Record index became Connected: add it to the ascending index list.</summary>
    private void AddConnected(int index)
    {
        _connected ??= new ushort[4];
        if (_connectedCount == _connected.Length) Array.Resize(ref _connected, Growth.Next(_connectedCount));
        int at = ~Array.BinarySearch(_connected, 0, _connectedCount, (ushort)index);
        Array.Copy(_connected, at, _connected, at + 1, _connectedCount - at);
        _connected[at] = (ushort)index;
        _connectedCount++;
        if (_records![index].Peer < Self) _connectedBelowSelf++;
        if (_records[index].Initiator) _version++;
    }

    /// <summary>A record was inserted at index (not Connected yet): the records after it moved up one.</summary>
    private void ShiftConnectedUp(int index)
    {
        for (int k = _connectedCount - 1; k >= 0 && _connected![k] >= index; k--) _connected[k]++;
    }

    /// <summary>Record index is about to be removed: drop it if connected; the records after it move down one.</summary>
    private void RemoveConnected(int index)
    {
        int from = DropConnected(index);
        for (int k = from; k < _connectedCount; k++) _connected![k]--;
    }

    /// <summary>Record index is no longer Connected: drop it from the list; returns where it was or would be.</summary>
    private int DropConnected(int index)
    {
        if (_connectedCount == 0) return 0;
        int at = Array.BinarySearch(_connected!, 0, _connectedCount, (ushort)index);
        if (at < 0) return ~at;
        if (_records![index].Peer < Self) _connectedBelowSelf--;
        if (_records[index].Initiator) _version++;
        Array.Copy(_connected!, at + 1, _connected!, at, _connectedCount - at - 1);
        _connectedCount--;
        if (_connectedCount == 0) _connected = null;
        else _connected![_connectedCount] = 0;
        return at;
    }

    /// <summary>The index list against the records: all of it (full check) or one record's place in it.</summary>
    private void CheckConnected(bool all, int touched)
    {
        if (_connectedCount != _count - _pending)
            throw new InvariantViolation($"{_connectedCount} links in the neighbour view, {_count - _pending} connected");
        if (all)
        {
            int k = 0, below = 0;
            for (int i = 0; i < _count; i++)
            {
                if (_records![i].State != LinkState.Connected) continue;
                if (k >= _connectedCount || _connected![k] != i) throw new InvariantViolation($"neighbour view misses connected link record {i}");
                if (_records[i].Peer < Self) below++;
                k++;
            }
            if (below != _connectedBelowSelf) throw new InvariantViolation($"{below} connected peers below this node, counted {_connectedBelowSelf}");
        }
        else if (touched >= 0)
        {
            bool listed = _connectedCount > 0 && Array.BinarySearch(_connected!, 0, _connectedCount, (ushort)touched) >= 0;
            if (listed != (_records![touched].State == LinkState.Connected))
                throw new InvariantViolation($"neighbour view lists link record {touched}: {listed}, in state {_records[touched].State}");
        }
    }

    void INeighbourView.CheckInvariants() => CheckInvariants();
}
