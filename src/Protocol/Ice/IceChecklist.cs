// The agent's candidate and pair records (RFC 8445 §6.1.2): local candidates with their base,
// candidate pairs with their state, and the bookkeeping each pair needs for nomination.
// Records are never removed (the checklist is bounded), so indices into the lists stay valid.
using System.Net;

namespace EdgeVpn.Protocol.Ice;

public enum IcePairState : byte
{
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

/// <summary>
/// A local candidate and its base: the address checks from it are sent from as far as the peer's
/// pairs are concerned. Host: itself. Srflx and prflx: the host base. Relayed: the relayed
/// address itself (datagrams actually leave through the TURN allocation's socket).
/// </summary>
internal sealed class LocalCandidateRecord(IceCandidate candidate, IPEndPoint @base)
{
    public IceCandidate Candidate { get; } = candidate;
    public IPEndPoint Base { get; } = @base;
    /// <summary>Checks are sent from host and relayed candidates only; srflx pairs are pruned to their base.</summary>
    public bool Pairs => Candidate.Type is IceCandidateType.Host or IceCandidateType.Relayed;
}

internal sealed class IcePair(int local, int remote, string foundation)
{
    public int Local { get; } = local;
    public int Remote { get; } = remote;
    public string Foundation { get; } = foundation;
    public ulong Priority { get; set; }
    public IcePairState State { get; set; } = IcePairState.Frozen;
    /// <summary>The local candidate the peer saw (the check's mapped address), once succeeded.</summary>
    public int ValidLocal { get; set; } = -1;
    public TimeSpan Rtt { get; set; }
    /// <summary>Controlling: the next check of this pair carries USE-CANDIDATE.</summary>
    public bool UseCandidate { get; set; }
    /// <summary>Controlled: the peer sent USE-CANDIDATE on this pair; it is selected once it succeeds.</summary>
    public bool NominatedByPeer { get; set; }
    public bool InTriggeredQueue { get; set; }
}
