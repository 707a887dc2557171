// A 48-bit Ethernet MAC address held in the low 48 bits of a ulong (first octet most significant).
// Contract: value semantics, total order by numeric value, no allocation except ToString.
// IsMulticast is the I/G bit (least significant bit of the first octet); broadcast is all ones
// and is also multicast. Parse accepts exactly "aa:bb:cc:dd:ee:ff" (either case, ':' or '-').
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Frames;

public readonly struct MacAddress : IEquatable<MacAddress>, IComparable<MacAddress>
{
    public const int Length = 6;
    private const ulong Mask = 0xFFFF_FFFF_FFFFUL;

    public ulong Value { get; }

    public MacAddress(ulong value) => Value = value & Mask;

    public static readonly MacAddress Zero = new(0);
    public static readonly MacAddress Broadcast = new(Mask);

    public bool IsBroadcast => Value == Mask;
    /// <summary>The I/G bit: group (multicast or broadcast) rather than individual.</summary>
    public bool IsMulticast => (Value & 0x0100_0000_0000UL) != 0;
    /// <summary>The U/L bit: locally administered.</summary>
    public bool IsLocallyAdministered => (Value & 0x0200_0000_0000UL) != 0;

    /// <summary>Reads six octets; the span must hold at least six.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> b) =>
        new(((ulong)b[0] << 40) | ((ulong)b[1] << 32) | ((ulong)b[2] << 24) | ((ulong)b[3] << 16) | ((ulong)b[4] << 8) | b[5]);

    /// <summary>Writes six octets; the span must hold at least six.</summary>
    public void Write(Span<byte> b)
    {
        b[0] = (byte)(Value >> 40);
        b[1] = (byte)(Value >> 32);
        b[2] = (byte)(Value >> 24);
        b[3] = (byte)(Value >> 16);
        b[4] = (byte)(Value >> 8);
        b[5] = (byte)Value;
    }

    /// <summary>A locally administered unicast address derived from 40 bits of a number (e.g. a node id).</summary>
    public static MacAddress LocalFrom(ulong bits) => new(0x0200_0000_0000UL | (bits & 0xFF_FFFF_FFFFUL));

    public static ParseResult<MacAddress> Parse(string? text)
    {
        if (text is null) return ParseResult<MacAddress>.Fail("mac address is missing");
        if (text.Length != 17) return ParseResult<MacAddress>.Fail($"mac address must be 17 characters (aa:bb:cc:dd:ee:ff), got {text.Length}");
        ulong v = 0;
        for (int i = 0; i < 17; i++)
        {
            char c = text[i];
            if (i % 3 == 2)
            {
                if (c != ':' && c != '-') return ParseResult<MacAddress>.Fail($"mac address has '{c}' where a separator belongs");
                continue;
            }
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return ParseResult<MacAddress>.Fail($"mac address has a non-hex character '{c}'");
            v = (v << 4) | (uint)d;
        }
        return new MacAddress(v);
    }

    public override string ToString()
    {
        Span<char> s = stackalloc char[17];
        const string hex = "0123456789abcdef";
        for (int i = 0; i < 6; i++)
        {
            int octet = (int)((Value >> (40 - 8 * i)) & 0xFF);
            s[3 * i] = hex[octet >> 4];
            s[3 * i + 1] = hex[octet & 0xF];
            if (i < 5) s[3 * i + 2] = ':';
        }
        return new string(s);
    }

    public bool Equals(MacAddress other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is MacAddress o && Equals(o);
    public override int GetHashCode() => Value.GetHashCode();
    public int CompareTo(MacAddress other) => Value.CompareTo(other.Value);
    public static bool operator ==(MacAddress a, MacAddress b) => a.Value == b.Value;
    public static bool operator !=(MacAddress a, MacAddress b) => a.Value != b.Value;
}
