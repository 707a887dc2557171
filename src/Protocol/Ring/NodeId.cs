// A 128-bit node id and the ring arithmetic of the overlay (ids on a circle of size 2^128,
// ordered clockwise by increasing value with wrap-around). Printed and parsed as 32 hex digits.
//  - ClockwiseDistance(a, b) = (b - a) mod 2^128: how far b lies clockwise from a.
//  - RingDistance(a, b): the shorter of the two ways round.
//  - IsInOpen(x, a, b): x strictly inside the clockwise arc from a to b. When a == b the arc is
//    the whole ring but a itself (the usual convention for Chord-like rings).
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Ring;

public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    public const int HexDigits = 32;

    // Two halves, not one UInt128 field: UInt128 aligns to 16 bytes, which padded every struct
    // holding an id to a multiple of 16 (a link record 56 -> 64 bytes, an initiated-link entry
    // 24 -> 32), and a million simulated nodes hold tens of millions of them.
    private readonly ulong _upper;
    private readonly ulong _lower;

    public UInt128 Value => new(_upper, _lower);

    public NodeId(UInt128 value) { _upper = (ulong)(value >> 64); _lower = (ulong)value; }
    public NodeId(ulong upper, ulong lower) { _upper = upper; _lower = lower; }

    public ulong Upper => _upper;
    public ulong Lower => _lower;

    public static readonly NodeId Zero = new(UInt128.Zero);

    public static UInt128 ClockwiseDistance(NodeId from, NodeId to) => unchecked(to.Value - from.Value);

    /// <summary>The shorter way round between a and b, clockwise or not.</summary>
    public static UInt128 RingDistance(NodeId a, NodeId b) => UInt128.Min(ClockwiseDistance(a, b), ClockwiseDistance(b, a));

    /// <summary>The id at this id plus a clockwise offset, wrapping around.</summary>
    public NodeId Add(UInt128 offset) => new(unchecked(Value + offset));

    /// <summary>x in (a, b) clockwise.</summary>
    public static bool IsInOpen(NodeId x, NodeId a, NodeId b)
    {
        UInt128 dx = ClockwiseDistance(a, x);
        if (a == b) return dx != 0;
        return dx != 0 && dx < ClockwiseDistance(a, b);
    }

    /// <summary>x in (a, b] clockwise. When a == b: the whole ring.</summary>
    public static bool IsInHalfOpen(NodeId x, NodeId a, NodeId b)
    {
        if (a == b) return true;
        UInt128 dx = ClockwiseDistance(a, x);
        return dx != 0 && dx <= ClockwiseDistance(a, b);
    }

    /// <summary>x in [a, b] clockwise. When a == b: only a.</summary>
    public static bool IsInClosed(NodeId x, NodeId a, NodeId b) =>
        ClockwiseDistance(a, x) <= ClockwiseDistance(a, b);

    /// <summary>The clockwise distance as a fraction of the ring, in [0, 1).</summary>
    /// <remarks>Distances within 2^74 of 2^128 round to 2^128 as doubles; they map to the largest
    /// double below 1 so that the result never reaches 1.</remarks>
    public static double FractionOfRing(UInt128 distance) =>
        Math.Min((double)distance * TwoToMinus128, LargestBelowOne);

    private static readonly double TwoToMinus128 = Math.ScaleB(1.0, -128);
    private static readonly double LargestBelowOne = Math.BitDecrement(1.0);

    /// <summary>The offset that is the given fraction (in [0, 1]) of the ring, saturating below 2^128.</summary>
    public static UInt128 OffsetOfFraction(double fraction)
    {
        if (!(fraction > 0)) return UInt128.Zero;
        if (fraction >= 1) return UInt128.MaxValue;
        // fraction * 2^128, computed in two 64-bit halves to keep 53 bits of precision.
        double scaled = fraction * 18446744073709551616.0; // * 2^64
        ulong hi = (ulong)Math.Floor(scaled);
        double rest = (scaled - Math.Floor(scaled)) * 18446744073709551616.0;
        ulong lo = rest >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)rest;
        return new UInt128(hi, lo);
    }

    public static ParseResult<NodeId> Parse(string? text)
    {
        if (text is null) return ParseResult<NodeId>.Fail("node id is missing");
        if (text.Length != HexDigits) return ParseResult<NodeId>.Fail($"node id must be {HexDigits} hex digits, got {text.Length} characters");
        UInt128 v = 0;
        foreach (char c in text)
        {
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return ParseResult<NodeId>.Fail($"node id has a non-hex character '{c}'");
            v = (v << 4) | (uint)d;
        }
        return new NodeId(v);
    }

    public override string ToString() => Upper.ToString("x16") + Lower.ToString("x16");
    /// <summary>The first 8 hex digits, for logs and tables.</summary>
    public string Short => Upper.ToString("x16")[..8];

    public bool Equals(NodeId other) => _upper == other._upper && _lower == other._lower;
    public override bool Equals(object? obj) => obj is NodeId o && Equals(o);
    public override int GetHashCode() => Value.GetHashCode();
    public int CompareTo(NodeId other) => Value.CompareTo(other.Value);
    public static bool operator ==(NodeId a, NodeId b) => a.Equals(b);
    public static bool operator !=(NodeId a, NodeId b) => !a.Equals(b);
    public static bool operator <(NodeId a, NodeId b) => a.Value < b.Value;
    public static bool operator >(NodeId a, NodeId b) => a.Value > b.Value;
    public static bool operator <=(NodeId a, NodeId b) => a.Value <= b.Value;
    public static bool operator >=(NodeId a, NodeId b) => a.Value >= b.Value;
}
