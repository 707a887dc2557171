// The TURN attributes of RFC 8656 §18 (XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS are with the
// other address attributes):
//   CHANNEL-NUMBER            number (2) | reserved (2)
//   LIFETIME                  seconds (4)
//   DATA                      the payload, any length (padded on the wire)
//   REQUESTED-ADDRESS-FAMILY  family (1: 1 = IPv4, 2 = IPv6) | reserved (3)
//   ADDITIONAL-ADDRESS-FAMILY same layout, family must be IPv6
//   EVEN-PORT                 R bit (top bit of 1 byte): also reserve the next port
//   REQUESTED-TRANSPORT       protocol (1: 17 = UDP) | reserved (3)
//   DONT-FRAGMENT             empty
//   RESERVATION-TOKEN         token (8)
//   ICMP                      reserved (2) | ICMP type (1) | ICMP code (1) | error data (4)
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public enum StunAddressFamily : byte
{
    Ipv4 = 1,
    Ipv6 = 2,
}

public sealed record ChannelNumber(ushort Number) : StunAttribute
{
    public override ushort Type => StunAttributeType.ChannelNumber;
    public override int ValueLength => 4;
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, Number);
        d.Slice(2, 2).Clear();
    }
}

/// <summary>Value is the allocation's lifetime in seconds.</summary>
public sealed record Lifetime(uint Value) : StunUInt32Attribute(Value)
{
    public override ushort Type => StunAttributeType.Lifetime;
}

/// <summary>Value is the application payload.</summary>
public sealed record Data(ByteString Value) : StunBytesAttribute(Value)
{
    public override ushort Type => StunAttributeType.Data;
}

public abstract record StunFamilyAttribute(StunAddressFamily Family) : StunAttribute
{
    public override int ValueLength => 4;
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        d[0] = (byte)Family;
        d.Slice(1, 3).Clear();
    }
}

public sealed record RequestedAddressFamily(StunAddressFamily Family) : StunFamilyAttribute(Family)
{
    public override ushort Type => StunAttributeType.RequestedAddressFamily;
}

public sealed record AdditionalAddressFamily(StunAddressFamily Family) : StunFamilyAttribute(Family)
{
    public override ushort Type => StunAttributeType.AdditionalAddressFamily;
}

public sealed record EvenPort(bool ReserveNextPort) : StunAttribute
{
    public override ushort Type => StunAttributeType.EvenPort;
    public override int ValueLength => 1;
    public override void WriteValue(Span<byte> d, StunTransactionId tid) => d[0] = ReserveNextPort ? (byte)0x80 : (byte)0;
}

public sealed record RequestedTransport(byte Protocol) : StunAttribute
{
    public const byte Udp = 17;
    public override ushort Type => StunAttributeType.RequestedTransport;
    public override int ValueLength => 4;
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        d[0] = Protocol;
        d.Slice(1, 3).Clear();
    }
}

public sealed record DontFragment : StunFlagAttribute
{
    public static readonly DontFragment Instance = new();
    public override ushort Type => StunAttributeType.DontFragment;
}

public sealed record ReservationToken(ulong Value) : StunUInt64Attribute(Value)
{
    public override ushort Type => StunAttributeType.ReservationToken;
}

public sealed record Icmp(byte IcmpType, byte IcmpCode, uint ErrorData) : StunAttribute
{
    public override ushort Type => StunAttributeType.Icmp;
    public override int ValueLength => 8;
    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        d[0] = 0;
        d[1] = 0;
        d[2] = IcmpType;
        d[3] = IcmpCode;
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], ErrorData);
    }
}

internal static class TurnFamily
{
    public static ParseResult<StunAddressFamily> Read(ushort type, ReadOnlySpan<byte> v, bool ipv6Only)
    {
        if (AttributeParse.ExpectLength(type, v, 4) is { } e) return ParseResult<StunAddressFamily>.Fail(e);
        byte f = v[0];
        if (f != (byte)StunAddressFamily.Ipv6 && (ipv6Only || f != (byte)StunAddressFamily.Ipv4))
            return ParseResult<StunAddressFamily>.Fail($"{AttributeParse.Label(type)}: bad address family {f}");
        return (StunAddressFamily)f;
    }
}
