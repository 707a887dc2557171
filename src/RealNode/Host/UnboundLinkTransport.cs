// The link transport of the deployable node until ICE (src/RealNode/Ice) and DTLS
// (src/RealNode/Dtls) are bound: link negotiation over XMPP runs for real (request, response,
// completion travel through the server), then the transport honestly refuses to connect, so the
// node's link manager records a transport failure and backs off. `edgevpn status` shows such
// links with path "unknown" and the reason below; the testbed reports it as "connected": false.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

public sealed class UnboundLinkTransport(ILinkEvents events) : ILinkTransport
{
    public const string Reason = "link transport not bound: ICE/DTLS are not wired into the node yet";

    public string LocalFingerprint => "sha-256 unbound";

    public void Prepare(LinkId link, NodeId peer, IceRole role) => events.Report(new LinkEvent.EndpointPrepared(link, "unbound"));

    public void Connect(LinkId link, NodeId peer, IceRole role, string remoteEndpoint, string remoteFingerprint) =>
        events.Report(new LinkEvent.TransportDown(link, Reason));

    public void Send(LinkId link, byte[] frame) { }
    public void SendKeepAlive(LinkId link) { }
    public void Close(LinkId link) { }
    public LinkTransportStats Stats(LinkId link) => default;
    public void Dispose() { }
}
