// Inputs and outputs of XmppSession (sans-IO). Transport inputs and outputs carry a connection
// number: the session asks for connection n with Connect(n), and ignores anything a socket
// adapter still reports about an older connection, so a late read from a dead socket can never
// be mistaken for the new stream.
// The adapter's duties: Connect -> open TCP, then TransportConnected or TransportFailed;
// Send -> write the bytes (never log them when Sensitive); StartTls -> run the TLS handshake on
// the same socket, then TlsEstablished or TransportFailed, and from then on pass decrypted bytes;
// Close -> close the socket (no more inputs for that connection are needed).
// Everything else is an event for the application: Online/Offline, the roster, peers' presence,
// received signals, log lines, and Stopped (the session will not reconnect).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public abstract record XmppInput
{
    public sealed record Start : XmppInput;
    public sealed record Stop(string Reason) : XmppInput;
    public sealed record TransportConnected(int Connection) : XmppInput;
    public sealed record Received(int Connection, byte[] Bytes) : XmppInput
    {
        public override string ToString() => $"Received {{ Connection = {Connection}, Bytes = {Bytes.Length} }}";
    }
    public sealed record TlsEstablished(int Connection) : XmppInput;
    public sealed record TransportFailed(int Connection, string Reason) : XmppInput;
    /// <summary>Send our JSON signaling payload to a peer (normally the full address from its presence).</summary>
    public sealed record SendSignal(Jid To, string Json) : XmppInput;
}

public enum XmppLogLevel { Debug, Info, Warning, Error }

public sealed record RosterItem(Jid Jid, string? Name, string Subscription, IReadOnlyList<string> Groups);

public abstract record XmppOutput
{
    public sealed record Connect(int Connection, string Host, int Port) : XmppOutput;
    /// <summary>Sensitive bytes (SASL exchanges) must never be logged.</summary>
    public sealed record Send(int Connection, byte[] Bytes, bool Sensitive) : XmppOutput
    {
        public override string ToString() => $"Send {{ Connection = {Connection}, Bytes = {Bytes.Length}{(Sensitive ? ", sensitive" : "")} }}";
    }
    public sealed record StartTls(int Connection, string ServerName) : XmppOutput;
    public sealed record Close(int Connection, string Reason) : XmppOutput;

    public sealed record Online(Jid BoundJid) : XmppOutput;
    /// <summary>RetryAt is null when the session gives up (a Stopped follows).</summary>
    public sealed record Offline(string Reason, Instant? RetryAt) : XmppOutput;
    /// <summary>The whole roster, sorted by address, after the fetch and after every push.</summary>
    public sealed record Roster(IReadOnlyList<RosterItem> Items) : XmppOutput
    {
        public override string ToString() =>
            $"Roster {{ {string.Join(", ", Items.Select(i => $"{i.Jid} [{string.Join(",", i.Groups)}]"))} }}";
    }
    /// <summary>A group member's presence: available with its node id, or gone.</summary>
    public sealed record PeerPresence(Jid From, NodeId? Node, string? OverlayId, bool Available) : XmppOutput;
    public sealed record Signal(Jid From, string Json) : XmppOutput;
    public sealed record Log(XmppLogLevel Level, string Text) : XmppOutput;
    public sealed record Stopped(string Reason) : XmppOutput;
}
