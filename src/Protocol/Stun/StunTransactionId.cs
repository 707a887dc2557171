// The 96-bit STUN transaction id (RFC 8489 §5), kept as the low 96 bits of a UInt128 so that it
// is a cheap value key for matching responses to requests. Wire order is big-endian.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public readonly record struct StunTransactionId
{
    public const int Length = 12;
    private static readonly UInt128 Mask = (UInt128.One << 96) - 1;

    public UInt128 Value { get; }

    public StunTransactionId(UInt128 value) => Value = value & Mask;

    /// <summary>A fresh id drawn from the caller's seeded generator.</summary>
    public static StunTransactionId Random(DeterministicRandom rng) =>
        new(new UInt128(rng.NextUInt64() & 0xFFFF_FFFF, rng.NextUInt64()));

    public static StunTransactionId Read(ReadOnlySpan<byte> s) =>
        new(new UInt128(BinaryPrimitives.ReadUInt32BigEndian(s), BinaryPrimitives.ReadUInt64BigEndian(s[4..])));

    public void Write(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, (uint)(Value >> 64));
        BinaryPrimitives.WriteUInt64BigEndian(d[4..], (ulong)Value);
    }

    public override string ToString() => $"{(uint)(Value >> 64):x8}{(ulong)Value:x16}";
}
