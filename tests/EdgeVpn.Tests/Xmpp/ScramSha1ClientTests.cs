// SCRAM-SHA-1 against the RFC 5802 §5 example exchange, and its refusals: a server that does
// not extend our nonce, too few iterations, mandatory extensions, a forged server signature.
using EdgeVpn.Protocol.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public class ScramSha1ClientTests
{
    internal const string Nonce = "fyko+d2lbbFgONRv9qkxdawL";
    internal const string ServerFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    internal const string ClientFinal = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    internal const string ServerFinal = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

    private static ScramSha1Client Rfc() => ScramSha1Client.Create("user", "pencil", Nonce).Value;

    [Fact]
    public void The_rfc_5802_example_exchange_is_reproduced_byte_for_byte()
    {
        var scram = Rfc();
        Assert.Equal("n,,n=user,r=" + Nonce, scram.ClientFirst);
        var final = scram.HandleServerFirst(ServerFirst);
        Assert.True(final.Ok, final.Error);
        Assert.Equal(ClientFinal, final.Value);
        Assert.True(scram.VerifyServerFinal(ServerFinal).Ok);
    }

    [Fact]
    public void A_forged_server_signature_or_a_server_error_is_refused()
    {
        var scram = Rfc();
        scram.HandleServerFirst(ServerFirst);
        Assert.False(scram.VerifyServerFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKA=").Ok);
        Assert.False(scram.VerifyServerFinal("v=not base64!").Ok);
        Assert.Contains("other-error", scram.VerifyServerFinal("e=other-error").Error);
        Assert.False(Rfc().VerifyServerFinal(ServerFinal).Ok);   // before server-first
    }

    [Theory]
    [InlineData("r=someoneelse123456789,s=QSXCR+Q6sek8bf92,i=4096", "nonce")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096", "nonce")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1", "iteration")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=99999999", "iteration")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=-4096", "iteration")]
    [InlineData("m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096", "extension")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,s=***,i=4096", "salt")]
    [InlineData("r=fyko+d2lbbFgONRv9qkxdawLx,i=4096", "lacks")]
    [InlineData("garbage", "malformed")]
    public void A_bad_server_first_message_is_refused_with_a_reason(string serverFirst, string reasonWord)
    {
        var result = Rfc().HandleServerFirst(serverFirst);
        Assert.False(result.Ok);
        Assert.Contains(reasonWord, result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Usernames_are_escaped_and_bad_inputs_refused_without_echoing_the_password()
    {
        Assert.Equal("n,,n=a=3Db=2Cc,r=" + Nonce, ScramSha1Client.Create("a=b,c", "pencil", Nonce).Value.ClientFirst);
        Assert.False(ScramSha1Client.Create("user", "pencil", "short").Ok);
        Assert.False(ScramSha1Client.Create("user", "pencil", "has,comma-and-long-enough").Ok);
        var bad = ScramSha1Client.Create("user", "secret\u0001pw", Nonce);
        Assert.False(bad.Ok);
        Assert.DoesNotContain("secret", bad.Error);
    }
}
