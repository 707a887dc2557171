// TURN ChannelData framing (RFC 8656 §12.4), the first-byte demultiplexer of RFC 7983, TURN
// attribute values, and the password preparation used for keys.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Stun;

public class TurnFramingTests
{
    [Fact]
    public void Channel_data_encodes_header_payload_and_padding_to_four()
    {
        Assert.Equal(Hex("40010005 0102030405 000000"), ChannelDataMessage.Encode(0x4001, Hex("0102030405")));
        Assert.Equal(Hex("4fff0005 0102030405"), ChannelDataMessage.Encode(0x4fff, Hex("0102030405"), pad: false));
        Assert.Equal(Hex("40000000"), ChannelDataMessage.Encode(0x4000, []));
    }

    [Fact]
    public void Channel_data_parses_with_or_without_padding_and_slices_the_payload()
    {
        foreach (var hex in new[] { "40010005 0102030405 000000", "40010005 0102030405", "40010005 0102030405 00" })
        {
            var r = ChannelDataMessage.Parse(Hex(hex));
            Assert.True(r.Ok, r.Error);
            Assert.Equal(0x4001, r.Value.Channel);
            Assert.Equal(Hex("0102030405"), r.Value.Payload.ToArray());
        }
    }

    [Theory]
    [InlineData("4001", "shorter than the 4-byte header")]
    [InlineData("3fff0000", "channel 0x3fff is outside 0x4000..0x4fff")]
    [InlineData("50000000", "channel 0x5000 is outside")]
    [InlineData("40010008 01020304", "length 8 overruns the datagram (4 bytes left)")]
    [InlineData("40010001 01 000000 00", "4 bytes after the data are more than padding")]
    public void Channel_data_rejects_malformed_frames(string hex, string expected)
    {
        var r = ChannelDataMessage.Parse(Hex(hex));
        Assert.False(r.Ok);
        Assert.Contains(expected, r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Channel_data_encoding_rejects_a_channel_outside_the_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelDataMessage.Encode(0x3fff, [1]));
    }

    [Theory]
    [InlineData(0, DatagramKind.Stun)]
    [InlineData(3, DatagramKind.Stun)]
    [InlineData(4, DatagramKind.Unknown)]
    [InlineData(16, DatagramKind.Zrtp)]
    [InlineData(20, DatagramKind.Dtls)]
    [InlineData(22, DatagramKind.Dtls)]
    [InlineData(63, DatagramKind.Dtls)]
    [InlineData(64, DatagramKind.ChannelData)]
    [InlineData(79, DatagramKind.ChannelData)]
    [InlineData(80, DatagramKind.Unknown)]
    [InlineData(128, DatagramKind.Rtp)]
    [InlineData(191, DatagramKind.Rtp)]
    [InlineData(255, DatagramKind.Unknown)]
    public void Demultiplexer_classifies_by_the_first_byte_per_rfc7983(int first, DatagramKind kind)
    {
        Assert.Equal(kind, DatagramDemux.Classify([(byte)first, 0, 0, 0]));
    }

    [Fact]
    public void Demultiplexer_routes_real_stun_and_channel_data_and_calls_nothing_empty()
    {
        Assert.Equal(DatagramKind.Stun, DatagramDemux.Classify(StunVectorTests.SampleRequest));
        Assert.Equal(DatagramKind.ChannelData, DatagramDemux.Classify(ChannelDataMessage.Encode(0x4abc, [1, 2])));
        Assert.Equal(DatagramKind.Empty, DatagramDemux.Classify([]));
    }

    [Fact]
    public void Turn_allocate_response_round_trips_its_attributes()
    {
        var tid = StunTransactionId.Read(Hex("000102030405060708090a0b"));
        var relayed = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 49152);
        var mapped = new IPEndPoint(IPAddress.Parse("2001:db8::5"), 3478);
        var m = new StunMessage(StunClass.SuccessResponse, StunMethod.Allocate, tid,
            [new XorRelayedAddress(relayed), new XorMappedAddress(mapped), new Lifetime(600), new ReservationToken(0x0102030405060708)]);
        var parsed = StunMessage.Parse(m.Encode()).Value;
        Assert.Equal(m, parsed);
        Assert.Equal(relayed, parsed.Get<XorRelayedAddress>()!.EndPoint);
    }

    [Fact]
    public void Turn_fixed_layout_attributes_have_the_rfc8656_bytes()
    {
        var tid = default(StunTransactionId);
        var m = new StunMessage(StunClass.Request, StunMethod.Allocate, tid,
            [new RequestedTransport(RequestedTransport.Udp), new EvenPort(true), DontFragment.Instance, new ChannelNumber(0x4001),
             new RequestedAddressFamily(StunAddressFamily.Ipv6), new Icmp(3, 4, 1400)]);
        Assert.Equal(Hex("0003 0030 2112a442 000000000000000000000000" +
                         "00190004 11000000" + "00180001 80000000" + "001a0000" + "000c0004 40010000" +
                         "00170004 02000000" + "80040008 0000 03 04 00000578"), m.Encode());
    }

    [Fact]
    public void String_prep_passes_ascii_and_maps_or_rejects_the_rest()
    {
        Assert.Equal("VOkJxbRl1RmTxUk/WvJxBt", StunStringPrep.Prepare("VOkJxbRl1RmTxUk/WvJxBt", "p").Value);
        Assert.Equal("TheMatrIX", StunStringPrep.Prepare("The\u00ADMatr\u200BIX", "p").Value);
        Assert.Equal("a b", StunStringPrep.Prepare("a\u00A0b", "p").Value);
        Assert.Equal("p\u00E4ss", StunStringPrep.Prepare("p\u00E4ss", "p").Value);
        Assert.Contains("U+0009", StunStringPrep.Prepare("a\tb", "password").Error, StringComparison.Ordinal);
        Assert.Contains("empty", StunStringPrep.Prepare("", "password").Error, StringComparison.Ordinal);
        Assert.Contains("empty", StunStringPrep.Prepare("\u00AD", "password").Error, StringComparison.Ordinal);
        Assert.Contains("surrogate", StunStringPrep.Prepare("a\uD800", "password").Error, StringComparison.Ordinal);
        Assert.False(StunIntegrity.ShortTermKey("bad\u0000").Ok);
        Assert.Equal(StunIntegrity.LongTermKey("u", "r", "Matr\u00ADix").Value, StunIntegrity.LongTermKey("u", "r", "Matrix").Value);
    }

    [Fact]
    public void Byte_strings_compare_by_content()
    {
        Assert.Equal(new ByteString([1, 2]), ByteString.CopyOf([1, 2]));
        Assert.NotEqual(new ByteString([1, 2]), new ByteString([1, 3]));
        Assert.Equal(ByteString.Empty, default);
        Assert.Equal("0102", new ByteString([1, 2]).ToString());
    }
}
