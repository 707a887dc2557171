// Two agents back to back through the in-test router, host candidates only: they connect on the
// same pair, the nominated pair is the best one that works, a silent network makes both fail
// within the configured bound, and the same seeds give the same datagrams.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using Xunit;
using static EdgeVpn.Tests.Ice.IceNetwork;

namespace EdgeVpn.Tests.Ice;

public class IceHostTests
{
    private static readonly string[] OneA = ["10.0.0.1:5000"];
    private static readonly string[] OneB = ["10.0.0.2:6000"];

    [Fact]
    public void Two_host_agents_connect_on_the_same_pair_and_report_host_path()
    {
        var net = Pair(FastConfig(IceRole.Controlling), OneA, FastConfig(IceRole.Controlled), OneB);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(5), () => net.BothConnected);
        Assert.True(net.BothConnected, $"A {net.A.Agent.State}, B {net.B.Agent.State}");
        Assert.True(net.SamePair);
        var pair = net.A.Agent.SelectedPair!;
        Assert.Equal(Ep("10.0.0.1:5000"), pair.Local.Address);
        Assert.Equal(Ep("10.0.0.2:6000"), pair.Remote.Address);
        Assert.Equal(IcePathKind.Host, pair.Kind);
        Assert.True(pair.Rtt >= TimeSpan.FromMilliseconds(20), $"rtt {pair.Rtt}");   // two 10 ms hops
        Assert.Single(net.A.Outputs.OfType<IceOutput.Connected>());
        Assert.Contains(net.A.Outputs, o => o is IceOutput.LocalCandidatesComplete);
        Assert.Empty(net.A.Outputs.OfType<IceOutput.Error>());
        Assert.Empty(net.B.Outputs.OfType<IceOutput.Error>());
    }

    [Fact]
    public void Nomination_selects_the_highest_priority_pair_that_succeeds()
    {
        string[] a = ["10.0.0.1:5000", "10.0.1.1:5000"];
        string[] b = ["10.0.0.2:6000", "10.0.1.2:6000"];
        var net = Pair(FastConfig(IceRole.Controlling), a, FastConfig(IceRole.Controlled), b);
        // The best pair (first interfaces on both sides) never gets through.
        net.Blocked.Add((Ep(a[0]), Ep(b[0])));
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected);
        Assert.True(net.SamePair);

        // Expected: the highest pair priority among the three pairs the router lets through.
        var locals = net.A.Agent.LocalCandidates;
        var remotes = net.B.Agent.LocalCandidates;
        var expected = (from l in locals from r in remotes
                        where !(l.Address.Equals(Ep(a[0])) && r.Address.Equals(Ep(b[0])))
                        orderby IceCandidate.PairPriority(l.Priority, r.Priority) descending
                        select (l.Address, r.Address)).First();
        var selected = net.A.Agent.SelectedPair!;
        Assert.Equal(expected, (selected.Local.Address, selected.Remote.Address));
    }

    [Fact]
    public void Nomination_without_obstacles_selects_the_first_interfaces_of_both_sides()
    {
        string[] a = ["10.0.0.1:5000", "10.0.1.1:5000"];
        string[] b = ["10.0.0.2:6000", "10.0.1.2:6000"];
        var net = Pair(FastConfig(IceRole.Controlling), a, FastConfig(IceRole.Controlled), b);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.Equal((Ep(a[0]), Ep(b[0])), (net.A.Agent.SelectedPair!.Local.Address, net.A.Agent.SelectedPair.Remote.Address));
        Assert.True(net.SamePair);
    }

    [Fact]
    public void When_the_network_drops_everything_both_agents_fail_within_the_configured_bound()
    {
        var config = FastConfig(IceRole.Controlling);
        var net = Pair(config, OneA, FastConfig(IceRole.Controlled), OneB);
        net.Mode = RouterMode.DropAll;
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(30));
        foreach (var s in new[] { net.A, net.B })
        {
            Assert.Equal(IceAgentState.Failed, s.Agent.State);
            var failedAt = s.TimeOf<IceOutput.Failed>()!.Value;
            Assert.True(failedAt <= Instant.Zero + config.ConnectTimeout, $"{s.Name} failed at {failedAt}");
            Assert.Null(s.Agent.PollTimeout());
        }
        // Checks were retransmitted on the RFC 8489 schedule, then given up.
        Assert.Equal(config.TransmitsMax - 1, net.A.Agent.Stats.Retransmissions / Math.Max(1, net.A.Agent.Stats.ChecksSent));
        Assert.Contains("candidate pairs failed", ((IceOutput.Failed)net.A.Outputs.First(o => o is IceOutput.Failed)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_seeds_give_the_same_transmit_sequence_and_other_seeds_do_not()
    {
        List<string> Run(ulong seed)
        {
            var net = Pair(FastConfig(IceRole.Controlling), OneA, FastConfig(IceRole.Controlled), OneB, seed: seed, fateSeed: 3);
            net.LossRate = 0.1;
            net.JitterMax = TimeSpan.FromMilliseconds(15);
            net.Start();
            net.RunFor(TimeSpan.FromSeconds(12));
            return net.TransmitLog;
        }
        var first = Run(11);
        Assert.NotEmpty(first);
        Assert.Equal(first, Run(11));
        Assert.NotEqual(first, Run(12));
    }
}
