// The STUN parser's promises on malformed input (one-line errors naming the problem), the
// per-attribute rejections (bad family, bad length, padding, XOR of the port), the RFC 8489
// rules for attributes after MESSAGE-INTEGRITY and FINGERPRINT, and unknown attributes.
using System.Buffers.Binary;
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Stun;

public class StunParserTests
{
    private static readonly StunTransactionId Tid = StunTransactionId.Read(Hex("b7e7a701bc34d686fa87dfae"));

    /// <summary>A Binding request whose body is the given raw attribute bytes (length field set to match).</summary>
    internal static byte[] WithBody(string bodyHex, StunClass cls = StunClass.Request)
    {
        var body = Hex(bodyHex);
        var m = new byte[20 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(m, StunMessageType.Encode(StunMethod.Binding, cls));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), StunMessage.MagicCookie);
        Tid.Write(m.AsSpan(8));
        body.CopyTo(m, 20);
        return m;
    }

    private static string Error(byte[] bytes)
    {
        var r = StunMessage.Parse(bytes);
        Assert.False(r.Ok, $"expected an error, parsed {r}");
        Assert.DoesNotContain('\n', r.Error!);
        return r.Error!;
    }

    [Fact]
    public void Parser_rejects_a_message_shorter_than_the_header()
    {
        Assert.Contains("shorter than the 20-byte header", Error(StunVectorTests.SampleRequest[..19]), StringComparison.Ordinal);
        Assert.Contains("shorter", Error([]), StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_rejects_a_message_whose_first_two_bits_are_set()
    {
        var b = WithBody("");
        b[0] |= 0x80;
        Assert.Contains("first two bits", Error(b), StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_rejects_a_message_without_the_magic_cookie()
    {
        var b = WithBody("");
        b[4] = 0x21; b[5] = 0x12; b[6] = 0xa4; b[7] = 0x43;
        Assert.Contains("magic cookie 0x2112a443", Error(b), StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_rejects_a_message_whose_length_is_not_a_multiple_of_four()
    {
        var b = WithBody("00060005 6576746a3a");   // USERNAME "evtj:" without its 3 padding bytes
        Assert.Contains("message length 9 is not a multiple of 4", Error(b), StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_rejects_a_length_field_that_disagrees_with_the_datagram()
    {
        var b = WithBody("00240004 6e0001ff");
        Assert.Contains("does not match the 4 bytes after the header", Error(b[..^4]), StringComparison.Ordinal);
        Assert.Contains("does not match", Error([.. b, 0, 0, 0, 0]), StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_rejects_an_attribute_that_overruns_the_message_and_names_it()
    {
        var b = WithBody("00200006 0001a147");   // XOR-MAPPED-ADDRESS claiming 6 bytes with 4 left
        Assert.Equal("stun: attribute 0x0020 length 6 overruns the message (4 bytes left)", Error(b));
    }

    [Fact]
    public void Parser_rejects_an_attribute_whose_padding_overruns_the_message()
    {
        // SOFTWARE of 5 bytes is followed by 3 padding bytes; here the message ends after 1.
        var b = WithBody("80220005 6162636465 00 00 00");
        b = b[..^2];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), 10);
        Assert.Contains("not a multiple of 4", Error(b), StringComparison.Ordinal);
    }

    [Fact]
    public void Xor_address_unmasks_the_port_with_the_cookie_and_the_plain_one_does_not()
    {
        var xor = StunMessage.Parse(WithBody("00200008 0001a147e112a643")).Value.Get<XorMappedAddress>()!;
        var plain = StunMessage.Parse(WithBody("00010008 0001a147e112a643")).Value.Get<MappedAddress>()!;
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0xa147 ^ 0x2112), xor.EndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("225.18.166.67"), 0xa147), plain.EndPoint);
    }

    [Theory]
    [InlineData("00200008 0003a147e112a643", "bad address family 3")]
    [InlineData("00200008 0000a147e112a643", "bad address family 0")]
    [InlineData("00200014 0001a147e112a643 00000000 00000000 00000000", "family 1 needs a value of 8 bytes, got 20")]
    [InlineData("00200008 0002a147e112a643", "family 2 needs a value of 20 bytes, got 8")]
    [InlineData("00200000", "shorter than 4")]
    [InlineData("00010004 00010000", "MAPPED-ADDRESS (0x0001): family 1 needs a value of 8 bytes, got 4")]
    [InlineData("00120008 0007a147e112a643", "XOR-PEER-ADDRESS (0x0012): bad address family 7")]
    [InlineData("00240003 6e0001 00", "PRIORITY (0x0024) value of 3 bytes, expected 4")]
    [InlineData("00250004 00000000", "USE-CANDIDATE (0x0025) value of 4 bytes, expected 0")]
    [InlineData("802a0004 00000000", "ICE-CONTROLLING (0x802a) value of 4 bytes, expected 8")]
    [InlineData("80290004 00000000", "ICE-CONTROLLED (0x8029) value of 4 bytes, expected 8")]
    [InlineData("80280002 0000 0000", "FINGERPRINT (0x8028) value of 2 bytes, expected 4")]
    [InlineData("00080004 00000000", "MESSAGE-INTEGRITY (0x0008) value of 4 bytes, expected 20")]
    [InlineData("001c0024 000000000000000000000000000000000000000000000000000000000000000000000000", "expected 16 to 32")]
    [InlineData("001c0012 000000000000000000000000000000000000 0000", "expected 16 to 32")]
    [InlineData("001e0004 00000000", "USERHASH (0x001e) value of 4 bytes, expected 32")]
    [InlineData("000c0002 4000 0000", "CHANNEL-NUMBER (0x000c) value of 2 bytes, expected 4")]
    [InlineData("000d0008 0000000000000000", "LIFETIME (0x000d) value of 8 bytes, expected 4")]
    [InlineData("00180004 80000000", "EVEN-PORT (0x0018) value of 4 bytes, expected 1")]
    [InlineData("00190001 11 000000", "REQUESTED-TRANSPORT (0x0019) value of 1 bytes, expected 4")]
    [InlineData("001a0004 00000000", "DONT-FRAGMENT (0x001a) value of 4 bytes, expected 0")]
    [InlineData("00220004 00000000", "RESERVATION-TOKEN (0x0022) value of 4 bytes, expected 8")]
    [InlineData("80040004 00000000", "ICMP (0x8004) value of 4 bytes, expected 8")]
    [InlineData("00170004 03000000", "REQUESTED-ADDRESS-FAMILY (0x0017): bad address family 3")]
    [InlineData("80000004 01000000", "ADDITIONAL-ADDRESS-FAMILY (0x8000): bad address family 1")]
    [InlineData("00090004 00000200", "ERROR-CODE (0x0009): class 2 is outside 3..6")]
    [InlineData("00090004 00000464", "ERROR-CODE (0x0009): number 100 is above 99")]
    [InlineData("00090002 0000 0000", "ERROR-CODE (0x0009): value of 2 bytes is shorter than 4")]
    [InlineData("000a0003 000100 00", "UNKNOWN-ATTRIBUTES (0x000a): odd value length 3")]
    [InlineData("00060002 c328 0000", "USERNAME (0x0006): not valid UTF-8")]
    [InlineData("80020008 00010008 00000000", "PASSWORD-ALGORITHMS (0x8002): parameters of 8 bytes overrun the value (4 bytes left)")]
    [InlineData("001d0008 00010000 00000000", "PASSWORD-ALGORITHM (0x001d): 4 bytes after the parameters")]
    public void Malformed_attribute_values_bad_families_and_lengths_are_rejected_with_the_attribute_named(string body, string expected)
    {
        Assert.Contains(expected, Error(WithBody(body)), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_attributes_longer_than_their_bound_are_rejected()
    {
        string user = new('u', 509);
        var b = new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Software(user)]).Encode();
        Assert.True(StunMessage.Parse(b).Ok);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(20), StunAttributeType.Username);
        Assert.Contains("USERNAME (0x0006): 509 bytes exceed 508", Error(b), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Username(user)]).Encode());
    }

    [Fact]
    public void Nomination_is_a_24_bit_number_in_the_low_three_bytes_and_the_reserved_byte_is_ignored()
    {
        var bytes = new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Nomination(0x123456)]).Encode();
        Assert.Equal(Hex("c0010004 00123456"), bytes[20..]);
        Assert.Equal(0x123456u, StunMessage.Parse(WithBody("c0010004 ab123456")).Value.Get<Nomination>()!.Value);
        Assert.Equal(Nomination.ValueMax, new Nomination(uint.MaxValue).Value);
        // 0xC001 has other registered uses; a value of another length is kept as an unknown optional attribute.
        Assert.IsType<UnknownAttribute>(StunMessage.Parse(WithBody("c0010008 00000001 00000002")).Value.Attributes[0]);
    }

    [Fact]
    public void Error_code_parses_class_and_number_and_reason()
    {
        var m = StunMessage.Parse(WithBody("00090010 00000401 556e617574686f72 697a6564", StunClass.ErrorResponse)).Value;
        Assert.Equal(new ErrorCode(401, "Unauthorized"), m.Get<ErrorCode>());
        Assert.Equal(StunClass.ErrorResponse, m.Class);
    }

    [Fact]
    public void Unknown_comprehension_required_attributes_are_reported_and_optional_ones_kept()
    {
        var m = StunMessage.Parse(WithBody("7fff0002 abcd0000 c0010001 ee000000 00240004 00000001")).Value;
        Assert.Equal([(ushort)0x7fff], m.UnknownComprehensionRequired);
        Assert.Equal(new UnknownAttribute(0xc001, new ByteString([0xee])), m.Attributes[1]);
        Assert.Equal(new Priority(1), m.Get<Priority>());
    }

    [Fact]
    public void Attributes_after_message_integrity_are_ignored_except_integrity_sha256_and_fingerprint()
    {
        var key = "pw"u8.ToArray();
        var b = new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Priority(7)]).Encode(key);
        // Append PRIORITY (ignored), then MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (kept).
        var tail = Hex("00240004 00000009");
        var b2 = new byte[b.Length + tail.Length + 36 + 8];
        b.CopyTo(b2, 0);
        tail.CopyTo(b2, b.Length);
        var w = AppendSha256AndFingerprint(b2, b.Length + tail.Length);
        var m = StunMessage.Parse(w).Value;
        Assert.Equal([StunAttributeType.Priority, StunAttributeType.MessageIntegrity, StunAttributeType.MessageIntegritySha256, StunAttributeType.Fingerprint],
            m.Attributes.Select(a => a.Type));
        Assert.Equal(new Priority(7), m.Get<Priority>());
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(w, key));
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(w));
    }

    /// <summary>Appends MESSAGE-INTEGRITY-SHA256 and FINGERPRINT to the first `used` bytes of buffer.</summary>
    private static byte[] AppendSha256AndFingerprint(byte[] buffer, int used)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(used - 20 + 36));
        var mac = System.Security.Cryptography.HMACSHA256.HashData("pw"u8, buffer.AsSpan(0, used));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(used), StunAttributeType.MessageIntegritySha256);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(used + 2), 32);
        mac.CopyTo(buffer, used + 4);
        used += 36;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(used - 20 + 8));
        uint crc = Crc32.Compute(buffer.AsSpan(0, used)) ^ Fingerprint.XorMask;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(used), StunAttributeType.Fingerprint);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(used + 2), 4);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(used + 4), crc);
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegritySha256(buffer, "pw"u8));
        return buffer;
    }

    [Fact]
    public void Attributes_after_fingerprint_are_ignored_and_fingerprint_must_be_last_to_verify()
    {
        var b = new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Priority(7)]).Encode(fingerprint: true);
        var extended = WithBody(Convert.ToHexString(b.AsSpan(20)) + "00240004 00000009");
        var m = StunMessage.Parse(extended).Value;
        Assert.Equal(2, m.Attributes.Count);
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyFingerprint(extended));
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(b));
    }

    [Fact]
    public void Message_integrity_detects_a_changed_attribute_and_a_wrong_key()
    {
        var key = "secret"u8.ToArray();
        var b = new StunMessage(StunClass.Request, StunMethod.Binding, Tid, [new Username("a:b"), new Priority(5)]).Encode(key, fingerprint: true);
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(b, key));
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyMessageIntegrity(b, "Secret"u8));
        var tampered = (byte[])b.Clone();
        tampered[20 + 8 + 7] ^= 1;   // the PRIORITY value
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyMessageIntegrity(tampered, key));
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyFingerprint(tampered));
        Assert.Equal(StunCheck.Absent, StunIntegrity.VerifyMessageIntegrity(b.AsSpan(0, 19), key));
    }

    [Fact]
    public void Message_integrity_sha256_is_written_and_verified()
    {
        var key = "k"u8.ToArray();
        var b = new StunMessage(StunClass.Request, StunMethod.Allocate, Tid, [new RequestedTransport(RequestedTransport.Udp)])
            .Encode(integritySha256Key: key, fingerprint: true);
        var m = StunMessage.Parse(b).Value;
        Assert.Equal(32, m.Get<MessageIntegritySha256>()!.Value.Length);
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegritySha256(b, key));
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyMessageIntegritySha256(b, "K"u8));
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(b));
    }

    [Theory]
    [InlineData(StunMethod.Binding, StunClass.Request, 0x0001)]
    [InlineData(StunMethod.Binding, StunClass.Indication, 0x0011)]
    [InlineData(StunMethod.Binding, StunClass.SuccessResponse, 0x0101)]
    [InlineData(StunMethod.Binding, StunClass.ErrorResponse, 0x0111)]
    [InlineData(StunMethod.Allocate, StunClass.Request, 0x0003)]
    [InlineData(StunMethod.Allocate, StunClass.ErrorResponse, 0x0113)]
    [InlineData(StunMethod.Refresh, StunClass.SuccessResponse, 0x0104)]
    [InlineData(StunMethod.Send, StunClass.Indication, 0x0016)]
    [InlineData(StunMethod.Data, StunClass.Indication, 0x0017)]
    [InlineData(StunMethod.CreatePermission, StunClass.Request, 0x0008)]
    [InlineData(StunMethod.ChannelBind, StunClass.SuccessResponse, 0x0109)]
    [InlineData((StunMethod)0xFFF, StunClass.ErrorResponse, 0x3FFF)]
    [InlineData((StunMethod)0x080, StunClass.Request, 0x0200)]
    public void Message_type_interleaves_method_and_class_bits_as_rfc8489_figure_3(StunMethod method, StunClass cls, int type)
    {
        Assert.Equal((ushort)type, StunMessageType.Encode(method, cls));
        Assert.Equal((method, cls), StunMessageType.Decode((ushort)type));
    }

    [Fact]
    public void Message_type_decoding_inverts_encoding_for_every_method_and_class()
    {
        for (int m = 0; m <= StunMessageType.MethodMax; m++)
            for (int c = 0; c < 4; c++)
                Assert.Equal(((StunMethod)m, (StunClass)c), StunMessageType.Decode(StunMessageType.Encode((StunMethod)m, (StunClass)c)));
    }
}
