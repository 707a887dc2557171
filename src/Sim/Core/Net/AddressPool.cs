// Hands out unique IPv4 addresses for a virtual network, in order, so the same sequence of
// registrations gives the same addresses. Public addresses start in the documentation block
// 203.0.113.0/24 and simply continue upward (203.0.114.1, ...) up to 223.255.255.254, about 350
// million, none of them RFC 1918; private addresses come from 10.0.0.0/8, then 172.16.0.0/12,
// then 192.168.0.0/16 (about 17.8 million). Addresses ending in .0 or .255 are skipped so that
// none looks like a network or broadcast address in a trace. Running out is an error, not a
// wrap-around that would silently reuse an address.
namespace EdgeVpn.Sim.Net;

public sealed class AddressPool
{
    private static readonly (uint First, uint Last)[] PublicRanges = [(Ip4.Parse("203.0.113.1"), Ip4.Parse("223.255.255.254"))];

    private static readonly (uint First, uint Last)[] PrivateRanges =
    [
        (Ip4.Parse("10.0.0.1"), Ip4.Parse("10.255.255.254")),
        (Ip4.Parse("172.16.0.1"), Ip4.Parse("172.31.255.254")),
        (Ip4.Parse("192.168.0.1"), Ip4.Parse("192.168.255.254")),
    ];

    private readonly Cursor _public = new(PublicRanges, "public");
    private readonly Cursor _private = new(PrivateRanges, "private");

    public uint NextPublic() => _public.Next();

    public uint NextPrivate() => _private.Next();

    private sealed class Cursor((uint First, uint Last)[] ranges, string kind)
    {
        private int _range;
        private uint _next = ranges[0].First;

        public uint Next()
        {
            while (true)
            {
                if (_range >= ranges.Length) throw new InvalidOperationException($"the {kind} address pool is exhausted");
                if (_next > ranges[_range].Last)
                {
                    if (++_range < ranges.Length) _next = ranges[_range].First;
                    continue;
                }
                uint a = _next++;
                byte last = (byte)a;
                if (last != 0 && last != 255) return a;
            }
        }
    }
}
