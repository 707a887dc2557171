// The STUN and TURN servers a new link's ICE agent starts with, as resolved at that moment
// (ServerAddressBook.Current, read once per link setup by IceDtlsLinkEnd). Immutable, so a link
// set up while the book changes sees one consistent set. The TURN password is inside: ToString
// is written out so that a logged IceServers shows addresses only (the generated one printed it).
using System.Net;
using EdgeVpn.Protocol.Ice;

namespace EdgeVpn.RealNode.Link;

public sealed record IceServers(IReadOnlyList<IPEndPoint> Stun, IceTurnServer? Turn)
{
    /// <summary>The agent's configuration with these servers in place of its own.</summary>
    public IceConfig ApplyTo(IceConfig ice) => ice with { StunServers = Stun, Turn = Turn };

    public override string ToString() => $"STUN [{string.Join(", ", Stun)}], TURN {Turn?.Server.ToString() ?? "none"}";
}
