// The RFC 8839 endpoint lines carried in link signaling: exact text for known candidates, the
// RFC's own example lines, one rejection per defect, a parser that never throws on random or
// mutated text, and round trips of random endpoints.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Ice;

public class IceEndpointCodecTests
{
    private static readonly IceEndpoint Example = new("8hhY", "asd88fgpdd777uzjYhagZg",
    [
        new IceCandidate("1", 2130706431, IPEndPoint.Parse("10.0.0.1:5000"), IceCandidateType.Host),
        new IceCandidate("2", 1694498815, IPEndPoint.Parse("203.0.113.7:40001"), IceCandidateType.ServerReflexive, IPEndPoint.Parse("10.0.0.1:5000")),
        new IceCandidate("3", 16777215, IPEndPoint.Parse("[2001:db8::1]:49152"), IceCandidateType.Relayed, IPEndPoint.Parse("203.0.113.7:40001")),
    ]);

    private const string ExampleText =
        "a=ice-ufrag:8hhY\r\n" +
        "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n" +
        "a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n" +
        "a=candidate:2 1 UDP 1694498815 203.0.113.7 40001 typ srflx raddr 10.0.0.1 rport 5000\r\n" +
        "a=candidate:3 1 UDP 16777215 2001:db8::1 49152 typ relay raddr 203.0.113.7 rport 40001\r\n" +
        "a=end-of-candidates";

    [Fact]
    public void An_endpoint_encodes_to_rfc_8839_attribute_lines_and_parses_back()
    {
        Assert.Equal(ExampleText, IceEndpointCodec.Encode(Example));
        var p = IceEndpointCodec.Parse(ExampleText);
        Assert.True(p.Ok, p.Error);
        Assert.Equal(Example.Ufrag, p.Value.Ufrag);
        Assert.Equal(Example.Password, p.Value.Password);
        Assert.Equal(Example.Candidates, p.Value.Candidates);
    }

    [Fact]
    public void The_rfc_8839_example_candidate_lines_parse_with_extensions_ignored()
    {
        var host = IceEndpointCodec.ParseCandidate("candidate:1 1 UDP 2130706431 203.0.113.141 8998 typ host");
        Assert.True(host.Ok, host.Error);
        Assert.Equal(new IceCandidate("1", 2130706431, IPEndPoint.Parse("203.0.113.141:8998"), IceCandidateType.Host), host.Value);
        var srflx = IceEndpointCodec.ParseCandidate("candidate:2 1 udp 1694498815 192.0.2.3 45664 typ srflx raddr 203.0.113.141 rport 8998 generation 0");
        Assert.True(srflx.Ok, srflx.Error);
        Assert.Equal(IceCandidateType.ServerReflexive, srflx.Value.Type);
        Assert.Equal(IPEndPoint.Parse("203.0.113.141:8998"), srflx.Value.RelatedAddress);
    }

    [Fact]
    public void Newline_only_line_ends_and_a_final_line_break_are_accepted()
    {
        var p = IceEndpointCodec.Parse(ExampleText.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        Assert.True(p.Ok, p.Error);
        Assert.Equal(3, p.Value.Candidates.Count);
    }

    [Theory]
    [InlineData("", "no a=ice-ufrag")]
    [InlineData("a=ice-pwd:asd88fgpdd777uzjYhagZg", "no a=ice-ufrag")]
    [InlineData("a=ice-ufrag:8hhY", "no a=ice-pwd")]
    [InlineData("a=ice-ufrag:8hh\na=ice-pwd:asd88fgpdd777uzjYhagZg", "ice-ufrag has 3 characters")]
    [InlineData("a=ice-ufrag:8hhY\na=ice-pwd:short", "ice-pwd has 5 characters")]
    [InlineData("a=ice-ufrag:8h-Y\na=ice-pwd:asd88fgpdd777uzjYhagZg", "not an ice-char")]
    [InlineData("a=ice-ufrag:8hhY\na=ice-ufrag:8hhY\na=ice-pwd:asd88fgpdd777uzjYhagZg", "a second a=ice-ufrag")]
    [InlineData("a=ice-ufrag:8hhY\na=ice-pwd:asd88fgpdd777uzjYhagZg\na=mid:0", "is not an a=ice-ufrag")]
    [InlineData("a=ice-ufrag:8hhY\n\na=ice-pwd:asd88fgpdd777uzjYhagZg", "empty line")]
    [InlineData("a=ice-ufrag:8hhY\na=ice-pwd:asd88fgpdd777uzjYhagZg\na=end-of-candidates\na=candidate:1 1 UDP 1 10.0.0.1 5 typ host", "after a=end-of-candidates")]
    public void Malformed_endpoint_text_is_rejected_with_a_clear_error(string text, string expected)
    {
        var p = IceEndpointCodec.Parse(text);
        Assert.False(p.Ok);
        Assert.Contains(expected, p.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ", "fields")]
    [InlineData("candidate:1 2 UDP 2130706431 10.0.0.1 5000 typ host", "component 2 is not supported")]
    [InlineData("candidate:1 0 UDP 2130706431 10.0.0.1 5000 typ host", "component id '0'")]
    [InlineData("candidate:1 1 TCP 2130706431 10.0.0.1 5000 typ host", "UDP only")]
    [InlineData("candidate:1 1 UDP 0 10.0.0.1 5000 typ host", "priority '0'")]
    [InlineData("candidate:1 1 UDP 4294967295 10.0.0.1 5000 typ host", "priority '4294967295'")]
    [InlineData("candidate:1 1 UDP 99999999999 10.0.0.1 5000 typ host", "priority")]
    [InlineData("candidate:1 1 UDP 2130706431 host.example 5000 typ host", "not an IP literal")]
    [InlineData("candidate:1 1 UDP 2130706431 010.0.0.1 5000 typ host", "not an IP literal")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 0 typ host", "not an IP literal")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 65536 typ host", "not an IP literal")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 5000 type host", "where 'typ' belongs")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ stun", "type 'stun'")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ srflx raddr 10.0.0.2", "raddr without rport")]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ srflx generation", "no value")]
    [InlineData("candidate:a-b 1 UDP 2130706431 10.0.0.1 5000 typ host", "foundation")]
    [InlineData("candidate:123456789012345678901234567890123 1 UDP 1 10.0.0.1 5000 typ host", "foundation")]
    [InlineData("cand:1 1 UDP 2130706431 10.0.0.1 5000 typ host", "does not start with")]
    public void Malformed_candidate_lines_are_rejected_with_a_clear_error(string line, string expected)
    {
        var p = IceEndpointCodec.ParseCandidate(line);
        Assert.False(p.Ok);
        Assert.Contains(expected, p.Error, StringComparison.Ordinal);
        var whole = IceEndpointCodec.Parse($"a=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na={line}");
        Assert.False(whole.Ok);
        Assert.StartsWith("line 3: ", whole.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_the_candidate_bound_is_rejected()
    {
        var many = Enumerable.Range(0, IceEndpointCodec.CandidatesMax + 1)
            .Select(i => new IceCandidate("1", 1, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1000 + i), IceCandidateType.Host)).ToList();
        var p = IceEndpointCodec.Parse(IceEndpointCodec.Encode(Example with { Candidates = many }));
        Assert.False(p.Ok);
        Assert.Contains($"more than {IceEndpointCodec.CandidatesMax} candidates", p.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_endpoints_round_trip_through_the_text()
    {
        Check(Seeds, seed =>
        {
            var e = RandomEndpoint(new DeterministicRandom(seed));
            var p = IceEndpointCodec.Parse(IceEndpointCodec.Encode(e));
            Assert.True(p.Ok, p.Error);
            Assert.Equal((e.Ufrag, e.Password), (p.Value.Ufrag, p.Value.Password));
            Assert.Equal(e.Candidates, p.Value.Candidates);
            return true;
        }, maxTest: 500);
    }

    [Fact]
    public void The_parser_never_throws_on_random_or_mutated_text()
    {
        const string alphabet = "a=ice-ufrgpwdcn:ty h0123456789.:UDPsrflxrelayprflx \r\n/+ABZ%é\0";
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var random = new string(Enumerable.Range(0, rng.NextInt(300)).Select(_ => alphabet[rng.NextInt(alphabet.Length)]).ToArray());
            _ = IceEndpointCodec.Parse(random);
            _ = IceEndpointCodec.ParseCandidate(random);
            var text = IceEndpointCodec.Encode(RandomEndpoint(rng)).ToCharArray();
            for (int i = rng.NextInt(4) + 1; i > 0 && text.Length > 0; i--) text[rng.NextInt(text.Length)] = alphabet[rng.NextInt(alphabet.Length)];
            var mutated = new string(text);
            var p = IceEndpointCodec.Parse(mutated[..rng.NextInt(mutated.Length + 1)]);
            Assert.True(p.Ok || !string.IsNullOrWhiteSpace(p.Error));
            return true;
        }, maxTest: 2000);
    }

    private static IceEndpoint RandomEndpoint(DeterministicRandom rng)
    {
        const string iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        string Ice(int min, int max) => new(Enumerable.Range(0, min + rng.NextInt(max - min + 1)).Select(_ => iceChars[rng.NextInt(iceChars.Length)]).ToArray());
        IPEndPoint Ep(int portMin)
        {
            var ip = rng.NextInt(3) == 0
                ? new IPAddress(Enumerable.Range(0, 16).Select(_ => (byte)rng.NextInt(256)).ToArray())
                : new IPAddress(Enumerable.Range(0, 4).Select(_ => (byte)rng.NextInt(256)).ToArray());
            return new IPEndPoint(ip, portMin + rng.NextInt(65_536 - portMin));
        }
        var candidates = Enumerable.Range(0, rng.NextInt(8)).Select(_ =>
        {
            var type = (IceCandidateType)rng.NextInt(4);
            uint priority = 1 + (uint)rng.NextInt(int.MaxValue);
            return new IceCandidate(Ice(1, 32), priority, Ep(1), type, type == IceCandidateType.Host || rng.NextInt(4) == 0 ? null : Ep(0));
        }).ToList();
        return new IceEndpoint(Ice(4, 40), Ice(22, 60), candidates);
    }
}
