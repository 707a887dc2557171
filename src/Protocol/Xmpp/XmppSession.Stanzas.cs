// XmppSession, the stanzas of a bound session: the roster (fetch and pushes, RFC 6121 §2),
// presence of overlay members carrying node ids, signaling messages in our namespace, iq
// requests (answered, RFC 6120 §8.4 demands it) and keep-alive ping replies.
// A stanza whose content is bad (unknown sender, malformed node id or address, non-JSON
// payload) is dropped with a logged reason; the stream goes on.
// Group membership: a sender counts only when its bare address is in our roster and, when
// Config.Group is set, the roster item lists that group (the server's shared groups put it
// there). The roster, the available peers and every output derived from them are kept in
// ordinal order, so outputs never depend on hash order.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public sealed partial class XmppSession
{
    private readonly SortedDictionary<string, RosterItem> _roster = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _available = new(StringComparer.Ordinal);

    public IReadOnlyCollection<RosterItem> Roster => _roster.Values;

    private void ClearPeers() => _available.Clear();

    private void OnRoutedStanza(Instant now, XmlElement stanza)
    {
        switch (stanza.Name)
        {
            case "iq": OnIq(now, stanza); return;
            case "presence": OnPresence(stanza); return;
            case "message": OnMessage(stanza); return;
            default: Drop(stanza, "not a stanza kind we know"); return;
        }
    }

    private void OnIq(Instant now, XmlElement iq)
    {
        string? type = iq.Attr("type");
        string? id = iq.Attr("id");
        if (type is "result" or "error")
        {
            if (id is not null && id == _pingId)
            {
                _pingId = null;
                _timers.Stop(XmppTimer.PingReply);
                if (State == XmppState.Online) _timers.Set(XmppTimer.PingDue, now + _config.PingInterval);
            }
            else Log(XmppLogLevel.Debug, $"ignored iq {type} with unknown id {Printable.Of(id)}");
            return;
        }
        if (type is not ("get" or "set") || id is null) { Drop(iq, "an iq without a valid type or id"); return; }
        string? from = iq.Attr("from");
        bool fromServer = from is null || from == _config.Account.ToString() || from == _config.Account.Domain;
        var rosterQuery = iq.Child("query", XmppNs.Roster);
        if (type == "set" && rosterQuery is not null)
        {
            if (!fromServer) { Drop(iq, "a roster push not from our server"); ReplyError(iq, "forbidden"); return; }
            OnRosterPush(rosterQuery);
            SendElement(XmppStanzas.Iq("result", id));
            return;
        }
        if (type == "get" && iq.Child("ping", XmppNs.Ping) is not null)
        {
            SendElement(XmppStanzas.Iq("result", id, from));
            return;
        }
        ReplyError(iq, "service-unavailable");
    }

    private void ReplyError(XmlElement iq, string condition) => SendElement(XmppStanzas.IqError(iq, condition));

    private void OnRosterResult(XmlElement iq)
    {
        _roster.Clear();
        var query = iq.Child("query", XmppNs.Roster);
        if (query is not null)
            foreach (var item in query.ChildrenNamed("item", XmppNs.Roster)) Upsert(item);
        EmitRoster();
    }

    private void OnRosterPush(XmlElement query)
    {
        foreach (var item in query.ChildrenNamed("item", XmppNs.Roster))
        {
            if (item.Attr("subscription") == "remove")
            {
                var jid = Jid.Parse(item.Attr("jid"));
                if (!jid.Ok) { Drop(item, "a roster removal with a bad address: " + jid.Error); continue; }
                _roster.Remove(jid.Value.Bare.ToString());
                ForgetPeer(jid.Value.Bare);
                continue;
            }
            Upsert(item);
        }
        EmitRoster();
    }

    private void Upsert(XmlElement item)
    {
        var jid = Jid.Parse(item.Attr("jid"));
        if (!jid.Ok || !jid.Value.IsBare) { Drop(item, "a roster item with a bad address: " + (jid.Ok ? "not bare" : jid.Error)); return; }
        string key = jid.Value.ToString();
        if (!_roster.ContainsKey(key) && _roster.Count >= _config.RosterItemsMax)
        {
            Drop(item, $"the roster is full ({_config.RosterItemsMax} items)");
            return;
        }
        var groups = item.ChildrenNamed("group", XmppNs.Roster).Select(g => g.Text.Trim()).Where(g => g.Length > 0)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (groups.Count > _config.GroupsPerItemMax)
        {
            Log(XmppLogLevel.Warning, $"roster item {key} lists {groups.Count} groups; kept the first {_config.GroupsPerItemMax}");
            groups = groups.Take(_config.GroupsPerItemMax).ToList();
        }
        bool wasMember = IsMember(jid.Value);
        _roster[key] = new RosterItem(jid.Value, item.Attr("name"), item.Attr("subscription") ?? "none", groups);
        if (wasMember && !IsMember(jid.Value)) ForgetPeer(jid.Value);
    }

    private void EmitRoster() => _outputs.Enqueue(new XmppOutput.Roster([.. _roster.Values]));

    private bool IsMember(Jid bare) =>
        _roster.TryGetValue(bare.ToString(), out var item) && (_config.Group is null || item.Groups.Contains(_config.Group));

    /// <summary>Reports every available resource of a bare address as gone.</summary>
    private void ForgetPeer(Jid bare)
    {
        string prefix = bare + "/";
        foreach (var full in _available.Where(a => a.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            _available.Remove(full);
            _outputs.Enqueue(new XmppOutput.PeerPresence(Jid.Parse(full).Value, null, null, false));
        }
    }

    private void OnPresence(XmlElement presence)
    {
        var from = Jid.Parse(presence.Attr("from"));
        if (!from.Ok) { Drop(presence, "bad sender address: " + from.Error); return; }
        if (from.Value.Bare == _config.Account) return;   // our own presence, echoed back
        string? type = presence.Attr("type");
        if (type is not (null or "unavailable"))
        {
            Log(type == "error" ? XmppLogLevel.Warning : XmppLogLevel.Debug, $"ignored presence of type {Printable.Of(type)} from {from.Value}");
            return;
        }
        if (!IsMember(from.Value.Bare)) { Drop(presence, $"{from.Value.Bare} is not in {(_config.Group is null ? "our roster" : "group " + _config.Group)}"); return; }
        if (type == "unavailable")
        {
            if (from.Value.IsBare) { ForgetPeer(from.Value); return; }
            if (_available.Remove(from.Value.ToString()))
                _outputs.Enqueue(new XmppOutput.PeerPresence(from.Value, null, null, false));
            return;
        }
        if (from.Value.IsBare) { Drop(presence, "available presence from a bare address"); return; }
        var node = presence.Child("node", XmppNs.EdgeVpn);
        if (node is null) { Log(XmppLogLevel.Debug, $"presence from {from.Value} carries no node id (not an EdgeVpn node)"); return; }
        var id = NodeId.Parse(node.Attr("id"));
        if (!id.Ok) { Drop(presence, "bad node id: " + id.Error); return; }
        string? overlay = node.Attr("overlay");
        if (_config.OverlayId is not null && overlay != _config.OverlayId)
        {
            Drop(presence, $"overlay '{Printable.Of(overlay)}' is not ours");
            return;
        }
        _available.Add(from.Value.ToString());
        _outputs.Enqueue(new XmppOutput.PeerPresence(from.Value, id.Value, overlay, true));
    }

    private void OnMessage(XmlElement message)
    {
        if (message.Attr("type") == "error")
        {
            string condition = message.Child("error", XmppNs.Client)?.Children.FirstOrDefault()?.Name ?? "unknown";
            Log(XmppLogLevel.Warning, $"a message to {Printable.Of(message.Attr("from"))} bounced: {Printable.Of(condition)}");
            return;
        }
        var signal = message.Child("signal", XmppNs.EdgeVpn);
        if (signal is null) { Log(XmppLogLevel.Debug, $"ignored a message without a signal from {Printable.Of(message.Attr("from"))}"); return; }
        var from = Jid.Parse(message.Attr("from"));
        if (!from.Ok) { Drop(message, "bad sender address: " + from.Error); return; }
        if (!IsMember(from.Value.Bare)) { Drop(message, $"{from.Value.Bare} is not in {(_config.Group is null ? "our roster" : "group " + _config.Group)}"); return; }
        if (XmppStanzas.CheckJson(signal.Text, _config.SignalBytesMax, _config.SignalJsonDepthMax) is { } bad) { Drop(message, bad); return; }
        _outputs.Enqueue(new XmppOutput.Signal(from.Value, signal.Text));
    }

    private void SendSignal(XmppInput.SendSignal send)
    {
        if (State != XmppState.Online) { Log(XmppLogLevel.Warning, $"signal to {send.To} dropped: not online ({State})"); return; }
        // The address may have been built by hand rather than parsed: check it before it goes out.
        if (!Jid.Parse(send.To.ToString()).Ok) { Log(XmppLogLevel.Error, $"signal to {Printable.Of(send.To.ToString())} not sent: bad address"); return; }
        if (XmppStanzas.CheckJson(send.Json, _config.SignalBytesMax, _config.SignalJsonDepthMax) is { } bad)
        {
            Log(XmppLogLevel.Error, $"signal to {send.To} not sent: {bad}");
            return;
        }
        SendElement(XmppStanzas.Signal(send.To, NextId("sig"), send.Json));
    }

    private void Drop(XmlElement stanza, string reason) =>
        Log(XmppLogLevel.Warning, $"dropped <{Printable.Of(stanza.Name)}> from {Printable.Of(stanza.Attr("from"))}: {reason}");
}
