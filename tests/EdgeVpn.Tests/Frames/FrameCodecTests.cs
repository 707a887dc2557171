// Wire-format examples and properties of the Ethernet, 802.1Q and ARP codec: exact byte vectors,
// rejection of malformed input, parsers that never throw, and round trips of valid encodings.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Frames;

public class FrameCodecTests
{
    private static readonly MacAddress A = MacAddress.Parse("02:00:00:00:00:0a").Value;
    private static readonly MacAddress B = MacAddress.Parse("02:00:00:00:00:0b").Value;

    [Fact]
    public void Mac_address_parses_colon_hex_and_prints_it_back_lower_case()
    {
        var mac = MacAddress.Parse("AA:bb:0C:dd:EE:0f");
        Assert.True(mac.Ok);
        Assert.Equal(0xAABB0CDDEE0FUL, mac.Value.Value);
        Assert.Equal("aa:bb:0c:dd:ee:0f", mac.Value.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("aa:bb:cc:dd:ee")]
    [InlineData("aa:bb:cc:dd:ee:fg")]
    [InlineData("aa.bb:cc:dd:ee:ff")]
    [InlineData("aa:bb:cc:dd:ee:ff:00")]
    public void Mac_address_parse_rejects_malformed_text(string? text) => Assert.False(MacAddress.Parse(text).Ok);

    [Fact]
    public void Broadcast_is_multicast_and_the_group_bit_marks_multicast()
    {
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.True(MacAddress.Parse("01:00:5e:00:00:01").Value.IsMulticast);
        Assert.False(MacAddress.Parse("01:00:5e:00:00:01").Value.IsBroadcast);
        Assert.False(A.IsMulticast);
        Assert.True(A.IsLocallyAdministered);
    }

    [Fact]
    public void Ethernet_frame_parses_addresses_ethertype_and_payload_from_exact_bytes()
    {
        var bytes = Hex("ffffffffffff 02000000000a 0800 45000014");
        var f = EthernetFrame.Parse(bytes);
        Assert.True(f.Ok, f.Error);
        Assert.Equal(MacAddress.Broadcast, f.Value.Destination);
        Assert.Equal(A, f.Value.Source);
        Assert.Equal(EthernetFrame.EtherTypeIpv4, f.Value.EtherType);
        Assert.Null(f.Value.VlanTci);
        Assert.Equal(Hex("45000014"), f.Value.Payload.ToArray());
    }

    [Fact]
    public void Ethernet_frame_with_one_vlan_tag_reports_the_tag_and_the_inner_ethertype()
    {
        var bytes = Hex("02000000000b 02000000000a 8100 2064 0806 0102");
        var f = EthernetFrame.Parse(bytes).Value;
        Assert.Equal((ushort)0x2064, f.VlanTci);
        Assert.Equal(EthernetFrame.EtherTypeArp, f.EtherType);
        Assert.Equal(Hex("0102"), f.Payload.ToArray());
        Assert.Equal(bytes, f.ToArray());
    }

    [Fact]
    public void Ethernet_build_writes_the_exact_header_and_payload()
    {
        var bytes = EthernetFrame.Build(B, A, 0x86DD, Hex("6000"));
        Assert.Equal(Hex("02000000000b 02000000000a 86dd 6000"), bytes);
    }

    [Fact]
    public void Ethernet_frames_shorter_than_a_header_or_longer_than_the_maximum_are_errors()
    {
        Assert.False(EthernetFrame.Parse(new byte[13]).Ok);
        Assert.True(EthernetFrame.Parse(new byte[14]).Ok);
        Assert.True(EthernetFrame.Parse(new byte[9018]).Ok);
        Assert.False(EthernetFrame.Parse(new byte[9019]).Ok);
        Assert.False(EthernetFrame.Parse(new byte[1600], lengthMax: 1518).Ok);
        Assert.False(EthernetFrame.Parse(Hex("02000000000b 02000000000a 8100 20")).Ok);
    }

    private static readonly byte[] ArpRequestFrame = Hex(
        "ffffffffffff 02000000000a 0806" +
        "0001 0800 06 04 0001" +
        "02000000000a 0a000001" +
        "000000000000 0a000002");

    private static readonly byte[] ArpReplyFrame = Hex(
        "02000000000a 02000000000b 0806" +
        "0001 0800 06 04 0002" +
        "02000000000b 0a000002" +
        "02000000000a 0a000001");

    [Fact]
    public void Arp_request_builds_and_parses_the_exact_rfc826_bytes()
    {
        var request = new ArpPacket(ArpOperation.Request, A, ArpPacket.Ipv4(10, 0, 0, 1), MacAddress.Zero, ArpPacket.Ipv4(10, 0, 0, 2));
        Assert.Equal(ArpRequestFrame, request.ToFrame());
        var frame = EthernetFrame.Parse(ArpRequestFrame).Value;
        var parsed = ArpPacket.FromFrame(frame);
        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(request, parsed.Value);
        Assert.Equal("10.0.0.2", ArpPacket.FormatIpv4(parsed.Value.TargetIp));
    }

    [Fact]
    public void Arp_reply_builds_and_parses_the_exact_rfc826_bytes()
    {
        var reply = new ArpPacket(ArpOperation.Reply, B, ArpPacket.Ipv4(10, 0, 0, 2), A, ArpPacket.Ipv4(10, 0, 0, 1));
        Assert.Equal(ArpReplyFrame, reply.ToFrame());
        Assert.Equal(reply, ArpPacket.Parse(ArpReplyFrame.AsSpan(14)).Value);
    }

    [Fact]
    public void Arp_with_ethernet_padding_parses_and_ignores_the_padding()
    {
        var padded = new byte[60];
        ArpRequestFrame.CopyTo(padded, 0);
        Assert.True(ArpPacket.Parse(padded.AsSpan(14)).Ok);
    }

    [Theory]
    [InlineData(0, 0x01, "hardware type")]  // htype 0x0101
    [InlineData(1, 0x06, "hardware type")]  // htype 6 (IEEE 802)
    [InlineData(2, 0x86, "protocol type")]  // ptype 0x86dd
    [InlineData(4, 0x08, "hardware address length")]
    [InlineData(5, 0x10, "protocol address length")]
    [InlineData(7, 0x03, "operation")]      // RARP request
    public void Arp_other_than_ethernet_ipv4_request_or_reply_is_an_error(int offset, byte value, string mentioned)
    {
        var arp = ArpRequestFrame.AsSpan(14).ToArray();
        arp[offset] = value;
        var r = ArpPacket.Parse(arp);
        Assert.False(r.Ok);
        Assert.Contains(mentioned, r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Arp_shorter_than_28_bytes_or_inside_a_non_arp_frame_is_an_error()
    {
        Assert.False(ArpPacket.Parse(ArpRequestFrame.AsSpan(14, 27)).Ok);
        var ipFrame = EthernetFrame.Parse(EthernetFrame.Build(B, A, EthernetFrame.EtherTypeIpv4, ArpRequestFrame.AsSpan(14))).Value;
        Assert.False(ArpPacket.FromFrame(ipFrame).Ok);
    }

    [Fact]
    public void Frame_parsers_never_throw_on_random_bytes()
    {
        Check(Bytes(120), bytes =>
        {
            var e = EthernetFrame.Parse(bytes, lengthMax: 100);
            _ = e.Ok ? e.Value.ToString() : e.Error;
            _ = ArpPacket.Parse(bytes).ToString();
            if (e.Ok) _ = ArpPacket.FromFrame(e.Value).ToString();
            return true;
        }, maxTest: 1000);
    }

    [Fact]
    public void Mac_parse_never_throws_on_random_text_and_round_trips_what_it_accepts()
    {
        var chars = Gen.Elements("0123456789abcdefABCDEFgG:-. ".ToCharArray());
        var text = Gen.Choose(0, 20).SelectMany(n => Gen.ArrayOf(chars, n)).Select(c => new string(c));
        Check(text, s =>
        {
            var r = MacAddress.Parse(s);
            if (r.Ok) Assert.Equal(r.Value, MacAddress.Parse(r.Value.ToString()).Value);
            return true;
        }, maxTest: 1000);
    }

    [Fact]
    public void Valid_ethernet_frames_round_trip_through_build_and_parse()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var dst = new MacAddress(rng.NextUInt64());
            var src = new MacAddress(rng.NextUInt64());
            ushort type = (ushort)rng.NextInt(65536);
            if (type == EthernetFrame.EtherTypeVlan) type = EthernetFrame.EtherTypeIpv4;
            var payload = new byte[rng.NextInt(200)];
            for (int i = 0; i < payload.Length; i++) payload[i] = (byte)rng.NextInt(256);
            ushort? tci = rng.NextInt(2) == 0 ? null : (ushort)rng.NextInt(65536);
            var bytes = new EthernetFrame(dst, src, type, payload, tci).ToArray();
            var f = EthernetFrame.Parse(bytes).Value;
            Assert.Equal((dst, src, type, tci), (f.Destination, f.Source, f.EtherType, f.VlanTci));
            Assert.Equal(payload, f.Payload.ToArray());
            Assert.Equal(bytes, f.ToArray());
            return true;
        });
    }

    [Fact]
    public void Valid_arp_packets_round_trip_through_build_and_parse()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var arp = new ArpPacket(rng.NextInt(2) == 0 ? ArpOperation.Request : ArpOperation.Reply,
                new MacAddress(rng.NextUInt64()), (uint)rng.NextUInt64(), new MacAddress(rng.NextUInt64()), (uint)rng.NextUInt64());
            var frame = EthernetFrame.Parse(arp.ToFrame()).Value;
            Assert.Equal(arp, ArpPacket.FromFrame(frame).Value);
            return true;
        });
    }
}
