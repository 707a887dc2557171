// Between an XmppSession and an EdgeNode: what the session reports becomes the node's inputs, and
// what the node sends through the signaling server becomes the session's input. The real node's
// NodeDriver and the simulator's stanza-level signaling (--signaling xmpp) both use it, so both
// apply the same rules:
//   - presence from another overlay is ignored; PresenceRoster's rules (bounded, sorted, our own
//     id never a peer, the latest address of an id gets its signals) decide the member set;
//   - a signal is accepted only from an address whose presence announced a node id: the sender's
//     id comes from the presence, never from the payload; a payload SignalCodec refuses is dropped;
//   - a node's signal goes to the address that announced the target id most recently, as our
//     JSON signal text; with no such address it is dropped.
//   - after a reconnect the server sends every member's presence again, but says nothing of those
//     that left while we were offline: BeginResync (when the session is online again) marks the
//     known addresses stale, each presence that comes refreshes its own, and EndResync (once the
//     server's answer to our presence is in) forgets the stale ones, so a member that left during
//     an outage does not stay in the view for ever.
// When a presence changes the member set the caller hands the node Roster.View(): the real node at
// once, the simulator at most once per presence interval.
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public sealed class XmppNodeBinding(NodeId self, string? overlayId)
{
    public PresenceRoster Roster { get; } = new(self);

    private SortedSet<string>? _stale;   // addresses known before the reconnect and not announced since

    /// <summary>The session is online (again): what we knew is stale until announced anew.</summary>
    public void BeginResync() =>
        _stale = Roster.Count == 0 ? null : new SortedSet<string>(Roster.Addresses.Select(a => a.ToString()), StringComparer.Ordinal);

    /// <summary>The members online have all been announced: forgets those that were not; true when
    /// the member set changed.</summary>
    public bool EndResync()
    {
        if (_stale is null) return false;
        bool changed = false;
        foreach (string address in _stale)
            if (Jid.Parse(address) is { Ok: true } jid) changed |= Roster.Apply(jid.Value, null, false, out _);
        _stale = null;
        return changed;
    }

    /// <summary>Applies a peer's presence; true when the member set may have changed.</summary>
    public bool OnPresence(XmppOutput.PeerPresence presence, out string? refusal)
    {
        refusal = null;
        if (presence.OverlayId is not null && presence.OverlayId != overlayId) return false;
        if (presence.Available) _stale?.Remove(presence.From.ToString());
        return Roster.Apply(presence.From, presence.Node, presence.Available, out refusal);
    }

    /// <summary>The node's input for a received signal, or null with the reason it was dropped.</summary>
    public NodeInput? OnSignal(Jid from, string json, out string? drop)
    {
        drop = null;
        if (Roster.NodeOf(from) is not { } peer)
        {
            drop = $"signal from {from} dropped: no presence with a node id from that address";
            return null;
        }
        var payload = SignalCodec.Decode(json);
        if (!payload.Ok)
        {
            drop = $"signal from {from} dropped: {payload.Error}";
            return null;
        }
        return payload.Value.Link is { } link ? new NodeInput.Signal(peer, link) : new NodeInput.Membership(peer, payload.Value.Membership!);
    }

    /// <summary>The session's input that carries a node's signal output (SendSignal or a
    /// SendMembership via the server), or null with the reason it was dropped; other outputs give null
    /// without a reason.</summary>
    public XmppInput.SendSignal? ToSession(NodeOutput output, out string? drop)
    {
        drop = null;
        if (output is not (NodeOutput.SendSignal or NodeOutput.SendMembership)) return null;
        NodeId to = output is NodeOutput.SendSignal signal ? signal.To : ((NodeOutput.SendMembership)output).To;
        if (Roster.AddressOf(to) is not { } address)
        {
            drop = $"signal to {to.Short} dropped: no online address for that node id";
            return null;
        }
        // Encoded only once it has somewhere to go.
        string json = output is NodeOutput.SendSignal s ? SignalCodec.Encode(s.Message) : SignalCodec.Encode(((NodeOutput.SendMembership)output).Message);
        return new XmppInput.SendSignal(address, json);
    }
}
