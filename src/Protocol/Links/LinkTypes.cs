// Vocabulary shared by the link lifecycle (LinkManager), the topology and the hosts.
namespace EdgeVpn.Protocol.Links;

/// <summary>Why the initiator wants a link (EdgeVPN's CETypeSuccessor / LongDistance / OnDemand).</summary>
public enum LinkKind : byte { Successor, LongDistance, OnDemand }

/// <summary>ICE role of this end: the initiator controls, the responder is controlled.</summary>
public enum IceRole : byte { Controlling, Controlled }

/// <summary>Lifecycle states; a link record is deleted when it leaves Connected or fails.</summary>
public enum LinkState : byte
{
    /// <summary>Initiator: request sent, waiting for the response.</summary>
    Requested,
    /// <summary>Either side: the host is preparing this end (ICE agent, candidates, certificate).</summary>
    Preparing,
    /// <summary>Responder: response sent with its endpoint, waiting for the initiator's completion.</summary>
    Responded,
    /// <summary>Both ends' data exchanged: the transport (ICE + DTLS) is connecting.</summary>
    Connecting,
    /// <summary>Transport up; frames flow.</summary>
    Connected,
}

/// <summary>A responder's answer code. None means accepted.</summary>
public enum LinkRefusal : byte
{
    None,
    /// <summary>Both sides asked at once and this side has the lower id (its own request wins).</summary>
    Collision,
    /// <summary>The target already holds 2 * LongLinksMax incoming long links (Symphony).</summary>
    TooManyIncomingLong,
    /// <summary>The target holds IncomingMax incoming links of any kind.</summary>
    TooManyIncoming,
    /// <summary>The target does not serve this overlay or is leaving.</summary>
    NotAccepting,
    /// <summary>The target excludes the requester (recent failures, back-off).</summary>
    Excluded,
}

/// <summary>Why a link that never came up was given up.</summary>
public enum LinkFailure : byte
{
    Refused,
    SetupTimeout,
    TransportFailed,
    /// <summary>Abandoned by this side (close requested, collision lost, replaced).</summary>
    Abandoned,
    /// <summary>Not attempted: the peer is in back-off.</summary>
    PeerExcluded,
}

/// <summary>Why a connected link went away.</summary>
public enum LinkRemoval : byte
{
    ClosedLocally,
    ClosedByPeer,
    Dead,
    Replaced,
}
