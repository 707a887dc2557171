// The test vectors of RFC 5769 ("Test Vectors for STUN", §2.1–§2.4), byte for byte: each decodes
// to the documented attributes, its MESSAGE-INTEGRITY and FINGERPRINT verify with the RFC's
// credentials, and re-encoding the decoded attributes gives the same bytes (the RFC's padding
// byte is 0x20 in §2.1–§2.3 and 0x00 in §2.4; the encoder lets the sender choose it).
// The hex below is transcribed from the RFC's figures.
using System.Net;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Stun;

public class StunVectorTests
{
    private const string ShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

    // RFC 5769 §2.1 Sample Request
    internal static readonly byte[] SampleRequest = Hex(
        "000100582112a442b7e7a701bc34d686fa87dfae" +
        "80220010 5354554e2074657374 20636c69656e74" +   // SOFTWARE "STUN test client"
        "00240004 6e0001ff" +                           // PRIORITY
        "80290008 932ff9b151263b36" +                   // ICE-CONTROLLED
        "00060009 6576746a3a68367659202020" +           // USERNAME "evtj:h6vY" + 0x20 padding
        "00080014 9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2" +
        "80280004 e57a3bcf");

    // RFC 5769 §2.2 Sample IPv4 Response
    internal static readonly byte[] SampleIpv4Response = Hex(
        "0101003c2112a442b7e7a701bc34d686fa87dfae" +
        "8022000b 7465737420766563746f7220" +           // SOFTWARE "test vector" + 0x20
        "00200008 0001a147e112a643" +                   // XOR-MAPPED-ADDRESS 192.0.2.1:32853
        "00080014 2b91f599fd9e90c38c7489f92af9ba53f06be7d7" +
        "80280004 c07d4c96");

    // RFC 5769 §2.3 Sample IPv6 Response
    internal static readonly byte[] SampleIpv6Response = Hex(
        "010100482112a442b7e7a701bc34d686fa87dfae" +
        "8022000b 7465737420766563746f7220" +
        "00200014 0002a1470113a9faa5d3f179bc25f4b5bed2b9d9" +
        "00080014 a382954e4be67bf11784c97c8292c275bfe3ed41" +
        "80280004 c8fb0b4c");

    // RFC 5769 §2.4 Sample Request with Long-Term Authentication
    internal static readonly byte[] SampleLongTermRequest = Hex(
        "000100602112a44278ad3433c6ad72c029da412e" +
        "00060012 e3839ee38388e383aae38383e382afe382b90000" +   // USERNAME "マトリックス"
        "0015001c 662f2f3439396b39353464364f4c33346f4c394653547679363473" + "41" +
        "0014000b 6578616d706c652e6f726700" +                   // REALM "example.org"
        "00080014 f67024656dd64a3e02b8e0712e85c9a28ca89666");

    private static readonly byte[] ShortTermKey = StunIntegrity.ShortTermKey(ShortTermPassword).Value;

    [Fact]
    public void Sample_request_decodes_to_the_rfc5769_attributes()
    {
        var m = StunMessage.Parse(SampleRequest);
        Assert.True(m.Ok, m.Error);
        Assert.Equal((StunClass.Request, StunMethod.Binding), (m.Value.Class, m.Value.Method));
        Assert.Equal("b7e7a701bc34d686fa87dfae", m.Value.TransactionId.ToString());
        Assert.Equal("STUN test client", m.Value.Get<Software>()!.Value);
        Assert.Equal(0x6e0001ffu, m.Value.Get<Priority>()!.Value);
        Assert.Equal(0x932ff9b151263b36UL, m.Value.Get<IceControlled>()!.Value);
        Assert.Equal("evtj:h6vY", m.Value.Get<Username>()!.Value);
        Assert.Equal(0xe57a3bcfu, m.Value.Get<Fingerprint>()!.Value);
        Assert.Empty(m.Value.UnknownComprehensionRequired);
    }

    [Theory]
    [MemberData(nameof(ShortTermVectors))]
    public void Short_term_vectors_verify_integrity_and_fingerprint_with_the_rfc_password(string name, byte[] vector)
    {
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(vector, ShortTermKey));
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(vector));
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyMessageIntegrity(vector, "VOkJxbRl1RmTxUk/WvJxBT"u8));
        Assert.Equal(StunCheck.Absent, StunIntegrity.VerifyMessageIntegritySha256(vector, ShortTermKey));
        Assert.NotNull(name);
    }

    public static TheoryData<string, byte[]> ShortTermVectors => new()
    {
        { "request", SampleRequest },
        { "ipv4 response", SampleIpv4Response },
        { "ipv6 response", SampleIpv6Response },
    };

    [Fact]
    public void Sample_request_re_encodes_to_the_same_bytes()
    {
        var m = StunMessage.Parse(SampleRequest).Value;
        var rebuilt = m with { Attributes = [.. m.Attributes.Where(a => a is not (MessageIntegrity or Fingerprint))] };
        Assert.Equal(SampleRequest, rebuilt.Encode(ShortTermKey, fingerprint: true, paddingByte: 0x20));
    }

    [Fact]
    public void Sample_ipv4_response_decodes_the_xor_mapped_address_and_re_encodes()
    {
        var m = StunMessage.Parse(SampleIpv4Response).Value;
        Assert.Equal((StunClass.SuccessResponse, StunMethod.Binding), (m.Class, m.Method));
        Assert.Equal("test vector", m.Get<Software>()!.Value);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), m.Get<XorMappedAddress>()!.EndPoint);
        var built = new StunMessage(m.Class, m.Method, m.TransactionId,
            [new Software("test vector"), new XorMappedAddress(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853))]);
        Assert.Equal(SampleIpv4Response, built.Encode(ShortTermKey, fingerprint: true, paddingByte: 0x20));
    }

    [Fact]
    public void Sample_ipv6_response_decodes_the_xor_mapped_address_and_re_encodes()
    {
        var m = StunMessage.Parse(SampleIpv6Response).Value;
        var expected = new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        Assert.Equal(expected, m.Get<XorMappedAddress>()!.EndPoint);
        var built = new StunMessage(m.Class, m.Method, m.TransactionId, [new Software("test vector"), new XorMappedAddress(expected)]);
        Assert.Equal(SampleIpv6Response, built.Encode(ShortTermKey, fingerprint: true, paddingByte: 0x20));
    }

    [Fact]
    public void Long_term_request_verifies_with_the_md5_key_of_the_saslprepped_password_and_re_encodes()
    {
        var m = StunMessage.Parse(SampleLongTermRequest);
        Assert.True(m.Ok, m.Error);
        const string user = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
        Assert.Equal(user, m.Value.Get<Username>()!.Value);
        Assert.Equal("f//499k954d6OL34oL9FSTvy64sA", m.Value.Get<Nonce>()!.Value);
        Assert.Equal("example.org", m.Value.Get<Realm>()!.Value);
        Assert.False(m.Value.Has<Fingerprint>());

        // The RFC's password "The\u00ADM\u00AAtr\u2168" is "TheMatrIX" after SASLprep (see StunStringPrep).
        var key = StunIntegrity.LongTermKey(user, "example.org", "TheMatrIX").Value;
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(SampleLongTermRequest, key));
        Assert.Equal(StunCheck.Invalid, StunIntegrity.VerifyMessageIntegrity(SampleLongTermRequest, StunIntegrity.LongTermKey(user, "example.org", "TheMatrix").Value));
        Assert.Equal(StunCheck.Absent, StunIntegrity.VerifyFingerprint(SampleLongTermRequest));

        var rebuilt = m.Value with { Attributes = [.. m.Value.Attributes.Where(a => a is not MessageIntegrity)] };
        Assert.Equal(SampleLongTermRequest, rebuilt.Encode(key));
    }

    [Fact]
    public void Crc32_gives_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Long_term_key_is_md5_of_username_realm_and_password()
    {
        // `printf 'user:realm:pass' | md5sum`
        Assert.Equal("8493fbc53ba582fb4c044c456bdc40eb", Convert.ToHexStringLower(StunIntegrity.LongTermKey("user", "realm", "pass").Value));
        Assert.Equal(32, StunIntegrity.LongTermKey("user", "realm", "pass", StunPasswordAlgorithm.Sha256).Value.Length);
    }
}
