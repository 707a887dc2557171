// Which side of a link runs the DTLS client. The rule: the ICE controlling agent (the node that
// initiated the link and nominates the pair) is the DTLS client, the controlled agent is the
// DTLS server. Both sides know their ICE role before the pair is selected, so no extra
// signaling is needed (as SDP's a=setup would otherwise say), and exactly one client exists
// because ICE resolves role conflicts (RFC 8445 §7.3.1.1) before a pair is nominated.
namespace EdgeVpn.RealNode.Dtls;

public enum DtlsRole { Client, Server }

public static class DtlsRoles
{
    public static DtlsRole ForIce(bool iceControlling) => iceControlling ? DtlsRole.Client : DtlsRole.Server;
}
