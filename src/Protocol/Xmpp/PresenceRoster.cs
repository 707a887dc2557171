// What the node knows of the overlay from XMPP presence: which full addresses are online with
// which node id. It answers the two questions the host has: the membership view to hand the
// node (NodeInput.Presence: every online node id plus our own), and the address to send a
// signal for a node id to. Contract:
//   - deterministic: entries are kept sorted by address (ordinal), never in hash order;
//   - bounded: at most PeersMax addresses; presence beyond that is refused (logged by the host);
//   - our own node id never maps to a peer address; when two addresses announce one node id
//     (a reconnect under a new resource before the old one timed out), the latest announcement
//     is where signals go, and the id stays a member until both are gone;
//   - a signal's sender is known only by its address: NodeOf gives the id it announced.
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public sealed class PresenceRoster
{
    public const int PeersMax = 65_536;

    private readonly NodeId _self;
    private readonly SortedDictionary<string, (Jid Jid, NodeId Node, long Order)> _byAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, Jid> _latest = new();   // looked up, never iterated
    private long _order;
    private long _version;

    public PresenceRoster(NodeId self) => _self = self;

    public NodeId Self => _self;

    public int Count => _byAddress.Count;

    /// <summary>Every online address, sorted (ordinal).</summary>
    public IEnumerable<Jid> Addresses => _byAddress.Values.Select(e => e.Jid);

    /// <summary>Applies one presence; true when the set of member ids may have changed.</summary>
    public bool Apply(Jid from, NodeId? node, bool available, out string? refusal)
    {
        refusal = null;
        string key = from.ToString();
        if (!available || node is null) return Remove(key);
        if (node.Value == _self)
        {
            refusal = $"{key} announces our own node id";
            return Remove(key);
        }
        if (!_byAddress.ContainsKey(key) && _byAddress.Count >= PeersMax)
        {
            refusal = $"more than {PeersMax} peers online; presence of {key} ignored";
            return false;
        }
        bool changed = !_byAddress.TryGetValue(key, out var old) || old.Node != node.Value;
        if (changed && old.Jid is not null) Remove(key);
        _byAddress[key] = (from, node.Value, ++_order);
        _latest[node.Value] = from;
        return changed;
    }

    private bool Remove(string key)
    {
        if (!_byAddress.Remove(key, out var gone)) return false;
        // Another address may still announce the same id: the most recent one takes over.
        _latest.Remove(gone.Node);
        Jid? best = null;
        long bestOrder = -1;
        foreach (var e in _byAddress.Values)
            if (e.Node == gone.Node && e.Order > bestOrder) { best = e.Jid; bestOrder = e.Order; }
        if (best is not null) _latest[gone.Node] = best;
        return true;
    }

    /// <summary>Everyone is gone (we went offline: presence will be sent again when we are back).</summary>
    public bool Clear()
    {
        bool had = _byAddress.Count > 0;
        _byAddress.Clear();
        _latest.Clear();
        return had;
    }

    /// <summary>A new view for the node (the version grows by one per call: call it only to feed the node).</summary>
    public MembershipView View() => new(IdsWithSelf(), ++_version);

    /// <summary>The member ids (self included), sorted, without making a new view version.</summary>
    public IReadOnlyList<NodeId> Members() => new MembershipView(IdsWithSelf(), 0).Members.ToArray();

    private NodeId[] IdsWithSelf()
    {
        var ids = new NodeId[_byAddress.Count + 1];
        int i = 0;
        foreach (var e in _byAddress.Values) ids[i++] = e.Node;
        ids[i] = _self;
        return ids;
    }

    public NodeId? NodeOf(Jid from) => _byAddress.TryGetValue(from.ToString(), out var e) ? e.Node : null;

    /// <summary>The address that announced this id most recently, or null when it is not online.</summary>
    public Jid? AddressOf(NodeId node) => _latest.GetValueOrDefault(node);
}
