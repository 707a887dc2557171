// Property tests for NodeId ring arithmetic: clockwise distance, arc membership, offsets,
// fractions of the ring and the 32-hex-digit text form. Each test states one law in its name
// and checks it on hundreds of generated cases (see Generators for the id distribution).
using EdgeVpn.Protocol.Ring;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Ring;

public sealed class NodeIdTests
{
    private const int Many = 500;

    private static UInt128 D(NodeId a, NodeId b) => NodeId.ClockwiseDistance(a, b);

    [Fact]
    public void Equality_order_and_halves_agree_with_the_128_bit_value() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            (p.A == p.B) == (p.A.Value == p.B.Value) && (p.A < p.B) == (p.A.Value < p.B.Value)
            && p.A.CompareTo(p.B) == p.A.Value.CompareTo(p.B.Value) && p.A.GetHashCode() == p.A.Value.GetHashCode()
            && new NodeId(p.A.Upper, p.A.Lower) == p.A && new NodeId(p.A.Value) == p.A));

    [Fact]
    public void A_struct_holding_an_id_and_a_byte_is_padded_to_8_bytes_not_16() =>
        Assert.Equal(24, System.Runtime.CompilerServices.Unsafe.SizeOf<(NodeId, byte)>());

    [Fact]
    public void RingDistance_is_the_shorter_way_round_and_symmetric() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            NodeId.RingDistance(p.A, p.B) == NodeId.RingDistance(p.B, p.A)
            && NodeId.RingDistance(p.A, p.B) == UInt128.Min(D(p.A, p.B), D(p.B, p.A))
            && NodeId.RingDistance(p.A, p.B) <= UInt128.One << 127));

    [Fact]
    public void Distance_there_and_back_sums_to_zero_modulo_the_ring() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            unchecked(D(p.A, p.B) + D(p.B, p.A)) == UInt128.Zero));

    [Fact]
    public void Distance_from_an_id_to_itself_is_zero() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIds, a => D(a, a) == UInt128.Zero));

    [Fact]
    public void Distances_add_up_along_the_ring_modulo_the_ring() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
            unchecked(D(t.A, t.B) + D(t.B, t.C)) == D(t.A, t.C)));

    [Fact]
    public void Adding_the_distance_from_a_to_b_to_a_gives_b() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p => p.A.Add(D(p.A, p.B)) == p.B));

    [Fact]
    public void Distance_across_the_seam_wraps() =>
        Assert.Equal(UInt128.One + 5, D(new NodeId(UInt128.MaxValue), new NodeId(5)));

    [Fact]
    public void Exactly_one_of_the_two_open_arcs_holds_an_id_that_is_neither_end() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
        {
            var (x, a, b) = t;
            if (a == b || x == a || x == b) return true;
            return NodeId.IsInOpen(x, a, b) ^ NodeId.IsInOpen(x, b, a);
        }));

    [Fact]
    public void The_ends_of_an_arc_are_in_neither_open_arc() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            !NodeId.IsInOpen(p.A, p.A, p.B) && !NodeId.IsInOpen(p.B, p.A, p.B)
            && !NodeId.IsInOpen(p.A, p.B, p.A) && !NodeId.IsInOpen(p.B, p.B, p.A)));

    [Fact]
    public void Open_arc_from_an_id_to_itself_is_the_whole_ring_but_that_id() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            NodeId.IsInOpen(p.A, p.B, p.B) == (p.A != p.B)));

    [Fact]
    public void Open_arc_agrees_with_clockwise_distance() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
        {
            var (x, a, b) = t;
            if (a == b) return true;
            bool expected = D(a, x) > 0 && D(a, x) < D(a, b);
            return NodeId.IsInOpen(x, a, b) == expected;
        }));

    [Fact]
    public void Half_open_arc_is_the_open_arc_plus_its_far_end() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
        {
            var (x, a, b) = t;
            if (a == b) return NodeId.IsInHalfOpen(x, a, b);
            return NodeId.IsInHalfOpen(x, a, b) == (NodeId.IsInOpen(x, a, b) || x == b);
        }));

    [Fact]
    public void Closed_arc_is_the_open_arc_plus_both_ends() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
        {
            var (x, a, b) = t;
            if (a == b) return NodeId.IsInClosed(x, a, b) == (x == a);
            return NodeId.IsInClosed(x, a, b) == (NodeId.IsInOpen(x, a, b) || x == a || x == b);
        }));

    [Fact]
    public void Closed_arc_is_the_complement_of_the_opposite_open_arc() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdTriples, t =>
        {
            var (x, a, b) = t;
            if (a == b) return true;
            return NodeId.IsInClosed(x, a, b) == !NodeId.IsInOpen(x, b, a);
        }));

    [Fact]
    public void Arcs_wrap_across_the_seam()
    {
        var nearMax = new NodeId(UInt128.MaxValue - 1);
        var nearZero = new NodeId(1);
        Assert.True(NodeId.IsInOpen(NodeId.Zero, nearMax, nearZero));
        Assert.True(NodeId.IsInOpen(new NodeId(UInt128.MaxValue), nearMax, nearZero));
        Assert.False(NodeId.IsInOpen(new NodeId(2), nearMax, nearZero));
        Assert.True(NodeId.IsInHalfOpen(nearZero, nearMax, nearZero));
        Assert.False(NodeId.IsInHalfOpen(nearMax, nearMax, nearZero));
    }

    [Fact]
    public void Parse_of_ToString_round_trips() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIds, a =>
        {
            string text = a.ToString();
            var parsed = NodeId.Parse(text);
            return text.Length == NodeId.HexDigits && parsed.Ok && parsed.Value == a;
        }));

    [Fact]
    public void Parse_accepts_upper_case_hex() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIds, a =>
            NodeId.Parse(a.ToString().ToUpperInvariant()) is { Ok: true } r && r.Value == a));

    [Fact]
    public void ToString_is_32_lower_case_hex_digits_most_significant_first()
    {
        var id = new NodeId(0x0123456789abcdefUL, 0xfedcba9876543210UL);
        Assert.Equal("0123456789abcdeffedcba9876543210", id.ToString());
        Assert.Equal("01234567", id.Short);
        Assert.Equal("00000000000000000000000000000000", NodeId.Zero.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    [InlineData(" 123456789abcdef0123456789abcdef")]
    [InlineData("+123456789abcdef0123456789abcdef")]
    [InlineData("0x23456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcd\u0661f")]
    public void Parse_rejects_wrong_length_or_non_hex_text_with_an_error(string? text)
    {
        var result = NodeId.Parse(text);
        Assert.False(result.Ok);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.Throws<InvalidOperationException>(() => result.Value);
    }

    [Fact]
    public void Parse_never_throws_on_random_strings_and_accepts_only_32_hex_digits()
    {
        var anyChar = Gen.Frequency(
            (4, Gen.Elements("0123456789abcdefABCDEF".ToCharArray())),
            (1, Gen.Choose(0, 0xFFFF).Select(c => (char)c)));
        var strings = Arb.From(Gen.Frequency(
            (1, anyChar.ArrayOf().Select(cs => new string(cs))),
            (3, anyChar.ArrayOf(NodeId.HexDigits).Select(cs => new string(cs)))));
        PropertyCheck.Run(Many, Prop.ForAll(strings, s =>
        {
            var r = NodeId.Parse(s);
            bool wellFormed = s.Length == NodeId.HexDigits && s.All(Uri.IsHexDigit);
            return r.Ok == wellFormed && (r.Ok ? r.Value.ToString() == s.ToLowerInvariant() : r.Error is { Length: > 0 });
        }));
    }

    [Fact]
    public void OffsetOfFraction_is_monotone() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Gen.Two(Generators.RingFraction)), fs =>
        {
            var (lo, hi) = fs.Item1 <= fs.Item2 ? (fs.Item1, fs.Item2) : (fs.Item2, fs.Item1);
            return NodeId.OffsetOfFraction(lo) <= NodeId.OffsetOfFraction(hi);
        }));

    [Fact]
    public void FractionOfRing_inverts_OffsetOfFraction() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Generators.RingFraction), f =>
        {
            double back = NodeId.FractionOfRing(NodeId.OffsetOfFraction(f));
            return Math.Abs(back - f) <= 1e-15 * Math.Max(f, 1e-300) + Math.Pow(2, -128)
                || (f == 1.0 && back == Math.BitDecrement(1.0));
        }));

    [Fact]
    public void FractionOfRing_stays_in_zero_to_one_exclusive_for_every_distance() =>
        PropertyCheck.Run(Many, Prop.ForAll(Arb.From(Gen.OneOf(Generators.UInt128Uniform,
            Generators.NodeIdNearMax.Select(n => n.Value))), d =>
        {
            double f = NodeId.FractionOfRing(d);
            return f >= 0 && f < 1;
        }));

    [Fact]
    public void FractionOfRing_of_the_largest_distance_is_below_one() =>
        Assert.True(NodeId.FractionOfRing(UInt128.MaxValue) < 1.0);

    [Fact]
    public void OffsetOfFraction_saturates_outside_zero_to_one()
    {
        Assert.Equal(UInt128.Zero, NodeId.OffsetOfFraction(0));
        Assert.Equal(UInt128.Zero, NodeId.OffsetOfFraction(-0.5));
        Assert.Equal(UInt128.Zero, NodeId.OffsetOfFraction(double.NaN));
        Assert.Equal(UInt128.MaxValue, NodeId.OffsetOfFraction(1));
        Assert.Equal(UInt128.MaxValue, NodeId.OffsetOfFraction(double.PositiveInfinity));
        Assert.Equal(UInt128.One << 127, NodeId.OffsetOfFraction(0.5));
        Assert.Equal(UInt128.One << 64, NodeId.OffsetOfFraction(Math.Pow(2, -64)));
    }

    [Fact]
    public void Ordering_equality_and_hashing_follow_the_128_bit_value() =>
        PropertyCheck.Run(Many, Prop.ForAll(Generators.NodeIdPairs, p =>
            Math.Sign(p.A.CompareTo(p.B)) == Math.Sign(p.A.Value.CompareTo(p.B.Value))
            && (p.A == p.B) == (p.A.Value == p.B.Value)
            && (p.A < p.B) == (p.A.Value < p.B.Value)
            && p.A.Equals((object)p.B) == (p.A.Value == p.B.Value)
            && (p.A != p.B || p.A.GetHashCode() == p.B.GetHashCode())));
}
