// The memory check's estimate against the peaks measured on this project's runs (the figures its
// coefficients come from, experiments/results/*.md): a coefficient changed without a new
// measurement, or a mode left out of the sum, fails here.
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class MemoryEstimateTests
{
    private static SimParameters Run(int nodes, MembershipMode membership, LinkModel links = LinkModel.Modeled, SignalingModel signaling = SignalingModel.Modeled) =>
        new() { Nodes = nodes, LinkModel = links, Signaling = signaling, Topology = new TopologyConfig { Membership = membership } };

    [Theory]
    [InlineData(1_000_000, MembershipMode.Lookup, LinkModel.Modeled, SignalingModel.Modeled, 10_740)]
    [InlineData(300_000, MembershipMode.Lookup, LinkModel.Modeled, SignalingModel.Modeled, 3_826)]
    [InlineData(300_000, MembershipMode.Presence, LinkModel.Modeled, SignalingModel.Modeled, 2_870)]
    [InlineData(3_000, MembershipMode.Presence, LinkModel.Ice, SignalingModel.Modeled, 752)]
    [InlineData(1_000, MembershipMode.Presence, LinkModel.Ice, SignalingModel.Modeled, 448)]
    [InlineData(2_000, MembershipMode.Presence, LinkModel.Modeled, SignalingModel.Xmpp, 6_601)]
    [InlineData(1_000, MembershipMode.Presence, LinkModel.Modeled, SignalingModel.Xmpp, 2_042)]
    public void The_estimate_is_within_a_fifth_of_each_measured_peak_and_errs_high_at_scale(int nodes, MembershipMode membership, LinkModel links, SignalingModel signaling, long measuredMB)
    {
        long estimateMB = MemoryEstimate.PeakBytes(Run(nodes, membership, links, signaling)) >> 20;
        Assert.InRange(estimateMB, measuredMB * 0.8, measuredMB * 1.2);
        if (nodes >= 300_000) Assert.True(estimateMB >= measuredMB, $"{estimateMB} MB estimated under the {measuredMB} MB measured");
    }

    [Fact]
    public void The_check_lets_the_million_node_run_through_on_a_24_GiB_machine_and_refuses_five_million()
    {
        const long Available = 22L << 30;
        Assert.Null(MemoryCheck.Verdict(Run(1_000_000, MembershipMode.Lookup), Available));
        var refusal = MemoryCheck.Verdict(Run(5_000_000, MembershipMode.Lookup), Available);
        Assert.NotNull(refusal);
        Assert.Contains("22 GiB available", refusal);
    }

    [Fact]
    public void The_machine_reports_some_memory_available()
    {
        long available = MemoryCheck.AvailableBytes();
        Assert.InRange(available, 64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }
}
