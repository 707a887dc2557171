// The NAT mix of a simulated overlay: parsing, and link setups that follow the RFC 4787
// prediction (relayed through TURN where the NATs need it, impossible without TURN).
using EdgeVpn.Sim;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Net;

public class NatMixTests
{
    [Theory]
    [InlineData("")]
    [InlineData("symmetric")]
    [InlineData("symmetric=-1")]
    [InlineData("symmetric=abc")]
    [InlineData("none=0,symmetric=0")]
    [InlineData("none=1,none=2")]
    [InlineData("none=1,NONE=1")]
    [InlineData("cone=1")]
    public void A_bad_mix_is_refused_with_a_message(string text)
    {
        var r = NatMix.Parse(text);
        Assert.False(r.Ok);
        Assert.False(string.IsNullOrWhiteSpace(r.Error));
    }

    [Fact]
    public void Weights_whose_sum_overflows_still_draw_in_proportion()
    {
        var huge = NatMix.Parse("none=1e308,symmetric=1e308").Value;
        var random = new EdgeVpn.Protocol.Core.DeterministicRandom(5);
        int none = Enumerable.Range(0, 4000).Count(_ => huge.Draw(random) == 0);
        Assert.InRange(none, 1800, 2200);   // half; it was 0 (every node symmetric)
    }

    [Fact]
    public void Nodes_draw_their_presets_in_the_given_proportions()
    {
        var mix = NatMix.Parse("none=1,symmetric=3").Value;
        var sim = new Simulation(new SimParameters { Nodes = 4000, NatMix = mix });
        int symmetric = Enumerable.Range(0, 4000).Count(i => sim.NatOf(i) == "symmetric");
        Assert.InRange(symmetric, 2800, 3200);
    }

    [Fact]
    public void Between_symmetric_NATs_every_link_is_relayed_and_the_overlay_still_converges_and_floods()
    {
        var p = new SimParameters { Nodes = 200, Seed = 3, JoinWindow = TimeSpan.FromSeconds(2), NatMix = NatMix.Parse("symmetric=1").Value };
        var sim = new Simulation(p);
        var c = ConvergeExperiment.Run(sim);
        Assert.True(c.Converged);
        Assert.Equal(0, c.RingViolations);
        Assert.True(c.RelayedSetups >= c.SuccessorLinks + c.LongLinks);
        Assert.Equal(0, c.NatFailedSetups);
        Assert.Equal(200, FloodExperiment.Run(sim).Reached);
    }

    [Fact]
    public void Without_TURN_symmetric_NATs_cannot_link_and_the_run_says_so()
    {
        var p = new SimParameters
        {
            Nodes = 60, Seed = 3, JoinWindow = TimeSpan.FromSeconds(2), ConvergeDeadline = TimeSpan.FromSeconds(120),
            NatMix = NatMix.Parse("symmetric=1").Value, TurnServer = false,
        };
        var c = ConvergeExperiment.Run(new Simulation(p));
        Assert.False(c.Converged);
        Assert.True(c.NatFailedSetups > 0);
        Assert.Equal(0, c.SuccessorLinks + c.LongLinks);
    }

    [Fact]
    public void Cone_NATs_link_directly_without_the_relay()
    {
        var p = new SimParameters { Nodes = 100, Seed = 4, JoinWindow = TimeSpan.FromSeconds(2), NatMix = NatMix.Parse("full-cone=1,port-restricted=1,none=1").Value };
        var c = ConvergeExperiment.Run(new Simulation(p));
        Assert.True(c.Converged);
        Assert.Equal(0, c.RelayedSetups);
    }
}
