// Link-negotiation messages carried over signaling (XMPP in the real node, the virtual signaling
// service in the simulator). Sender and receiver ids travel in the envelope, not here.
//   initiator --LinkRequest-->  responder   (responder creates its end, ICE controlled)
//   initiator <--LinkResponse-- responder   (accepted: endpoint data + certificate fingerprint)
//   initiator --LinkComplete--> responder   (initiator's endpoint data + fingerprint)
namespace EdgeVpn.Protocol.Links;

public abstract record LinkSignal(LinkId Link);

public sealed record LinkRequest(LinkId Link, LinkKind Kind) : LinkSignal(Link);

/// <summary>Refusal == None means accepted; then Endpoint and Fingerprint describe the responder's end.</summary>
public sealed record LinkResponse(LinkId Link, LinkRefusal Refusal, string Endpoint, string Fingerprint) : LinkSignal(Link);

public sealed record LinkComplete(LinkId Link, string Endpoint, string Fingerprint) : LinkSignal(Link);
