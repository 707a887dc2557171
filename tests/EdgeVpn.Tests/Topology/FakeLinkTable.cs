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

    // Version as LinkManager keeps it, worked out from what the test changed since the last read:
    // one step per removed link and per initiated link that came up or went down.
    private Dictionary<NodeId, bool> _seen = new();   // peer -> connected and initiated by us
    private long _version;

    public long Version
    {
        get
        {
            foreach (var (peer, ours) in _seen)
                if (!Links.TryGetValue(peer, out var l)) _version++;
                else if (ours != (l.State == LinkState.Connected && !l.Incoming)) _version++;
            foreach (var (peer, l) in Links)
                if (!_seen.ContainsKey(peer) && l.State == LinkState.Connected && !l.Incoming) _version++;
            _seen = Links.ToDictionary(p => p.Key, p => p.Value.State == LinkState.Connected && !p.Value.Incoming);
            return _version;
        }
    }

    public bool IsConnectedInitiator(int index, out NodeId peer)
    {
        var (id, link) = Links.ElementAt(index);
        peer = id;
        return link.State == LinkState.Connected && !link.Incoming;
    }
}
