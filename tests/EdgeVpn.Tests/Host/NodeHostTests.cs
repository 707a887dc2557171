// The host loop on its own thread, driven by a fake clock: the timer re-armed from PollTimeout
// moves the node (keep-alives, ticks), adapters post through the channel, status is answered on
// the loop, Leave closes links at both ends, Stop ends the loop, a loop that failed refuses later
// events at once (a status request does not hang). No sleeps: each step advances
// the fake clock and waits for a status reply, which the loop answers after every earlier event.
using EdgeVpn.Protocol.Node;
using EdgeVpn.RealNode.Host;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace EdgeVpn.Tests.Host;

public class NodeHostTests
{
    private sealed class Pair : IAsyncDisposable
    {
        public FakeTimeProvider Time { get; } = new();
        public LoopbackLinkNetwork Links { get; } = new();
        public InMemorySignaling Signaling { get; } = new();
        public NodeHost A { get; }
        public NodeHost B { get; }
        public List<NodeOutput> OutputsA { get; } = [];
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _runA, _runB;

        public Pair()
        {
            A = Make(1);
            B = Make(2);
            A.OutputObserver = o => { lock (OutputsA) OutputsA.Add(o); };
            _runA = A.RunAsync(_cts.Token);
            _runB = B.RunAsync(_cts.Token);
            Signaling.Join(HostTestKit.JidOf(1), A);
            Signaling.Join(HostTestKit.JidOf(2), B);
        }

        private NodeHost Make(int i) => new(
            new NodeHostOptions { NodeId = HostTestKit.IdOf(i), Seed = (ulong)i, Protocol = HostTestKit.Protocol, OverlayId = "ov", Account = $"user{i}@xmpp.test" },
            events => Links.Attach(HostTestKit.IdOf(i), events, HostTestKit.FingerprintOf(i)),
            new NullLocalPort(), Signaling.PortFor(HostTestKit.JidOf(i)), Time);

        /// <summary>Advances the clock in steps until the condition holds on both statuses (bounded).</summary>
        public async Task<(NodeStatus A, NodeStatus B)> AdvanceUntil(Func<NodeStatus, NodeStatus, bool> done, int stepsMax = 120)
        {
            for (int k = 0; k < stepsMax; k++)
            {
                var (a, b) = (await A.StatusAsync(), await B.StatusAsync());
                if (done(a, b)) return (a, b);
                Time.Advance(TimeSpan.FromMilliseconds(500));
            }
            throw new Xunit.Sdk.XunitException("condition not reached within the step bound");
        }

        public async Task StopAsync()
        {
            await A.PostAsync(new HostEvent.Stop());
            await B.PostAsync(new HostEvent.Stop());
            await Task.WhenAll(_runA, _runB).WaitAsync(TimeSpan.FromSeconds(30));
        }

        public async ValueTask DisposeAsync()
        {
            _cts.Cancel();
            await Task.WhenAll(_runA, _runB).WaitAsync(TimeSpan.FromSeconds(30));
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    private static bool Connected(NodeStatus s) => s.Links.Count == 1 && s.Links[0].State == "connected";

    [Fact]
    public async Task Two_hosts_link_up_and_keep_alives_flow_on_the_timer()
    {
        await using var p = new Pair();
        var (a, b) = await p.AdvanceUntil((a, b) => Connected(a) && Connected(b));
        Assert.Equal(("online", 2), (a.Signaling, a.Members));
        Assert.Equal("loopback", a.Links[0].Path);
        // Only the timer makes keep-alives: advancing the clock past the interval must produce some.
        await p.AdvanceUntil((_, _) => { lock (p.OutputsA) return p.OutputsA.OfType<NodeOutput.SendKeepAlive>().Any(); });
    }

    [Fact]
    public async Task Leave_closes_the_link_at_both_ends()
    {
        await using var p = new Pair();
        await p.AdvanceUntil((a, b) => Connected(a) && Connected(b));
        await p.A.PostAsync(new HostEvent.Leave());
        var (a2, b2) = await p.AdvanceUntil((a, b) => a.Links.Count == 0 && b.Links.All(l => l.State != "connected"));
        Assert.Empty(a2.Links);
    }

    [Fact]
    public async Task Stop_ends_the_loop_and_a_later_status_request_does_not_hang()
    {
        var p = new Pair();
        await p.AdvanceUntil((a, b) => a.Members == 2 && b.Members == 2);
        await p.StopAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => p.A.StatusAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await p.DisposeAsync();
    }

    private sealed class BrokenSignaling : ISignalingPort
    {
        public void Send(EdgeVpn.Protocol.Xmpp.Jid to, string json) => throw new InvalidOperationException("signaling port broke");
    }

    [Fact]
    public async Task After_the_loop_failed_a_status_request_fails_at_once_instead_of_hanging()
    {
        var host = new NodeHost(
            new NodeHostOptions { NodeId = HostTestKit.IdOf(1), Seed = 1, Protocol = HostTestKit.Protocol, OverlayId = "ov", Account = "user1@xmpp.test" },
            events => new LoopbackLinkNetwork().Attach(HostTestKit.IdOf(1), events, HostTestKit.FingerprintOf(1)),
            new NullLocalPort(), new BrokenSignaling(), new FakeTimeProvider());
        var loop = host.RunAsync(CancellationToken.None);
        // A peer appears: the node asks it for a link through signaling, which throws on the loop.
        await host.PostAsync(new HostEvent.Xmpp(new EdgeVpn.Protocol.Xmpp.XmppOutput.Online(HostTestKit.JidOf(1))));
        await host.PostAsync(new HostEvent.Xmpp(new EdgeVpn.Protocol.Xmpp.XmppOutput.PeerPresence(HostTestKit.JidOf(2), HostTestKit.IdOf(2), "ov", true)));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("signaling port broke", e.Message);
        await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(() => host.StatusAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await host.DisposeAsync();
    }

    [Fact]
    public async Task A_fingerprint_swapped_on_signaling_keeps_the_link_down_and_status_names_the_mismatch()
    {
        await using var p = new Pair();
        p.Signaling.Tamper = json => json.Replace(HostTestKit.FingerprintOf(2), "sha-256 attacker", StringComparison.Ordinal);
        var (a, b) = await p.AdvanceUntil((a, b) => (a.LastTransportError ?? b.LastTransportError) is not null);
        Assert.Contains("fingerprint mismatch", a.LastTransportError ?? b.LastTransportError);
        Assert.False(Connected(a));
    }
}
