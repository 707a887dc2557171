// The roster built from XMPP presence: the view holds self plus online peers, our own id is
// never a peer, the latest address of an id receives its signals, and order never depends on hashing.
using EdgeVpn.Protocol.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public class PresenceRosterTests
{
    private static readonly Protocol.Ring.NodeId Self = EdgeVpn.Tests.Host.HostTestKit.IdOf(1);

    [Fact]
    public void The_view_holds_self_and_every_online_peer_sorted()
    {
        var r = new PresenceRoster(Self);
        Assert.True(r.Apply(EdgeVpn.Tests.Host.HostTestKit.JidOf(3), EdgeVpn.Tests.Host.HostTestKit.IdOf(3), true, out _));
        Assert.True(r.Apply(EdgeVpn.Tests.Host.HostTestKit.JidOf(2), EdgeVpn.Tests.Host.HostTestKit.IdOf(2), true, out _));
        Assert.False(r.Apply(EdgeVpn.Tests.Host.HostTestKit.JidOf(2), EdgeVpn.Tests.Host.HostTestKit.IdOf(2), true, out _));
        var v = r.View();
        Assert.Equal([EdgeVpn.Tests.Host.HostTestKit.IdOf(1), EdgeVpn.Tests.Host.HostTestKit.IdOf(2), EdgeVpn.Tests.Host.HostTestKit.IdOf(3)], v.Members.ToArray());
        Assert.True(r.Apply(EdgeVpn.Tests.Host.HostTestKit.JidOf(2), null, false, out _));
        Assert.Equal(2, r.View().Count);
        Assert.True(r.View().Version > v.Version);
    }

    [Fact]
    public void An_address_announcing_our_own_id_is_refused()
    {
        var r = new PresenceRoster(Self);
        Assert.False(r.Apply(EdgeVpn.Tests.Host.HostTestKit.JidOf(2), Self, true, out string? refusal));
        Assert.Contains("our own node id", refusal);
        Assert.Null(r.AddressOf(Self));
    }

    [Fact]
    public void Signals_go_to_the_latest_address_and_fall_back_when_it_leaves()
    {
        var r = new PresenceRoster(Self);
        var old = Xmpp("u@x/a");
        var fresh = Xmpp("u@x/b");
        r.Apply(old, EdgeVpn.Tests.Host.HostTestKit.IdOf(5), true, out _);
        r.Apply(fresh, EdgeVpn.Tests.Host.HostTestKit.IdOf(5), true, out _);
        Assert.Equal(fresh, r.AddressOf(EdgeVpn.Tests.Host.HostTestKit.IdOf(5)));
        r.Apply(fresh, null, false, out _);
        Assert.Equal(old, r.AddressOf(EdgeVpn.Tests.Host.HostTestKit.IdOf(5)));
        Assert.Equal(EdgeVpn.Tests.Host.HostTestKit.IdOf(5), r.NodeOf(old));
        r.Apply(old, null, false, out _);
        Assert.Null(r.AddressOf(EdgeVpn.Tests.Host.HostTestKit.IdOf(5)));
    }

    private static Protocol.Xmpp.Jid Xmpp(string s) => Protocol.Xmpp.Jid.Parse(s).Value;
}
