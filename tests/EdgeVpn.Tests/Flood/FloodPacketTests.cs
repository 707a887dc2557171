// The bounded-flood wire format: an exact byte vector, the rejections the parser promises, a
// parser that never throws on random or mutated bytes, and round trips of valid packets.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Ring;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Flood;

public class FloodPacketTests
{
    private static readonly NodeId Root = NodeId.Parse("000102030405060708090a0b0c0d0e0f").Value;
    private static readonly NodeId Bound = NodeId.Parse("101112131415161718191a1b1c1d1e1f").Value;
    private static readonly MacAddress Src = MacAddress.Parse("02:00:00:00:00:0a").Value;
    private static readonly byte[] Inner = Hex("ffffffffffff 02000000000b 0806");

    private static readonly byte[] Encoded = Hex(
        "ffffffffffff 02000000000a c0c0" +             // Ethernet header, EtherType 0xC0C0
        "01" +                                         // version
        "000102030405060708090a0b0c0d0e0f" +           // root
        "101112131415161718191a1b1c1d1e1f" +           // bound
        "03" +                                         // hop count
        "000e" +                                       // payload length 14
        "ffffffffffff 02000000000b 0806");             // inner frame

    [Fact]
    public void Flood_packet_encodes_to_the_documented_byte_layout()
    {
        Assert.Equal(Encoded, FloodPacket.Encode(Src, new FloodHeader(Root, Bound, 3), Inner));
    }

    [Fact]
    public void Flood_packet_parses_the_documented_byte_layout_and_round_trips()
    {
        var p = FloodPacket.Parse(Encoded);
        Assert.True(p.Ok, p.Error);
        Assert.Equal(new FloodHeader(Root, Bound, 3), p.Value.Header);
        Assert.Equal(Src, p.Value.Source);
        Assert.Equal(Inner, p.Value.Inner.ToArray());
        Assert.Equal(Encoded, p.Value.ToArray());
    }

    [Theory]
    [InlineData("truncated header")]
    [InlineData("truncated payload")]
    [InlineData("extra byte")]
    [InlineData("bad version")]
    [InlineData("wrong ethertype")]
    [InlineData("zero hops")]
    [InlineData("hops above max")]
    [InlineData("inner shorter than ethernet header")]
    public void Flood_parser_rejects_malformed_packets(string defect)
    {
        byte[] b = defect switch
        {
            "truncated header" => Encoded[..49],
            "truncated payload" => Encoded[..^1],
            "extra byte" => [.. Encoded, 0],
            "bad version" => With(Encoded, 14, 2),
            "wrong ethertype" => With(Encoded, 13, 0xC1),
            "zero hops" => With(Encoded, 47, 0),
            "hops above max" => With(Encoded, 47, 65),
            "inner shorter than ethernet header" => With(With(Encoded[..^1], 48, 0), 49, 13),
            _ => throw new ArgumentException(defect),
        };
        Assert.False(FloodPacket.Parse(b).Ok, defect);
    }

    [Fact]
    public void Flood_parser_rejects_hop_counts_above_the_configured_maximum_and_oversized_payloads()
    {
        Assert.True(FloodPacket.Parse(Encoded, hopsMax: 3).Ok);
        Assert.False(FloodPacket.Parse(Encoded, hopsMax: 2).Ok);
        var big = FloodPacket.Encode(Src, new FloodHeader(Root, Bound, 1), new byte[1000]);
        Assert.True(FloodPacket.Parse(big, innerLengthMax: 1000).Ok);
        Assert.False(FloodPacket.Parse(big, innerLengthMax: 999).Ok);
    }

    [Fact]
    public void Flood_parser_never_throws_on_random_bytes()
    {
        Check(Bytes(120), bytes => { _ = FloodPacket.Parse(bytes, innerLengthMax: 64).ToString(); return true; }, maxTest: 1000);
    }

    [Fact]
    public void Flood_parser_never_throws_on_mutated_valid_packets()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var b = (byte[])Encoded.Clone();
            int flips = 1 + rng.NextInt(4);
            for (int i = 0; i < flips; i++) b[rng.NextInt(b.Length)] = (byte)rng.NextInt(256);
            int cut = rng.NextInt(b.Length + 1);
            var r = FloodPacket.Parse(b.AsMemory(0, cut));
            if (r.Ok) Assert.Equal(b[6..cut], r.Value.ToArray()[6..]); // the destination MAC is not part of the packet
            return true;
        }, maxTest: 1000);
    }

    [Fact]
    public void Valid_flood_packets_round_trip_through_encode_and_parse()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var header = new FloodHeader(new NodeId(rng.NextUInt128()), new NodeId(rng.NextUInt128()), (byte)(1 + rng.NextInt(64)));
            var src = new MacAddress(rng.NextUInt64());
            var inner = new byte[14 + rng.NextInt(300)];
            for (int i = 0; i < inner.Length; i++) inner[i] = (byte)rng.NextInt(256);
            var bytes = FloodPacket.Encode(src, header, inner);
            var p = FloodPacket.Parse(bytes).Value;
            Assert.Equal(header, p.Header);
            Assert.Equal(src, p.Source);
            Assert.Equal(inner, p.Inner.ToArray());
            return true;
        });
    }
}
