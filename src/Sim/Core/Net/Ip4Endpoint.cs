// An IPv4 transport address packed into integers: the address as a uint in network order read
// as a number (10.0.0.1 = 0x0A000001) and the UDP port. The virtual UDP fabric and the NAT boxes
// work on these so that routing a packet allocates nothing; IPEndPoint conversions sit at the
// edge, where the ICE agent's datagrams come in and go out. Only IPv4 is modelled: TryFrom
// refuses any other address family instead of guessing.
using System.Net;
using System.Net.Sockets;

namespace EdgeVpn.Sim.Net;

public readonly record struct Ip4Endpoint(uint Address, ushort Port) : IComparable<Ip4Endpoint>
{
    /// <summary>Address in the high 32 bits, port in the low 16: a unique key per endpoint.</summary>
    public ulong Packed => ((ulong)Address << 16) | Port;

    public static Ip4Endpoint FromPacked(ulong packed) => new((uint)(packed >> 16), (ushort)packed);

    public static Ip4Endpoint Of(string address, ushort port) => new(Ip4.Parse(address), port);

    public IPEndPoint ToIPEndPoint() => new(Ip4.ToIPAddress(Address), Port);

    /// <summary>The endpoint, or false when it is not IPv4 (an IPv4-mapped IPv6 address counts as IPv4).</summary>
    public static bool TryFrom(IPEndPoint endpoint, out Ip4Endpoint result)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var address = endpoint.Address;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetwork) { result = default; return false; }
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        result = new Ip4Endpoint(Ip4.FromBytes(bytes), (ushort)endpoint.Port);
        return true;
    }

    public int CompareTo(Ip4Endpoint other) => Packed.CompareTo(other.Packed);

    public override string ToString() => $"{Ip4.Format(Address)}:{Port}";
}

/// <summary>IPv4 addresses as uints: formatting, parsing and the private ranges.</summary>
public static class Ip4
{
    public static uint FromBytes(ReadOnlySpan<byte> b) => ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];

    public static IPAddress ToIPAddress(uint address) =>
        new([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address]);

    public static string Format(uint a) => $"{a >> 24}.{(a >> 16) & 0xFF}.{(a >> 8) & 0xFF}.{a & 0xFF}";

    /// <summary>Dotted quad to uint; throws on anything else (for literals in code and tests).</summary>
    public static uint Parse(string dotted)
    {
        if (!IPAddress.TryParse(dotted, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
            throw new FormatException($"'{dotted}' is not an IPv4 address");
        Span<byte> bytes = stackalloc byte[4];
        ip.TryWriteBytes(bytes, out _);
        return FromBytes(bytes);
    }

    /// <summary>RFC 1918 private space (10/8, 172.16/12, 192.168/16): never routed on the public side.</summary>
    public static bool IsPrivate(uint a) =>
        (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168);
}
