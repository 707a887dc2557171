// An ARP packet (RFC 826) for Ethernet and IPv4 only, the 28 bytes after the Ethernet header:
//   htype (2) = 1 | ptype (2) = 0x0800 | hlen (1) = 6 | plen (1) = 4 | op (2) = 1 request, 2 reply
//   | sender MAC (6) | sender IPv4 (4) | target MAC (6) | target IPv4 (4)
// Contract: Parse never throws; any other hardware/protocol type, address length or operation, or
// fewer than 28 bytes, is an error. Trailing bytes (Ethernet minimum-size padding) are ignored.
// IPv4 addresses are uint in network order (a.b.c.d = a<<24 | b<<16 | c<<8 | d).
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Frames;

public enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
}

public readonly record struct ArpPacket(ArpOperation Operation, MacAddress SenderMac, uint SenderIp, MacAddress TargetMac, uint TargetIp)
{
    public const int Length = 28;
    public const ushort HardwareTypeEthernet = 1;

    public static ParseResult<ArpPacket> Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < Length) return ParseResult<ArpPacket>.Fail($"arp packet of {s.Length} bytes is shorter than {Length}");
        ushort htype = BinaryPrimitives.ReadUInt16BigEndian(s);
        if (htype != HardwareTypeEthernet) return ParseResult<ArpPacket>.Fail($"arp hardware type {htype} is not Ethernet (1)");
        ushort ptype = BinaryPrimitives.ReadUInt16BigEndian(s[2..]);
        if (ptype != EthernetFrame.EtherTypeIpv4) return ParseResult<ArpPacket>.Fail($"arp protocol type 0x{ptype:x4} is not IPv4 (0x0800)");
        if (s[4] != MacAddress.Length) return ParseResult<ArpPacket>.Fail($"arp hardware address length {s[4]} is not 6");
        if (s[5] != 4) return ParseResult<ArpPacket>.Fail($"arp protocol address length {s[5]} is not 4");
        ushort op = BinaryPrimitives.ReadUInt16BigEndian(s[6..]);
        if (op != (ushort)ArpOperation.Request && op != (ushort)ArpOperation.Reply)
            return ParseResult<ArpPacket>.Fail($"arp operation {op} is neither request (1) nor reply (2)");
        return new ArpPacket(
            (ArpOperation)op,
            MacAddress.Read(s[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[14..]),
            MacAddress.Read(s[18..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[24..]));
    }

    /// <summary>Parses the ARP packet inside an Ethernet frame; errors when the EtherType is not ARP.</summary>
    public static ParseResult<ArpPacket> FromFrame(in EthernetFrame frame) =>
        frame.EtherType == EthernetFrame.EtherTypeArp
            ? Parse(frame.Payload.Span)
            : ParseResult<ArpPacket>.Fail($"ethertype 0x{frame.EtherType:x4} is not ARP");

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], EthernetFrame.EtherTypeIpv4);
        d[4] = MacAddress.Length;
        d[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], (ushort)Operation);
        SenderMac.Write(d[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[14..], SenderIp);
        TargetMac.Write(d[18..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[24..], TargetIp);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>The whole Ethernet frame: requests go to broadcast, replies to the target MAC.</summary>
    public byte[] ToFrame()
    {
        var dst = Operation == ArpOperation.Request ? MacAddress.Broadcast : TargetMac;
        var bytes = new byte[EthernetFrame.HeaderLength + Length];
        dst.Write(bytes);
        SenderMac.Write(bytes.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), EthernetFrame.EtherTypeArp);
        WriteTo(bytes.AsSpan(EthernetFrame.HeaderLength));
        return bytes;
    }

    public static string FormatIpv4(uint ip) => $"{ip >> 24}.{(ip >> 16) & 0xFF}.{(ip >> 8) & 0xFF}.{ip & 0xFF}";

    public static uint Ipv4(byte a, byte b, byte c, byte d) => ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    public override string ToString() =>
        $"arp {Operation} {SenderMac} {FormatIpv4(SenderIp)} -> {TargetMac} {FormatIpv4(TargetIp)}";
}
