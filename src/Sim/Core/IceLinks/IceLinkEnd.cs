// One end of one link in `--links ice` mode: the node's real ICE agent (src/Protocol/Ice) bound
// to one UDP port of the node's fabric host, and what the simulator tracks about it (the agent's
// next wake-up, when it started and was given the peer's candidates, whether it connected and
// over which kind of pair). An end lives from the node's PrepareEndpoint until the link is closed
// at this end or the node crashes; Closed is set then, so events still queued for it are ignored.
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Sim.Net;

namespace EdgeVpn.Sim.IceLinks;

internal sealed class IceLinkEnd(int node, int peer, ulong link, IceRole role, IceAgent agent, Ip4Endpoint @base, long preparedAtNs)
{
    public readonly int Node = node;
    public readonly int Peer = peer;
    public readonly ulong Link = link;
    public readonly IceRole Role = role;
    public readonly IceAgent Agent = agent;
    public readonly Ip4Endpoint Base = @base;
    public readonly long PreparedAtNs = preparedAtNs;
    /// <summary>The agent's pending wake-up (long.MaxValue: none); an IceWake for another instant is stale.</summary>
    public long NextWakeNs = long.MaxValue;
    /// <summary>When the peer's candidates were given to the agent (-1: not yet).</summary>
    public long ConnectAtNs = -1;
    public bool Connected;
    public bool Relayed;
    /// <summary>The DTLS handshake over the selected pair, started at the agent's Connected (flights
    /// heard before are kept until then).</summary>
    public readonly DtlsFlights Dtls = new(client: role == IceRole.Controlling);
    /// <summary>The handshake's end (done or failed) has been noticed.</summary>
    public bool DtlsReported;
    /// <summary>The link's setup outcome has been counted (once per link, by its controlling end).</summary>
    public bool OutcomeRecorded;
    public bool Closed;
}

internal enum IceNoticeKind : byte
{
    /// <summary>Gathering finished: Endpoint holds the RFC 8839 lines for the link-setup signaling.</summary>
    EndpointReady,
    /// <summary>The agent selected a pair (nominated, or nominated by the peer) and the DTLS handshake
    /// over it finished at this end.</summary>
    Connected,
    /// <summary>The agent gave up before connecting (checks exhausted or its connect timeout).</summary>
    Failed,
    /// <summary>RFC 7675: no consent response for the consent timeout on a connected pair.</summary>
    ConsentLost,
    /// <summary>The DTLS handshake did not finish within its timeout (the link manager's setup
    /// timeout then gives the link up, as the real node's does).</summary>
    DtlsFailed,
}

/// <summary>What an agent told its host, delivered to the node as an IceNotify event (never re-entrantly).</summary>
internal sealed record IceNotice(IceLinkEnd End, IceNoticeKind Kind, string? Endpoint = null);
