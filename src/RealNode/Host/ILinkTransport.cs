// The seam between the host loop and whatever carries a link's frames: an in-memory loopback
// (LoopbackLinkNetwork, tests), the "unbound" placeholder (UnboundLinkTransport, negotiation
// tests), and the deployable node's ICE + DTLS transport (Link/IceDtlsLinkTransport: ICE on real
// UDP sockets, src/RealNode/Ice, with DTLS on the selected pair, src/RealNode/Dtls).
// Contract, mirroring the node's link intents:
//   Prepare(link, peer, role)   gather candidates, make a certificate fingerprint available;
//                               later report LinkEvent.EndpointPrepared(link, endpoint text)
//                               (the endpoint is what the peer needs: ICE ufrag/pwd/candidates).
//   Connect(link, …, remote endpoint, remote fingerprint)
//                               run ICE checks and the DTLS handshake; the peer's certificate
//                               must match remoteFingerprint. Report TransportUp, or
//                               TransportDown with the reason (the fingerprint mismatch says so).
//   Send(link, frame)           one Ethernet frame as one record; at the far end LinkFrame.
//   SendKeepAlive(link)         a keep-alive record; at the far end KeepAlive.
//   Close(link)                 tear down; no events for the link afterwards (a late one is
//                               harmless: the node ignores unknown links).
//   Stats(link)                 path kind, RTT and byte counts for `edgevpn status`.
// Threading: the methods are called on the host's loop thread only and must not block (start
// work, return). Events go to the ILinkEvents given at construction, from any thread.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

/// <summary>Where a link's datagrams go: "unknown" until ICE is bound and has chosen a pair.</summary>
public enum LinkPathKind : byte { Unknown, Host, ServerReflexive, PeerReflexive, Relay, Loopback }

public readonly record struct LinkTransportStats(LinkPathKind Path, double? RttMs, long BytesIn, long BytesOut, long FramesIn, long FramesOut);

public abstract record LinkEvent(LinkId Link)
{
    public sealed record EndpointPrepared(LinkId Link, string Endpoint) : LinkEvent(Link);
    public sealed record TransportUp(LinkId Link) : LinkEvent(Link);
    public sealed record TransportDown(LinkId Link, string Reason) : LinkEvent(Link);
    public sealed record Frame(LinkId Link, byte[] Bytes) : LinkEvent(Link)
    {
        public override string ToString() => $"Frame {{ Link = {Link}, Bytes = {Bytes.Length} }}";
    }
    public sealed record KeepAlive(LinkId Link) : LinkEvent(Link);
}

/// <summary>Where a transport reports; thread-safe. Frames and keep-alives may be dropped under load (datagram semantics).</summary>
public interface ILinkEvents
{
    void Report(LinkEvent e);
}

public interface ILinkTransport : IDisposable
{
    /// <summary>This node's certificate fingerprint, sent to peers over signaling (e.g. "sha-256 AB:CD:…").</summary>
    string LocalFingerprint { get; }
    void Prepare(LinkId link, NodeId peer, IceRole role);
    void Connect(LinkId link, NodeId peer, IceRole role, string remoteEndpoint, string remoteFingerprint);
    void Send(LinkId link, byte[] frame);
    void SendKeepAlive(LinkId link);
    void Close(LinkId link);
    LinkTransportStats Stats(LinkId link);
}

/// <summary>The tap side of the node: frames the node delivers locally. The tap binding
/// (src/RealNode/Tap) implements it and feeds frames it reads as HostEvent.LocalFrame.</summary>
public interface ILocalPort : IDisposable
{
    void Deliver(byte[] frame);
}

/// <summary>No tap: delivered frames are counted and dropped (a signaling-only node).</summary>
public sealed class NullLocalPort : ILocalPort
{
    private long _dropped;
    public long Dropped => Interlocked.Read(ref _dropped);
    public void Deliver(byte[] frame) => Interlocked.Increment(ref _dropped);
    public void Dispose() { }
}
