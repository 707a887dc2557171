// The ICE attributes (RFC 8445 §7.1.1, §16.1): PRIORITY (32-bit priority of the candidate a
// check would learn as peer-reflexive), USE-CANDIDATE (empty; nominates the pair), and
// ICE-CONTROLLED / ICE-CONTROLLING (the sender's role and its 64-bit tie-breaker); and NOMINATION
// (draft-thatcher-ice-renomination-01: a 24-bit number in the low three bytes, the top byte
// reserved and ignored), which orders the controlling agent's nominations.
namespace EdgeVpn.Protocol.Stun;

public sealed record Priority(uint Value) : StunUInt32Attribute(Value)
{
    public override ushort Type => StunAttributeType.Priority;
}

public sealed record UseCandidate : StunFlagAttribute
{
    public static readonly UseCandidate Instance = new();
    public override ushort Type => StunAttributeType.UseCandidate;
}

/// <summary>The sender is controlled; Value is its tie-breaker.</summary>
public sealed record IceControlled(ulong Value) : StunUInt64Attribute(Value)
{
    public override ushort Type => StunAttributeType.IceControlled;
}

/// <summary>The sender is controlling; Value is its tie-breaker.</summary>
public sealed record IceControlling(ulong Value) : StunUInt64Attribute(Value)
{
    public override ushort Type => StunAttributeType.IceControlling;
}

/// <summary>Which nomination this is: the controlling agent numbers its nominating checks 1, 2, ...
/// and the controlled agent follows the highest number it has seen, so a late copy of an earlier
/// nomination cannot undo a later one.</summary>
public sealed record Nomination(uint Value) : StunUInt32Attribute(Value & ValueMax)
{
    /// <summary>The largest value the attribute carries (24 bits).</summary>
    public const uint ValueMax = 0xFFFFFF;
    public override ushort Type => StunAttributeType.Nomination;
}
