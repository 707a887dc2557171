// One outstanding STUN client transaction of the agent (RFC 8489 §6.2.1 over UDP): the request
// is sent, then resent after RTO, 2 RTO, 4 RTO... up to TransmitsMax transmissions; after the last
// the agent waits LastWaitFactor x RTO for a response and then the transaction times out.
// Payload is the STUN request itself; Base and To are the logical path (for a relayed base the
// datagram is wrapped for the TURN server on every transmission).
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

internal enum IceTransactionKind : byte
{
    ServerReflexive,
    Turn,
    Check,
    Consent,
}

internal sealed class IceTransaction
{
    public required StunTransactionId Id { get; init; }
    public required IceTransactionKind Kind { get; init; }
    public required IPEndPoint Base { get; init; }
    public required IPEndPoint To { get; init; }
    public required byte[] Payload { get; init; }
    public required int TransmitsMax { get; init; }
    public Instant FirstSentAt { get; set; }
    public Instant LastSentAt { get; set; }
    public Instant Deadline { get; set; }
    public TimeSpan Rto { get; set; }
    public int Transmits { get; set; }

    // Check and Consent
    public int Pair { get; init; } = -1;
    public bool UseCandidate { get; init; }
    public uint PrflxPriority { get; init; }
    /// <summary>The role the request claimed: a 487 answer means take the other one.</summary>
    public bool SentControlling { get; init; }

    // Turn: the request without its authentication attributes, rebuilt on 401 / 438.
    public StunMethod Method { get; init; }
    public StunAttribute[] TurnAttributes { get; init; } = [];
    public int AuthRetries { get; init; }

    /// <summary>The round-trip time, taking the last transmission when there were retransmissions (Karn).</summary>
    public TimeSpan RttAt(Instant now) => now - LastSentAt;
}
