// The bounded-flood wire format (EdgeVPN's EtherType 0xC0C0). One flood packet is one Ethernet
// frame; all integers big-endian; node ids are 16 bytes, most significant byte first:
//
//   offset  size  field
//        0     6  destination MAC   ff:ff:ff:ff:ff:ff (the flood is link-local broadcast)
//        6     6  source MAC        the forwarding node's MAC
//       12     2  EtherType         0xC0C0
//       14     1  version           1
//       15    16  root              the node id that originated the flood
//       31    16  bound             the receiver forwards only inside the arc (receiver, bound)
//       47     1  hop count         links traversed so far, 1..HopsMax (the originator sends 1)
//       48     2  payload length    the inner frame's length, = frame length - 50
//       50     n  payload           the inner Ethernet frame (14..InnerLengthMax bytes)
//
// Contract: Parse never throws on any input; it rejects a wrong EtherType, truncated input, a
// version other than 1, a hop count of 0 or above hopsMax, a payload length that disagrees with
// the bytes present, and an inner frame shorter than an Ethernet header or longer than
// innerLengthMax. The parsed payload is a slice of the input (no copy).
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flood;

public readonly record struct FloodHeader(NodeId Root, NodeId Bound, byte Hops);

public readonly record struct FloodPacket(MacAddress Source, FloodHeader Header, ReadOnlyMemory<byte> Inner)
{
    public const byte Version = 1;
    public const int HeaderLength = 50;
    public const int DefaultHopsMax = 64;
    public const int DefaultInnerLengthMax = EthernetFrame.DefaultLengthMax;

    public static int EncodedLength(int innerLength) => HeaderLength + innerLength;

    /// <summary>Encodes into dest (at least EncodedLength(inner.Length) bytes); returns the bytes written.</summary>
    public static int Encode(Span<byte> dest, MacAddress source, in FloodHeader header, ReadOnlySpan<byte> inner)
    {
        if (inner.Length > ushort.MaxValue) throw new ArgumentException("inner frame longer than 65535 bytes", nameof(inner));
        MacAddress.Broadcast.Write(dest);
        source.Write(dest[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(dest[12..], EthernetFrame.EtherTypeFlood);
        dest[14] = Version;
        WriteId(dest[15..], header.Root);
        WriteId(dest[31..], header.Bound);
        dest[47] = header.Hops;
        BinaryPrimitives.WriteUInt16BigEndian(dest[48..], (ushort)inner.Length);
        inner.CopyTo(dest[HeaderLength..]);
        return HeaderLength + inner.Length;
    }

    public static byte[] Encode(MacAddress source, in FloodHeader header, ReadOnlySpan<byte> inner)
    {
        var bytes = new byte[HeaderLength + inner.Length];
        Encode(bytes, source, header, inner);
        return bytes;
    }

    public byte[] ToArray() => Encode(Source, Header, Inner.Span);

    public static ParseResult<FloodPacket> Parse(ReadOnlyMemory<byte> bytes, int hopsMax = DefaultHopsMax, int innerLengthMax = DefaultInnerLengthMax)
    {
        var s = bytes.Span;
        if (s.Length < HeaderLength) return Fail($"flood frame of {s.Length} bytes is shorter than its {HeaderLength}-byte header");
        if (s.Length > HeaderLength + innerLengthMax) return Fail($"flood frame of {s.Length} bytes is longer than {HeaderLength + innerLengthMax}");
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(s[12..]);
        if (type != EthernetFrame.EtherTypeFlood) return Fail($"ethertype 0x{type:x4} is not the flood's 0xc0c0");
        if (s[14] != Version) return Fail($"flood version {s[14]} is not {Version}");
        byte hops = s[47];
        if (hops == 0) return Fail("flood hop count is 0");
        if (hops > hopsMax) return Fail($"flood hop count {hops} is above {hopsMax}");
        int length = BinaryPrimitives.ReadUInt16BigEndian(s[48..]);
        if (length != s.Length - HeaderLength) return Fail($"flood payload length {length} disagrees with the {s.Length - HeaderLength} bytes present");
        if (length < EthernetFrame.HeaderLength) return Fail($"flood payload of {length} bytes is shorter than an Ethernet header");
        if (length > innerLengthMax) return Fail($"flood payload of {length} bytes is longer than {innerLengthMax}");
        var header = new FloodHeader(ReadId(s[15..]), ReadId(s[31..]), hops);
        return new FloodPacket(MacAddress.Read(s[6..]), header, bytes[HeaderLength..]);
    }

    private static ParseResult<FloodPacket> Fail(string error) => ParseResult<FloodPacket>.Fail(error);

    private static void WriteId(Span<byte> d, NodeId id)
    {
        BinaryPrimitives.WriteUInt64BigEndian(d, id.Upper);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], id.Lower);
    }

    private static NodeId ReadId(ReadOnlySpan<byte> s) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(s), BinaryPrimitives.ReadUInt64BigEndian(s[8..]));
}
