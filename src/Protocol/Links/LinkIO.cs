// Inputs and outputs of the LinkManager machine.
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

public abstract record LinkInput
{
    /// <summary>Topology asks for a link to peer (no-op if one exists or is being set up).</summary>
    public sealed record Open(NodeId Peer, LinkKind Kind) : LinkInput;
    /// <summary>Close the link to peer, whatever its state (no-op if none).</summary>
    public sealed record Close(NodeId Peer) : LinkInput;
    /// <summary>A negotiation message arrived over signaling from peer.</summary>
    public sealed record SignalReceived(NodeId From, LinkSignal Signal) : LinkInput;
    /// <summary>The host finished preparing this end: its endpoint data (ICE candidates) is ready.</summary>
    public sealed record EndpointPrepared(LinkId Link, string Endpoint) : LinkInput;
    /// <summary>The transport (ICE + DTLS) of the link is up.</summary>
    public sealed record TransportUp(LinkId Link) : LinkInput;
    /// <summary>The transport failed or was closed by the peer.</summary>
    public sealed record TransportDown(LinkId Link) : LinkInput;
    /// <summary>Something arrived on the link (a frame or a keep-alive): it is alive.</summary>
    public sealed record Activity(LinkId Link) : LinkInput;
}

public abstract record LinkOutput
{
    public sealed record SendSignal(NodeId To, LinkSignal Signal) : LinkOutput;
    /// <summary>Host: create this end of the link (ICE agent in the given role) and answer with EndpointPrepared.</summary>
    public sealed record PrepareEndpoint(LinkId Link, NodeId Peer, IceRole Role) : LinkOutput;
    /// <summary>Host: connect the transport to the remote endpoint, verifying the remote certificate fingerprint.</summary>
    public sealed record ConnectTransport(LinkId Link, NodeId Peer, IceRole Role, string RemoteEndpoint, string RemoteFingerprint) : LinkOutput;
    /// <summary>Host: tear down this end (transport and prepared endpoint).</summary>
    public sealed record CloseTransport(LinkId Link, NodeId Peer) : LinkOutput;
    /// <summary>Host: send a keep-alive on the link (it has been idle for KeepAliveInterval).</summary>
    public sealed record SendKeepAlive(LinkId Link, NodeId Peer) : LinkOutput;
    public sealed record Connected(LinkId Link, NodeId Peer, LinkKind Kind, bool Initiator) : LinkOutput;
    public sealed record Removed(LinkId Link, NodeId Peer, LinkRemoval Reason) : LinkOutput;
    public sealed record Failed(NodeId Peer, LinkFailure Reason, LinkRefusal Refusal) : LinkOutput;
    public sealed record Error(Core.ProtocolError Problem) : LinkOutput;
}

/// <summary>The node's decision on an incoming request (the topology implements it).</summary>
public interface ILinkAdmission
{
    LinkRefusal Admit(NodeId peer, LinkKind kind);
}
