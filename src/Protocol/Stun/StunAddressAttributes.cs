// The address attributes (RFC 8489 §14.1, §14.2, §14.15; RFC 8656 §18.3, §18.5):
//   0 (ignored) | family (1 = IPv4, 2 = IPv6) | port (2) | address (4 or 16)
// The XOR forms XOR the port with the top 16 bits of the magic cookie and the address with the
// cookie (IPv4) or the cookie followed by the transaction id (IPv6), so that NATs rewriting
// addresses found inside payloads do not corrupt them. Parsing checks that the length matches
// the family exactly.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public abstract record StunAddressAttribute(IPEndPoint EndPoint) : StunAttribute
{
    public const byte FamilyIpv4 = 1;
    public const byte FamilyIpv6 = 2;

    protected abstract bool Xored { get; }

    public override int ValueLength => EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? 20 : 8;

    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        bool v6 = EndPoint.AddressFamily == AddressFamily.InterNetworkV6;
        d[0] = 0;
        d[1] = v6 ? FamilyIpv6 : FamilyIpv4;
        ushort port = (ushort)EndPoint.Port;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], Xored ? (ushort)(port ^ (StunMessage.MagicCookie >> 16)) : port);
        var address = d.Slice(4, v6 ? 16 : 4);
        if (!EndPoint.Address.TryWriteBytes(address, out _))
            throw new ArgumentException($"address {EndPoint.Address} does not fit its family");
        if (Xored) XorAddress(address, tid);
    }

    /// <summary>Reads the value of an address attribute of the given type.</summary>
    internal static ParseResult<IPEndPoint> Read(ushort type, ReadOnlySpan<byte> v, bool xored, StunTransactionId tid)
    {
        string label = AttributeParse.Label(type);
        if (v.Length < 4) return ParseResult<IPEndPoint>.Fail($"{label}: value of {v.Length} bytes is shorter than 4");
        byte family = v[1];
        int addressLength = family switch { FamilyIpv4 => 4, FamilyIpv6 => 16, _ => -1 };
        if (addressLength < 0) return ParseResult<IPEndPoint>.Fail($"{label}: bad address family {family} (expected 1 or 2)");
        if (v.Length != 4 + addressLength)
            return ParseResult<IPEndPoint>.Fail($"{label}: family {family} needs a value of {4 + addressLength} bytes, got {v.Length}");
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(v[2..]);
        Span<byte> address = stackalloc byte[addressLength];
        v.Slice(4, addressLength).CopyTo(address);
        if (xored)
        {
            port ^= (ushort)(StunMessage.MagicCookie >> 16);
            XorAddress(address, tid);
        }
        return new IPEndPoint(new IPAddress(address), port);
    }

    private static void XorAddress(Span<byte> address, StunTransactionId tid)
    {
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, StunMessage.MagicCookie);
        tid.Write(mask[4..]);
        for (int i = 0; i < address.Length; i++) address[i] ^= mask[i];
    }
}

public sealed record MappedAddress(IPEndPoint EndPoint) : StunAddressAttribute(EndPoint)
{
    public override ushort Type => StunAttributeType.MappedAddress;
    protected override bool Xored => false;
}

public sealed record XorMappedAddress(IPEndPoint EndPoint) : StunAddressAttribute(EndPoint)
{
    public override ushort Type => StunAttributeType.XorMappedAddress;
    protected override bool Xored => true;
}

public sealed record AlternateServer(IPEndPoint EndPoint) : StunAddressAttribute(EndPoint)
{
    public override ushort Type => StunAttributeType.AlternateServer;
    protected override bool Xored => false;
}

public sealed record XorPeerAddress(IPEndPoint EndPoint) : StunAddressAttribute(EndPoint)
{
    public override ushort Type => StunAttributeType.XorPeerAddress;
    protected override bool Xored => true;
}

public sealed record XorRelayedAddress(IPEndPoint EndPoint) : StunAddressAttribute(EndPoint)
{
    public override ushort Type => StunAttributeType.XorRelayedAddress;
    protected override bool Xored => true;
}
