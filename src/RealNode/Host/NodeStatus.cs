// What `edgevpn status` shows, taken on the loop thread (so it is one consistent moment). No
// credential is ever part of it: the account is the bare address, nothing more.
namespace EdgeVpn.RealNode.Host;

public sealed record LinkStatus(
    string Peer,
    string Link,
    string Kind,
    string State,
    bool Initiator,
    double AgeSeconds,
    string Path,
    double? RttMs,
    long BytesIn,
    long BytesOut,
    /// <summary>Connected links: from the link's creation (request sent or received) to the transport up.</summary>
    double? SetupMs = null);

public sealed record PeerStatus(string NodeId, string Address);

public sealed record NodeStatus(
    string NodeId,
    string OverlayId,
    string Account,
    string Signaling,
    int Members,
    IReadOnlyList<PeerStatus> Peers,
    IReadOnlyList<LinkStatus> Links,
    long LinksUpTotal,
    long LinkFailuresTotal,
    string? LastLinkFailure,
    /// <summary>The link transport's last reason for a transport going down (ICE failed, fingerprint mismatch, not bound).</summary>
    string? LastTransportError,
    long SignalsSent,
    long SignalsReceived,
    double UptimeSeconds);
