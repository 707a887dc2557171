// Addresses, certificate pins and configuration checks: what is accepted, what is refused and
// that each refusal names the field or part at fault.
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public class XmppAddressingTests
{
    [Theory]
    [InlineData("user@Example.ORG/Res", "user", "example.org", "Res")]
    [InlineData("example.org", null, "example.org", null)]
    [InlineData("a@b.c.", "a", "b.c", null)]
    [InlineData("a@b/c/d", "a", "b", "c/d")]
    public void Addresses_parse_into_their_parts(string text, string? local, string domain, string? resource)
    {
        var jid = Jid.Parse(text);
        Assert.True(jid.Ok, jid.Error);
        Assert.Equal(local, jid.Value.Local);
        Assert.Equal(domain, jid.Value.Domain);
        Assert.Equal(resource, jid.Value.Resource);
        Assert.Equal(Jid.Parse(jid.Value.ToString()).Value, jid.Value);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("@b", "localpart")]
    [InlineData("a@", "domainpart")]
    [InlineData("a b@c", "localpart")]
    [InlineData("a@b/", "resourcepart")]
    [InlineData("a@b c", "domainpart")]
    [InlineData(".", "domainpart")]
    public void Bad_addresses_are_refused_naming_the_part(string text, string part)
    {
        var jid = Jid.Parse(text);
        Assert.False(jid.Ok);
        Assert.Contains(part, jid.Error);
    }

    [Fact]
    public void A_part_longer_than_1023_bytes_is_refused()
    {
        Assert.False(Jid.Parse(new string('a', 1024) + "@b").Ok);
        Assert.True(Jid.Parse(new string('a', 1023) + "@b").Ok);
    }

    [Fact]
    public void Fingerprints_parse_with_or_without_colons_and_bad_ones_are_refused()
    {
        string hex = string.Concat(Enumerable.Repeat("ab", 32));
        var plain = Assert.IsType<TlsTrust.Fingerprint>(TlsTrust.ParseFingerprint(hex).Value);
        var colons = Assert.IsType<TlsTrust.Fingerprint>(TlsTrust.ParseFingerprint(string.Join(":", Enumerable.Repeat("AB", 32))).Value);
        Assert.Equal(plain.Sha256, colons.Sha256);
        Assert.False(TlsTrust.ParseFingerprint(hex[..62]).Ok);
        Assert.False(TlsTrust.ParseFingerprint(hex[..62] + "zz").Ok);
        Assert.False(TlsTrust.ParseFingerprint(null).Ok);
        Assert.False(new TlsTrust.SystemStore().Validate(null, System.Net.Security.SslPolicyErrors.None, out string reason));
        Assert.Contains("no certificate", reason);
    }

    [Fact]
    public void A_bad_configuration_names_each_field_and_the_session_refuses_it()
    {
        var config = new XmppConfig
        {
            Host = "",
            Port = 70000,
            Account = Jid.Parse("example.org").Value,
            Password = "",
            NodeId = NodeId.Zero,
            ReconnectDelayFirst = TimeSpan.FromSeconds(10),
            ReconnectDelayMax = TimeSpan.FromSeconds(1),
            ReconnectJitter = 1.5,
            SignalBytesMax = 1 << 20,
        };
        var errors = config.Validate();
        foreach (var field in new[] { "Host", "Port", "Account", "Password", "ReconnectDelayMax", "ReconnectJitter", "SignalBytesMax" })
            Assert.Contains(errors, e => e.StartsWith(field + ":", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new XmppSession(config, () => "nonce-nonce-nonce-1"));
    }

    [Fact]
    public void The_configuration_prints_without_its_password()
    {
        var config = new XmppConfig { Host = "h", Account = Jid.Parse("a@b").Value, Password = "hunter2-secret", NodeId = NodeId.Zero };
        Assert.DoesNotContain("hunter2-secret", config.ToString());
        Assert.Contains("(hidden)", config.ToString());
    }
}
