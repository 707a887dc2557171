// What the bounded flood reads of a node's connected neighbours: the peers clockwise from the
// node itself, with the link to each. Two holders: NeighbourTable (a machine on its own keeps its
// own sorted copy) and LinkManager (a whole node: the link records already hold every connected
// peer, so the view is an index over them and the peers are stored once).
// Contract: IdAt(0 .. Count-1) is strictly clockwise from Self (never Self, no peer twice);
// LinkAt(i) is the connected link to IdAt(i); the view changes only when its holder's links do.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flood;

public interface INeighbourView : IPeerView
{
    NodeId Self { get; }
    LinkId LinkAt(int index);
    bool TryGetLink(NodeId peer, out LinkId link);

    /// <summary>
    /// How many neighbours lie strictly inside the clockwise arc (Self, bound): they are the
    /// first ones of the view. bound == Self is the degenerate arc and holds none.
    /// </summary>
    int CountInArc(NodeId bound);

    void CheckInvariants();
}
