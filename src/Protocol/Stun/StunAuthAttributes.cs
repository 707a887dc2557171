// The authentication attributes (RFC 8489 §14.4–14.8, §14.11–14.12):
//   MESSAGE-INTEGRITY         20-byte HMAC-SHA1
//   MESSAGE-INTEGRITY-SHA256  HMAC-SHA256, 16 to 32 bytes in steps of 4 (this codec emits 32)
//   FINGERPRINT               CRC-32 of the message before it, XOR 0x5354554E
//   USERHASH                  32-byte SHA-256 of "username:realm" (parsed, never computed here)
//   PASSWORD-ALGORITHM(S)     algorithm (2) | parameters length (2) | parameters, padded to 4
// The records only carry values; StunWriter computes and StunIntegrity verifies them.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

/// <summary>Value is the HMAC-SHA1.</summary>
public sealed record MessageIntegrity(ByteString Value) : StunBytesAttribute(Value)
{
    public const int Length = 20;
    public override ushort Type => StunAttributeType.MessageIntegrity;
}

/// <summary>Value is the (possibly truncated) HMAC-SHA256.</summary>
public sealed record MessageIntegritySha256(ByteString Value) : StunBytesAttribute(Value)
{
    public const int LengthMin = 16;
    public const int LengthMax = 32;
    public override ushort Type => StunAttributeType.MessageIntegritySha256;
}

public sealed record Fingerprint(uint Value) : StunUInt32Attribute(Value)
{
    public const uint XorMask = 0x5354_554E;
    public override ushort Type => StunAttributeType.Fingerprint;
}

/// <summary>Value is SHA-256("username:realm").</summary>
public sealed record UserHash(ByteString Value) : StunBytesAttribute(Value)
{
    public const int Length = 32;
    public override ushort Type => StunAttributeType.UserHash;
}

public enum StunPasswordAlgorithm : ushort
{
    Md5 = 0x0001,
    Sha256 = 0x0002,
}

/// <summary>One algorithm with its parameters, the element of PASSWORD-ALGORITHM(S).</summary>
public readonly record struct StunPasswordAlgorithmEntry(StunPasswordAlgorithm Algorithm, ByteString Parameters)
{
    public int EncodedLength => 4 + StunMessage.Padded(Parameters.Length);

    internal void Write(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)Algorithm);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)Parameters.Length);
        Parameters.Span.CopyTo(d[4..]);
        d.Slice(4 + Parameters.Length, EncodedLength - 4 - Parameters.Length).Clear();
    }

    /// <summary>Reads one entry at the start of s; consumed is its padded length.</summary>
    internal static ParseResult<StunPasswordAlgorithmEntry> Read(ushort type, ReadOnlySpan<byte> s, out int consumed)
    {
        consumed = 0;
        if (s.Length < 4) return ParseResult<StunPasswordAlgorithmEntry>.Fail($"{AttributeParse.Label(type)}: {s.Length} bytes left, an algorithm needs 4");
        ushort algorithm = BinaryPrimitives.ReadUInt16BigEndian(s);
        int length = BinaryPrimitives.ReadUInt16BigEndian(s[2..]);
        int padded = StunMessage.Padded(length);
        if (4 + length > s.Length)
            return ParseResult<StunPasswordAlgorithmEntry>.Fail($"{AttributeParse.Label(type)}: parameters of {length} bytes overrun the value ({s.Length - 4} bytes left)");
        consumed = Math.Min(4 + padded, s.Length);
        return new StunPasswordAlgorithmEntry((StunPasswordAlgorithm)algorithm, ByteString.CopyOf(s.Slice(4, length)));
    }
}

public sealed record PasswordAlgorithm(StunPasswordAlgorithmEntry Entry) : StunAttribute
{
    public override ushort Type => StunAttributeType.PasswordAlgorithm;
    public override int ValueLength => 4 + Entry.Parameters.Length;
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)Entry.Algorithm);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)Entry.Parameters.Length);
        Entry.Parameters.Span.CopyTo(d[4..]);
    }
}

public sealed record PasswordAlgorithms(IReadOnlyList<StunPasswordAlgorithmEntry> Entries) : StunAttribute
{
    public override ushort Type => StunAttributeType.PasswordAlgorithms;
    public override int ValueLength => Entries.Sum(e => e.EncodedLength);
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        int at = 0;
        foreach (var e in Entries) { e.Write(d[at..]); at += e.EncodedLength; }
    }

    public bool Equals(PasswordAlgorithms? other) => other is not null && Entries.SequenceEqual(other.Entries);
    public override int GetHashCode() => Entries.Count;
}
