// A real node in the test process: a NodeHost with an XmppClient logged in to a test Prosody
// (ProsodyServer) and the pump between them; the link transport, the local port and a wrapper
// around the signaling port (to tamper with payloads in flight) are the test's choice.
// Until polls both nodes' status until a condition holds: a liveness bound (StepsMax × Poll),
// never a timing assertion.
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;
using EdgeVpn.Tests.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Host;

internal sealed class RealNodeUnderTest : IAsyncDisposable
{
    private const int StepsMax = 600;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop, _xmpp, _pump;
    public NodeHost Host { get; }
    public XmppClient Client { get; }

    public RealNodeUnderTest(ProsodyServer server, string user, string password, NodeId id, Func<ILinkEvents, ILinkTransport> transport,
        ILocalPort? local = null, Func<ISignalingPort, ISignalingPort>? signaling = null, Protocol.Node.EdgeNodeConfig? protocol = null)
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
        ISignalingPort port = new XmppSignalingPort(Client);
        Host = new NodeHost(new NodeHostOptions { NodeId = id, Seed = id.Lower, Protocol = protocol ?? HostTestKit.Protocol, OverlayId = "ov", Account = config.Account.ToString() },
            transport, local ?? new NullLocalPort(), signaling?.Invoke(port) ?? port, TimeProvider.System);
        _loop = Host.RunAsync(_cts.Token);
        _xmpp = Task.Run(() => Client.RunAsync(_cts.Token));
        _pump = XmppBinding.PumpAsync(Client, Host, _cts.Token);
    }

    public static async Task<(NodeStatus, NodeStatus)> Until(NodeHost a, NodeHost b, Func<NodeStatus, NodeStatus, bool> done, string what)
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

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await Task.WhenAll(_loop, _xmpp, _pump).WaitAsync(TimeSpan.FromSeconds(30));
        await Host.DisposeAsync();
        await Client.DisposeAsync();
    }
}
