// A link transport that negotiates but never connects: link negotiation over XMPP runs for real
// (request, response, completion travel through the server), then the transport refuses to
// connect with Reason, so the node's link manager records a transport failure and backs off.
// Tests of negotiation and of failure reporting use it; `edgevpn node` uses IceDtlsLinkTransport.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

public sealed class UnboundLinkTransport(ILinkEvents events) : ILinkTransport
{
    public const string Reason = "link transport not bound: this placeholder transport never connects";

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
