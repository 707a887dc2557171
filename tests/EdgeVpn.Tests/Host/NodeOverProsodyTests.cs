// Two host loops bound to real XMPP clients against a real Prosody (ProsodyServer): presence
// gives each node the other's id, link negotiation travels as our JSON signals through the
// server, and over the loopback transport the link comes up; over the unbound transport (the
// placeholder that reports "not bound") negotiation still completes and status says why no link came up.
// Polling status is a liveness bound (StepsMax × Poll), never a timing assertion.
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Tests.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Host;

public sealed class NodeOverProsodyTests(ProsodyServer prosody) : IClassFixture<ProsodyServer>
{
    [ProsodyFact]
    public async Task Two_nodes_negotiate_through_Prosody_and_link_up_over_loopback()
    {
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));
        var links = new LoopbackLinkNetwork();
        NodeId a = HostTestKit.IdOf(1), b = HostTestKit.IdOf(2);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, e => links.Attach(a, e, "sha-256 A"));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, e => links.Attach(b, e, "sha-256 B"));
        var (sa, sb) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => x.Links.Any(l => l.State == "connected") && y.Links.Any(l => l.State == "connected"), "a connected link at both ends");
        Assert.Equal(("online", 2), (sa.Signaling, sa.Members));
        Assert.Equal(b.ToString(), sa.Peers.Single().NodeId);
        Assert.True(sa.SignalsSent + sb.SignalsSent >= 3, "request, response and completion travel through the server");
    }

    // The real node's lookup bootstrap (BootstrapChoice) against a real server: before it, two
    // nodes that came up together joined through each other and never formed a ring.
    [ProsodyFact]
    public async Task Two_nodes_with_lookup_membership_form_a_ring_through_Prosody()
    {
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));
        var links = new LoopbackLinkNetwork();
        var lookup = HostTestKit.Protocol with { Topology = HostTestKit.Protocol.Topology with { Membership = EdgeVpn.Protocol.Topology.MembershipMode.Lookup } };
        NodeId a = HostTestKit.IdOf(5), b = HostTestKit.IdOf(6);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, e => links.Attach(a, e, "sha-256 A"), protocol: lookup);
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, e => links.Attach(b, e, "sha-256 B"), protocol: lookup);
        var (sa, sb) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => x.Links.Any(l => l.State == "connected") && y.Links.Any(l => l.State == "connected"), "a connected link at both ends");
        Assert.Equal(b.ToString(), sa.Links.Single(l => l.State == "connected").Peer);
        Assert.Equal(a.ToString(), sb.Links.Single(l => l.State == "connected").Peer);
    }

    [ProsodyFact]
    public async Task On_the_unbound_transport_negotiation_completes_and_status_says_why_no_link_is_up()
    {
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));
        NodeId a = HostTestKit.IdOf(3), b = HostTestKit.IdOf(4);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, e => new UnboundLinkTransport(e));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, e => new UnboundLinkTransport(e));
        var (sa, sb) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => (x.LastTransportError ?? y.LastTransportError) is not null, "a transport error after negotiation");
        Assert.Equal(UnboundLinkTransport.Reason, sa.LastTransportError ?? sb.LastTransportError);
        Assert.True(sa.SignalsReceived + sb.SignalsReceived >= 2);
        Assert.DoesNotContain("pw", sa.ToString() + sb.ToString());
    }
}
