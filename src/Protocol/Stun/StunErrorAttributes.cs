// ERROR-CODE (RFC 8489 §14.8): 21 reserved bits | class (3 bits, 3..6) | number (8 bits, 0..99)
// | UTF-8 reason phrase (at most 763 bytes); the code is class * 100 + number.
// UNKNOWN-ATTRIBUTES (§14.9): a list of 16-bit attribute types (the value length is even).
using System.Buffers.Binary;
using System.Text;

namespace EdgeVpn.Protocol.Stun;

/// <summary>The error codes of RFC 8489 §14.8, RFC 8656 §19 and RFC 8445 §7.3.1.1.</summary>
public static class StunErrorCodes
{
    public const int TryAlternate = 300;
    public const int BadRequest = 400;
    public const int Unauthorized = 401;
    public const int Forbidden = 403;
    public const int UnknownAttribute = 420;
    public const int AllocationMismatch = 437;
    public const int StaleNonce = 438;
    public const int AddressFamilyNotSupported = 440;
    public const int WrongCredentials = 441;
    public const int UnsupportedTransportProtocol = 442;
    public const int PeerAddressFamilyMismatch = 443;
    public const int AllocationQuotaReached = 486;
    public const int RoleConflict = 487;
    public const int ServerError = 500;
    public const int InsufficientCapacity = 508;
}

public sealed record ErrorCode(int Code, string Reason) : StunAttribute
{
    public const int CodeMin = 300;
    public const int CodeMax = 699;

    public override ushort Type => StunAttributeType.ErrorCode;
    public override int ValueLength => 4 + Encoding.UTF8.GetByteCount(Reason);

    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        if (Code is < CodeMin or > CodeMax) throw new ArgumentOutOfRangeException(nameof(Code), Code, "an ERROR-CODE is 300..699");
        if (ValueLength - 4 > StunTextAttribute.TextBytesMax) throw new ArgumentException("ERROR-CODE reason too long");
        d[0] = 0;
        d[1] = 0;
        d[2] = (byte)(Code / 100);
        d[3] = (byte)(Code % 100);
        Encoding.UTF8.GetBytes(Reason, d[4..]);
    }

    internal static Core.ParseResult<StunAttribute> Parse(ReadOnlySpan<byte> v)
    {
        const ushort t = StunAttributeType.ErrorCode;
        if (v.Length < 4) return AttributeParse.Fail(t, $"value of {v.Length} bytes is shorter than 4");
        int cls = v[2] & 0x07;
        int number = v[3];
        if (cls is < 3 or > 6) return AttributeParse.Fail(t, $"class {cls} is outside 3..6");
        if (number > 99) return AttributeParse.Fail(t, $"number {number} is above 99");
        var reason = StunTextAttribute.Read(t, v[4..], StunTextAttribute.TextBytesMax);
        if (!reason.Ok) return Core.ParseResult<StunAttribute>.Fail(reason.Error!);
        return new ErrorCode(cls * 100 + number, reason.Value);
    }
}

public sealed record UnknownAttributes(IReadOnlyList<ushort> Types) : StunAttribute
{
    public override ushort Type => StunAttributeType.UnknownAttributes;
    public override int ValueLength => 2 * Types.Count;

    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        for (int i = 0; i < Types.Count; i++) BinaryPrimitives.WriteUInt16BigEndian(d[(2 * i)..], Types[i]);
    }

    internal static Core.ParseResult<StunAttribute> Parse(ReadOnlySpan<byte> v)
    {
        if (v.Length % 2 != 0) return AttributeParse.Fail(StunAttributeType.UnknownAttributes, $"odd value length {v.Length}");
        var types = new ushort[v.Length / 2];
        for (int i = 0; i < types.Length; i++) types[i] = BinaryPrimitives.ReadUInt16BigEndian(v[(2 * i)..]);
        return new UnknownAttributes(types);
    }

    public bool Equals(UnknownAttributes? other) => other is not null && Types.SequenceEqual(other.Types);
    public override int GetHashCode() => Types.Count;
}
