// A test double for ILinkTable: links are whatever the test says they are. Lets the topology be
// tested alone, without the link lifecycle.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Tests.Topology;

internal sealed class FakeLinkTable : ILinkTable
{
    public readonly SortedDictionary<NodeId, (LinkState State, LinkKind Kind, bool Incoming)> Links = new();
    public readonly HashSet<NodeId> Excluded = new();
    public readonly HashSet<NodeId> Protected = new();

    public bool HasLink(NodeId peer) => Links.ContainsKey(peer);
    public LinkState? StateOf(NodeId peer) => Links.TryGetValue(peer, out var l) ? l.State : null;
    public bool IsExcluded(NodeId peer, Instant now) => Excluded.Contains(peer);
    public bool IsProtected(NodeId peer, Instant now) => Protected.Contains(peer);
    public int CountIncoming(LinkKind kind) => Links.Values.Count(l => l.Incoming && l.Kind == kind);
    public int CountIncoming() => Links.Values.Count(l => l.Incoming);
    public int RecordCount => Links.Count;

    public bool IsConnectedInitiator(int index, out NodeId peer)
    {
        var (id, link) = Links.ElementAt(index);
        peer = id;
        return link.State == LinkState.Connected && !link.Incoming;
    }
}
