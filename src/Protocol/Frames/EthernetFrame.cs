// An Ethernet II frame as a tap device delivers it (no preamble, no FCS):
//   dst MAC (6) | src MAC (6) | EtherType (2, big-endian) | payload
// with at most one IEEE 802.1Q tag (0x8100, TCI (2)) before the EtherType, which the parser
// records and skips. Contract: Parse never throws on any input; frames shorter than the 14-byte
// header or longer than lengthMax (default 9018: a 9000-byte jumbo payload plus header and tag)
// are errors. The payload is a slice of the input, not a copy. No minimum-size padding is
// required or added (taps deliver unpadded frames).
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Frames;

public readonly struct EthernetFrame
{
    public const int HeaderLength = 14;
    public const int VlanTagLength = 4;
    public const int DefaultLengthMax = 9018;
    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeIpv6 = 0x86DD;
    /// <summary>EdgeVPN's bounded-flood EtherType.</summary>
    public const ushort EtherTypeFlood = 0xC0C0;

    public MacAddress Destination { get; }
    public MacAddress Source { get; }
    /// <summary>The EtherType after any 802.1Q tag.</summary>
    public ushort EtherType { get; }
    /// <summary>The 802.1Q tag control information, or null when untagged.</summary>
    public ushort? VlanTci { get; }
    public ReadOnlyMemory<byte> Payload { get; }

    public EthernetFrame(MacAddress destination, MacAddress source, ushort etherType, ReadOnlyMemory<byte> payload, ushort? vlanTci = null)
    {
        Destination = destination;
        Source = source;
        EtherType = etherType;
        Payload = payload;
        VlanTci = vlanTci;
    }

    public int EncodedLength => HeaderLength + (VlanTci is null ? 0 : VlanTagLength) + Payload.Length;

    public static ParseResult<EthernetFrame> Parse(ReadOnlyMemory<byte> bytes, int lengthMax = DefaultLengthMax)
    {
        var s = bytes.Span;
        if (s.Length < HeaderLength) return ParseResult<EthernetFrame>.Fail($"ethernet frame of {s.Length} bytes is shorter than its {HeaderLength}-byte header");
        if (s.Length > lengthMax) return ParseResult<EthernetFrame>.Fail($"ethernet frame of {s.Length} bytes is longer than {lengthMax}");
        var dst = MacAddress.Read(s);
        var src = MacAddress.Read(s[6..]);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(s[12..]);
        if (type != EtherTypeVlan) return new EthernetFrame(dst, src, type, bytes[HeaderLength..]);
        if (s.Length < HeaderLength + VlanTagLength) return ParseResult<EthernetFrame>.Fail($"802.1Q-tagged frame of {s.Length} bytes is shorter than its 18-byte header");
        ushort tci = BinaryPrimitives.ReadUInt16BigEndian(s[14..]);
        ushort inner = BinaryPrimitives.ReadUInt16BigEndian(s[16..]);
        return new EthernetFrame(dst, src, inner, bytes[(HeaderLength + VlanTagLength)..], tci);
    }

    /// <summary>Reads only the two addresses; false when the span is shorter than a header. Never throws.</summary>
    public static bool TryReadAddresses(ReadOnlySpan<byte> frame, out MacAddress destination, out MacAddress source)
    {
        if (frame.Length < HeaderLength) { destination = default; source = default; return false; }
        destination = MacAddress.Read(frame);
        source = MacAddress.Read(frame[6..]);
        return true;
    }

    /// <summary>Writes the frame into dest (at least EncodedLength bytes); returns the bytes written.</summary>
    public int WriteTo(Span<byte> dest)
    {
        Destination.Write(dest);
        Source.Write(dest[6..]);
        int at = 12;
        if (VlanTci is { } tci)
        {
            BinaryPrimitives.WriteUInt16BigEndian(dest[at..], EtherTypeVlan);
            BinaryPrimitives.WriteUInt16BigEndian(dest[(at + 2)..], tci);
            at += VlanTagLength;
        }
        BinaryPrimitives.WriteUInt16BigEndian(dest[at..], EtherType);
        at += 2;
        Payload.Span.CopyTo(dest[at..]);
        return at + Payload.Length;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        WriteTo(bytes);
        return bytes;
    }

    public static byte[] Build(MacAddress destination, MacAddress source, ushort etherType, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[HeaderLength + payload.Length];
        destination.Write(bytes);
        source.Write(bytes.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), etherType);
        payload.CopyTo(bytes.AsSpan(HeaderLength));
        return bytes;
    }

    public override string ToString() =>
        $"{Source} > {Destination} type 0x{EtherType:x4}{(VlanTci is { } t ? $" vlan {t & 0xFFF}" : "")} len {Payload.Length}";
}
