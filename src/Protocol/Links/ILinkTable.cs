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
}
