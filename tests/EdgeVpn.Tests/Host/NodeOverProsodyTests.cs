// Two host loops bound to real XMPP clients against a real Prosody (ProsodyServer): presence
// gives each node the other's id, link negotiation travels as our JSON signals through the
// server, and over the loopback transport the link comes up; over the unbound transport (what
// `edgevpn node` runs today) negotiation still completes and status says why no link came up.
// Polling status is a liveness bound (StepsMax × Poll), never a timing assertion.
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Xmpp;
using EdgeVpn.Tests.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Host;

public sealed class NodeOverProsodyTests(ProsodyServer prosody) : IClassFixture<ProsodyServer>
{
    private const int StepsMax = 600;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private sealed class RealNodeUnderTest : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _loop, _xmpp, _pump;
        public NodeHost Host { get; }
        public XmppClient Client { get; }

        public RealNodeUnderTest(ProsodyServer server, string user, string password, NodeId id, Func<ILinkEvents, ILinkTransport> transport)
        {
            var config = new XmppConfig
            {
                Host = "127.0.0.1",
                Port = server.Port,
                Account = Jid.Parse($"{user}@{ProsodyServer.Domain}").Value,
                Password = password,
                Resource = "node",
                NodeId = id,
                OverlayId = "ov",
                Group = ProsodyServer.Group,
            };
            Client = new XmppClient(config, new TlsTrust.Fingerprint(server.CertificateSha256), TimeProvider.System);
            Host = new NodeHost(new NodeHostOptions { NodeId = id, Seed = id.Lower, Protocol = HostTestKit.Protocol, OverlayId = "ov", Account = config.Account.ToString() },
                transport, new NullLocalPort(), new XmppSignalingPort(Client), TimeProvider.System);
            _loop = Host.RunAsync(_cts.Token);
            _xmpp = Task.Run(() => Client.RunAsync(_cts.Token));
            _pump = XmppBinding.PumpAsync(Client, Host, _cts.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            await Task.WhenAll(_loop, _xmpp, _pump).WaitAsync(TimeSpan.FromSeconds(30));
            await Host.DisposeAsync();
            await Client.DisposeAsync();
        }
    }

    private static async Task<(NodeStatus, NodeStatus)> Until(NodeHost a, NodeHost b, Func<NodeStatus, NodeStatus, bool> done, string what)
    {
        NodeStatus sa = await a.StatusAsync(), sb = await b.StatusAsync();
        for (int k = 0; k < StepsMax && !done(sa, sb); k++)
        {
            await Task.Delay(Poll);
            (sa, sb) = (await a.StatusAsync(), await b.StatusAsync());
        }
        Assert.True(done(sa, sb), $"not reached: {what}\nA: {sa}\nB: {sb}");
        return (sa, sb);
    }

    [ProsodyFact]
    public async Task Two_nodes_negotiate_through_Prosody_and_link_up_over_loopback()
    {
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));
        var links = new LoopbackLinkNetwork();
        NodeId a = HostTestKit.IdOf(1), b = HostTestKit.IdOf(2);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, e => links.Attach(a, e, "sha-256 A"));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, e => links.Attach(b, e, "sha-256 B"));
        var (sa, sb) = await Until(na.Host, nb.Host, (x, y) => x.Links.Any(l => l.State == "connected") && y.Links.Any(l => l.State == "connected"), "a connected link at both ends");
        Assert.Equal(("online", 2), (sa.Signaling, sa.Members));
        Assert.Equal(b.ToString(), sa.Peers.Single().NodeId);
        Assert.True(sa.SignalsSent + sb.SignalsSent >= 3, "request, response and completion travel through the server");
    }

    [ProsodyFact]
    public async Task On_the_unbound_transport_negotiation_completes_and_status_says_why_no_link_is_up()
    {
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true), ("carol", "carol-pw-3", false));
        NodeId a = HostTestKit.IdOf(3), b = HostTestKit.IdOf(4);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, e => new UnboundLinkTransport(e));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, e => new UnboundLinkTransport(e));
        var (sa, sb) = await Until(na.Host, nb.Host, (x, y) => (x.LastTransportError ?? y.LastTransportError) is not null, "a transport error after negotiation");
        Assert.Equal(UnboundLinkTransport.Reason, sa.LastTransportError ?? sb.LastTransportError);
        Assert.True(sa.SignalsReceived + sb.SignalsReceived >= 2);
        Assert.DoesNotContain("pw", sa.ToString() + sb.ToString());
    }
}
