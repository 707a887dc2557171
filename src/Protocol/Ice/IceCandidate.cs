// ICE candidates (RFC 8445 §5.1) for one component over UDP: type, transport address, priority
// and foundation. Priority = 2^24 * type preference + 2^8 * local preference + (256 - component
// id), with the RFC's recommended type preferences host 126, peer-reflexive 110,
// server-reflexive 100, relayed 0. RelatedAddress is the base (srflx) or the mapped address
// (relayed), informational only. IcePathKind names what a selected pair goes through.
using System.Net;

namespace EdgeVpn.Protocol.Ice;

public enum IceCandidateType : byte
{
    Host,
    ServerReflexive,
    PeerReflexive,
    Relayed,
}

/// <summary>What the selected pair's path goes through: the "most indirect" of its two candidates.</summary>
public enum IcePathKind : byte
{
    Host,
    ServerReflexive,
    PeerReflexive,
    Relayed,
}

public sealed record IceCandidate(string Foundation, uint Priority, IPEndPoint Address, IceCandidateType Type, IPEndPoint? RelatedAddress = null)
{
    public const int ComponentId = 1;
    public const int FoundationLengthMax = 32;

    public static int TypePreference(IceCandidateType type) => type switch
    {
        IceCandidateType.Host => 126,
        IceCandidateType.PeerReflexive => 110,
        IceCandidateType.ServerReflexive => 100,
        _ => 0,
    };

    public static uint ComputePriority(IceCandidateType type, ushort localPreference) =>
        ((uint)TypePreference(type) << 24) + ((uint)localPreference << 8) + (uint)(256 - ComponentId);

    /// <summary>The local preference part of a priority (bits 8..23).</summary>
    public static ushort LocalPreferenceOf(uint priority) => (ushort)(priority >> 8);

    /// <summary>RFC 8445 §6.1.2.3: G is the controlling agent's candidate priority, D the controlled's.</summary>
    public static ulong PairPriority(uint controlling, uint controlled) =>
        ((ulong)Math.Min(controlling, controlled) << 32) + 2UL * Math.Max(controlling, controlled) + (controlling > controlled ? 1UL : 0UL);

    /// <summary>The more indirect of the two types (the enums are both ordered host, srflx, prflx, relayed).</summary>
    public static IcePathKind PathKind(IceCandidateType local, IceCandidateType remote) =>
        (IcePathKind)Math.Max((int)local, (int)remote);

    public override string ToString() => $"{Type} {Address} prio {Priority} fnd {Foundation}";
}
