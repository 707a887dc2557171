// A decoded STUN attribute: one sealed record per known type (in the Stun*Attributes and
// Ice/TurnAttributes files), UnknownAttribute for the rest. Every record knows its type number,
// the length of its value (before the padding to 4 bytes) and how to write that value; the
// transaction id is passed in because the XOR-address attributes mix it into their value.
// Records compare by value (byte payloads are ByteString), so an encode/decode round trip can be
// checked with plain equality.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public abstract record StunAttribute
{
    public abstract ushort Type { get; }
    public abstract int ValueLength { get; }
    public abstract void WriteValue(Span<byte> destination, StunTransactionId transactionId);

    public bool IsComprehensionRequired => StunAttributeType.IsComprehensionRequired(Type);
}

// The value shapes most attributes share; a concrete record only names its type.

/// <summary>A value that is opaque bytes.</summary>
public abstract record StunBytesAttribute(ByteString Value) : StunAttribute
{
    public override int ValueLength => Value.Length;
    public override void WriteValue(Span<byte> d, StunTransactionId tid) => Value.Span.CopyTo(d);
}

/// <summary>A value that is one big-endian 32-bit number.</summary>
public abstract record StunUInt32Attribute(uint Value) : StunAttribute
{
    public override int ValueLength => 4;
    public override void WriteValue(Span<byte> d, StunTransactionId tid) => BinaryPrimitives.WriteUInt32BigEndian(d, Value);
}

/// <summary>A value that is one big-endian 64-bit number.</summary>
public abstract record StunUInt64Attribute(ulong Value) : StunAttribute
{
    public override int ValueLength => 8;
    public override void WriteValue(Span<byte> d, StunTransactionId tid) => BinaryPrimitives.WriteUInt64BigEndian(d, Value);
}

/// <summary>An empty value: the attribute's presence is the information.</summary>
public abstract record StunFlagAttribute : StunAttribute
{
    public override int ValueLength => 0;
    public override void WriteValue(Span<byte> d, StunTransactionId tid) { }
}

/// <summary>An attribute this codec does not decode; its value is kept verbatim.</summary>
public sealed record UnknownAttribute(ushort RawType, ByteString Value) : StunBytesAttribute(Value)
{
    public override ushort Type => RawType;
}

/// <summary>Helpers shared by the attribute records' parsers.</summary>
internal static class AttributeParse
{
    public static string Label(ushort type) => $"{StunAttributeType.Name(type)} (0x{type:x4})";

    public static string? ExpectLength(ushort type, ReadOnlySpan<byte> v, int length) =>
        v.Length == length ? null : $"{Label(type)} value of {v.Length} bytes, expected {length}";

    public static ParseResult<StunAttribute> Fail(ushort type, string problem) =>
        ParseResult<StunAttribute>.Fail($"{Label(type)}: {problem}");
}
