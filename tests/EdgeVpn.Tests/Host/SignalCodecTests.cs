// The JSON payload of our XMPP signals: exact text, round trips, refusals, and no input throws.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Node;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Host;

public class SignalCodecTests
{
    [Fact]
    public void A_link_request_has_this_exact_text()
    {
        Assert.Equal("{\"v\":1,\"t\":\"request\",\"link\":\"00000000000000ff\",\"kind\":\"long\"}",
            SignalCodec.Encode(new LinkRequest(new LinkId(255), LinkKind.LongDistance)));
    }

    public static TheoryData<string> Signals() => new()
    {
        SignalCodec.Encode(new LinkRequest(new LinkId(1), LinkKind.Successor)),
        SignalCodec.Encode(new LinkRequest(new LinkId(ulong.MaxValue), LinkKind.OnDemand)),
        SignalCodec.Encode(new LinkResponse(new LinkId(2), LinkRefusal.None, "a=ice-ufrag:x\r\na=candidate:1 1 udp 1 10.0.0.1 5 typ host", "sha-256 AB:CD")),
        SignalCodec.Encode(new LinkResponse(new LinkId(3), LinkRefusal.TooManyIncomingLong, "", "")),
        SignalCodec.Encode(new LinkComplete(new LinkId(4), "e \"quoted\" \\ \u00e9", "f")),
    };

    [Theory]
    [MemberData(nameof(Signals))]
    public void Every_link_signal_round_trips(string json)
    {
        var decoded = SignalCodec.Decode(json);
        Assert.True(decoded.Ok, decoded.Error);
        Assert.Equal(json, SignalCodec.Encode(decoded.Value.Link!));
    }

    [Fact]
    public void A_membership_message_round_trips_through_base64()
    {
        var m = new MembershipMessage.Stabilize(42);
        var decoded = SignalCodec.Decode(SignalCodec.Encode(m));
        Assert.True(decoded.Ok, decoded.Error);
        Assert.Equal(MembershipCodec.Encode(m), MembershipCodec.Encode(decoded.Value.Membership!));
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"t\":\"request\"}", "field 'v'")]
    [InlineData("{\"v\":2,\"t\":\"request\",\"link\":\"0000000000000001\",\"kind\":\"long\"}", "version 2 is not 1")]
    [InlineData("{\"v\":1,\"t\":\"hello\"}", "unknown type 'hello'")]
    [InlineData("{\"v\":1,\"t\":\"request\",\"link\":\"0000000000000001\"}", "field 'kind' is missing")]
    [InlineData("{\"v\":1,\"t\":\"request\",\"link\":\"0000000000000001\",\"kind\":\"long\",\"x\":1}", "unknown field 'x'")]
    [InlineData("{\"v\":1,\"v\":1,\"t\":\"request\"}", "duplicate field 'v'")]
    [InlineData("{\"v\":1,\"t\":\"request\",\"link\":\"xyz\",\"kind\":\"long\"}", "link id must be 16 hex digits")]
    [InlineData("{\"v\":1,\"t\":\"request\",\"link\":\"0000000000000001\",\"kind\":\"short\"}", "unknown link kind 'short'")]
    [InlineData("{\"v\":1,\"t\":\"response\",\"link\":\"0000000000000001\",\"refusal\":\"maybe\",\"endpoint\":\"\",\"fingerprint\":\"\"}", "unknown refusal 'maybe'")]
    [InlineData("{\"v\":1,\"t\":\"complete\",\"link\":\"0000000000000001\",\"endpoint\":1,\"fingerprint\":\"\"}", "must be strings")]
    [InlineData("{\"v\":1,\"t\":\"membership\",\"data\":\"!!\"}", "not base64")]
    [InlineData("{\"v\":1,\"t\":\"membership\",\"data\":\"AQ==\"}", "membership message")]
    [InlineData("{\"v\":1", "not JSON")]
    public void Malformed_payloads_are_refused_with_the_reason(string json, string reason)
    {
        var r = SignalCodec.Decode(json);
        Assert.False(r.Ok);
        Assert.Contains(reason, r.Error);
    }

    [Fact]
    public void An_oversized_payload_is_refused() =>
        Assert.Contains("larger than", SignalCodec.Decode("{\"v\":1,\"t\":\"" + new string('x', SignalCodec.PayloadBytesMax) + "\"}").Error);

    [Fact]
    public void Random_text_never_throws() =>
        PropertyRunner.Check(PropertyRunner.Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            string baseText = SignalCodec.Encode(new LinkResponse(new LinkId(rng.NextUInt64()), LinkRefusal.None, "ep", "fp"));
            var chars = baseText.ToCharArray();
            for (int k = 0; k < 1 + rng.NextInt(4); k++) chars[rng.NextInt(chars.Length)] = "{}[]\":,0a\\ \u0000"[rng.NextInt(12)];
            var r = SignalCodec.Decode(new string(chars));
            return r.Ok || r.Error!.StartsWith("signal payload", StringComparison.Ordinal);
        }, 500);
}
