// One live node's side of --signaling xmpp: the real node's XMPP client session, bound to the
// node's EdgeNode by XmppNodeBinding, and the simulator's bookkeeping of it (the TCP stream the
// session uses now, its next wake-up, whether it is online, whether a lookup join waits for the
// roster). Discarded when the node crashes or leaves; a restart makes a new one.
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.Sim.XmppSignaling;

internal sealed class XmppClientEnd(int node, XmppSession session, XmppNodeBinding binding)
{
    public int Node { get; } = node;
    public XmppSession Session { get; } = session;
    public XmppNodeBinding Binding { get; } = binding;
    /// <summary>The simulator's id of the stream the session's current connection runs on (0: none).</summary>
    public long Stream;
    /// <summary>The session's number for that connection.</summary>
    public int Connection;
    /// <summary>When the last bytes on that stream reach the server: a stream never reorders, so a
    /// later send arrives no earlier even when the latency has dropped since (a spike ended).</summary>
    public long LastUpNs;
    public bool Online;
    /// <summary>Online, and the server's answer to our initial presence (every member's presence) not in yet.</summary>
    public bool AwaitingPresences;
    /// <summary>Lookup membership: the node joins (again) through a member once it knows the members.</summary>
    public bool BootstrapWanted;
    /// <summary>Consecutive failed joins whose bootstrap was not a member (BootstrapChoice).</summary>
    public int NotJoinedFailures;
    public long NextWakeNs = long.MaxValue;
    /// <summary>When the node last got a membership view, and whether a later one is scheduled.</summary>
    public long LastViewNs = long.MinValue;
    public bool ViewScheduled;
}
