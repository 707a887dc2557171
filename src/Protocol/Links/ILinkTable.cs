// What the topology may ask of the link lifecycle without changing it (LinkManager implements it).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

public interface ILinkTable
{
    bool HasLink(NodeId peer);
    LinkState? StateOf(NodeId peer);
    bool IsExcluded(NodeId peer, Instant now);
    bool IsProtected(NodeId peer, Instant now);
    int CountIncoming(LinkKind kind);
    int CountIncoming();

    /// <summary>How many link records there are (any state): the index range of the next call.</summary>
    int RecordCount { get; }

    /// <summary>
    /// Record index (0 .. RecordCount-1, in ascending peer order): true, with its peer, when it is a
    /// connected link this node initiated. The topology trims these when nothing wants them.
    /// </summary>
    bool IsConnectedInitiator(int index, out NodeId peer);

    /// <summary>
    /// Advances whenever a record is removed, or a link this node initiated becomes connected or stops
    /// being connected: the only changes of the table that can alter the topology's decisions by
    /// themselves (a new record only turns a wanted peer's HasLink true). Equal values: no such change.
    /// </summary>
    long Version { get; }
}
