// A read-only view of the peers a node holds connected links to, in an order of the holder's
// choosing. One part of a node keeps the set and the others read it, so that it is stored once:
// a million simulated nodes with about 40 links each held some 0.8 GB per copy.
// Contract: no peer twice, never the node itself; IdAt is valid for 0 <= index < Count and the
// view changes only when its holder's node adds or removes a link.
namespace EdgeVpn.Protocol.Ring;

public interface IPeerView
{
    int Count { get; }
    NodeId IdAt(int index);
    bool Contains(NodeId peer);
}
