// The server side of SCRAM-SHA-1 against the RFC 5802 §5 example exchange (the same vectors the
// client is tested with), its refusals, and random input that must never throw.
using EdgeVpn.Protocol.Xmpp;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public class ScramSha1ServerTests
{
    private static ScramSha1Server.StoredCredentials Pencil() =>
        ScramSha1Server.StoredCredentials.From("pencil", Convert.FromBase64String("QSXCR+Q6sek8bf92"), 4096);

    [Fact]
    public void The_RFC_5802_example_exchange_gives_the_RFC_s_server_messages()
    {
        var server = new ScramSha1Server();
        Assert.Equal("user", server.HandleClientFirst("n,,n=user,r=" + ScramSha1ClientTests.Nonce).Value);
        Assert.Equal(ScramSha1ClientTests.ServerFirst, server.ServerFirst(Pencil(), "3rfcNHYJY1ZVvWVs7j"));
        var final = server.HandleClientFinal(ScramSha1ClientTests.ClientFinal);
        Assert.True(final.Ok, final.Error);
        Assert.Equal(ScramSha1ClientTests.ServerFinal, final.Value);
    }

    [Fact]
    public void Our_client_and_our_server_agree_and_a_wrong_password_is_refused()
    {
        foreach (var (password, ok) in new[] { ("pencil", true), ("pen", false) })
        {
            var client = ScramSha1Client.Create("n7", password, "0123456789abcdefXYZ").Value;
            var server = new ScramSha1Server();
            Assert.Equal("n7", server.HandleClientFirst(client.ClientFirst).Value);
            var clientFinal = client.HandleServerFirst(server.ServerFirst(Pencil(), "srv1"));
            var serverFinal = server.HandleClientFinal(clientFinal.Value);
            Assert.Equal(ok, serverFinal.Ok);
            if (ok) Assert.True(client.VerifyServerFinal(serverFinal.Value).Ok);
            else Assert.Equal("invalid-proof", serverFinal.Error);
        }
    }

    [Theory]
    [InlineData("y,,n=user,r=abc")]          // channel binding asked for
    [InlineData("n,a=admin,n=user,r=abc")]   // an authzid
    [InlineData("n,,m=ext,n=user,r=abc")]    // a mandatory extension
    [InlineData("n,,n=user")]                // no nonce
    [InlineData("n,,garbage")]
    public void A_client_first_message_the_server_does_not_support_is_refused(string clientFirst) =>
        Assert.False(new ScramSha1Server().HandleClientFirst(clientFirst).Ok);

    [Fact]
    public void A_client_final_message_with_another_nonce_or_binding_is_refused()
    {
        var server = new ScramSha1Server();
        server.HandleClientFirst("n,,n=user,r=" + ScramSha1ClientTests.Nonce);
        server.ServerFirst(Pencil(), "3rfcNHYJY1ZVvWVs7j");
        Assert.False(server.HandleClientFinal(ScramSha1ClientTests.ClientFinal.Replace("r=fyko", "r=fykO", StringComparison.Ordinal)).Ok);
        Assert.False(server.HandleClientFinal(ScramSha1ClientTests.ClientFinal.Replace("c=biws", "c=eSws", StringComparison.Ordinal)).Ok);
        Assert.False(new ScramSha1Server().HandleClientFinal(ScramSha1ClientTests.ClientFinal).Ok);   // before server-first
    }

    [Fact]
    public void Random_messages_never_throw()
    {
        PropertyCheck.Run(300, Prop.ForAll(ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<string>(), (first, final) =>
        {
            var server = new ScramSha1Server();
            var user = server.HandleClientFirst(first ?? "");
            if (user.Ok) server.ServerFirst(Pencil(), "x");
            server.HandleClientFinal(final ?? "");
            return true;
        }));
    }
}
