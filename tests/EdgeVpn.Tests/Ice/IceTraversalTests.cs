// NAT traversal paths: server-reflexive candidates through full-cone NATs with a STUN server,
// and a relay through the fake TURN server when the router passes nothing else (401 challenge,
// stale nonce, permissions, Send indications, then a channel and ChannelData for app data).
using System.Net;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.Ice.IceNetwork;

namespace EdgeVpn.Tests.Ice;

public class IceTraversalTests
{
    private static readonly IPEndPoint TurnAddress = Ep("198.51.100.1:3478");

    private static IceNetwork BehindNats(IceConfig a, IceConfig b)
    {
        var net = Pair(a, ["10.0.0.1:5000"], b, ["10.1.0.1:6000"]);
        net.A.Nat.Add((Ep("10.0.0.1:5000"), Ep("203.0.113.1:40000")));
        net.B.Nat.Add((Ep("10.1.0.1:6000"), Ep("203.0.113.2:41000")));
        net.Turn = new FakeTurnServer(TurnAddress, IPAddress.Parse("198.51.100.2"), "example.org", "user", "secret");
        return net;
    }

    [Fact]
    public void Agents_behind_nats_gather_server_reflexive_candidates_and_connect_through_them()
    {
        var a = FastConfig(IceRole.Controlling) with { StunServers = [TurnAddress] };
        var b = FastConfig(IceRole.Controlled) with { StunServers = [TurnAddress] };
        var net = BehindNats(a, b);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected, $"A {net.A.Agent.State}, B {net.B.Agent.State}");
        var srflx = net.A.Outputs.OfType<IceOutput.LocalCandidate>().Single(c => c.Candidate.Type == IceCandidateType.ServerReflexive).Candidate;
        Assert.Equal(Ep("203.0.113.1:40000"), srflx.Address);
        Assert.Equal(Ep("10.0.0.1:5000"), srflx.RelatedAddress);
        Assert.Equal(IceCandidate.ComputePriority(IceCandidateType.ServerReflexive, 65535), srflx.Priority);
        var pair = net.A.Agent.SelectedPair!;
        Assert.Equal(IcePathKind.ServerReflexive, pair.Kind);
        Assert.Equal((Ep("203.0.113.1:40000"), Ep("203.0.113.2:41000")), (pair.Local.Address, pair.Remote.Address));
        Assert.True(net.SamePair);
    }

    private static IceNetwork Relayed(IceRole relayedSide, int requestsPerNonce = 0, bool channels = true)
    {
        var turn = new IceTurnServer(TurnAddress, "user", "secret");
        var a = FastConfig(relayedSide) with { Turn = turn, TurnUseChannels = channels };
        var b = FastConfig(relayedSide == IceRole.Controlling ? IceRole.Controlled : IceRole.Controlling);
        var net = Pair(a, ["10.0.0.1:5000"], b, ["192.0.2.7:6000"]);
        net.Turn = new FakeTurnServer(TurnAddress, IPAddress.Parse("198.51.100.2"), "example.org", "user", "secret") { RequestsPerNonce = requestsPerNonce };
        net.Mode = RouterMode.RelayOnly;
        return net;
    }

    [Theory]
    [InlineData(IceRole.Controlling)]
    [InlineData(IceRole.Controlled)]
    public void Only_through_a_turn_relay_both_connect_on_the_relayed_pair(IceRole relayedSide)
    {
        var net = Relayed(relayedSide);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected, $"A {net.A.Agent.State}, B {net.B.Agent.State}");
        Assert.True(net.SamePair);
        var relayed = net.A.Outputs.OfType<IceOutput.LocalCandidate>().Single(c => c.Candidate.Type == IceCandidateType.Relayed).Candidate;
        Assert.Equal(IPAddress.Parse("198.51.100.2"), relayed.Address.Address);
        Assert.Equal(IceCandidate.ComputePriority(IceCandidateType.Relayed, 65535), relayed.Priority);
        Assert.Equal(relayed.Address, net.A.Agent.SelectedPair!.Local.Address);
        Assert.Equal(IcePathKind.Relayed, net.A.Agent.SelectedPair.Kind);
        Assert.Equal(IcePathKind.Relayed, net.B.Agent.SelectedPair!.Kind);
        Assert.True(net.Turn!.Challenges >= 1, "the first Allocate was challenged with 401");
        Assert.True(net.Turn.SendIndications > 0, "checks went out as Send indications");
    }

    [Fact]
    public void Application_data_flows_both_ways_over_a_bound_channel_once_relayed()
    {
        var net = Relayed(IceRole.Controlling);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        net.RunFor(TimeSpan.FromMilliseconds(500));   // the ChannelBind round trip
        Assert.Equal(1, net.Turn!.ChannelBinds);

        net.Inject(net.A, new IceInput.Send(new byte[] { 22, 1, 2, 3 }));   // looks like DTLS
        net.Inject(net.B, new IceInput.Send(new byte[] { 23, 9 }));
        net.RunFor(TimeSpan.FromMilliseconds(200));
        Assert.Equal([22, 1, 2, 3], net.B.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
        Assert.Equal([23, 9], net.A.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
        Assert.True(net.Turn.ChannelDataFromClients >= 1, "A sent its data as ChannelData");
        Assert.True(DatagramKindCount(net.TransmitLog.Where(l => l.Contains(" A ", StringComparison.Ordinal)), DatagramKind.ChannelData) >= 1);
    }

    [Fact]
    public void Without_channels_relayed_application_data_goes_in_send_and_data_indications()
    {
        var net = Relayed(IceRole.Controlling, channels: false);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        int before = net.Turn!.SendIndications;
        net.Inject(net.A, new IceInput.Send(new byte[] { 22, 7 }));
        net.Inject(net.B, new IceInput.Send(new byte[] { 23, 8 }));
        net.RunFor(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, net.Turn.ChannelBinds);
        Assert.Equal(before + 1, net.Turn.SendIndications);
        Assert.Equal([22, 7], net.B.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
        Assert.Equal([23, 8], net.A.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
    }

    [Fact]
    public void A_stale_nonce_is_answered_438_and_the_agent_retries_with_the_new_one()
    {
        var net = Relayed(IceRole.Controlling, requestsPerNonce: 1);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected);
        Assert.True(net.Turn!.StaleNonces >= 1);
        Assert.Equal(IcePathKind.Relayed, net.A.Agent.SelectedPair!.Kind);
    }

    [Fact]
    public void Wrong_turn_credentials_leave_no_relayed_candidate_and_the_error_is_reported()
    {
        var a = FastConfig(IceRole.Controlling) with { Turn = new IceTurnServer(TurnAddress, "user", "wrong") };
        var net = Pair(a, ["10.0.0.1:5000"], FastConfig(IceRole.Controlled), ["192.0.2.7:6000"]);
        net.Turn = new FakeTurnServer(TurnAddress, IPAddress.Parse("198.51.100.2"), "example.org", "user", "secret");
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected, "the host pair still works");
        Assert.DoesNotContain(net.A.Outputs.OfType<IceOutput.LocalCandidate>(), c => c.Candidate.Type == IceCandidateType.Relayed);
        Assert.Contains(net.A.Outputs.OfType<IceOutput.Error>(), e => e.Problem.Input == "TURN Allocate" && e.Problem.Reason.Contains("401", StringComparison.Ordinal));
    }

    [Fact]
    public void Closing_a_relayed_agent_releases_its_allocation()
    {
        var net = Relayed(IceRole.Controlling);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        net.Inject(net.A, new IceInput.Close());
        net.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, net.Turn!.Released);
        Assert.Equal(IceAgentState.Closed, net.A.Agent.State);
        Assert.Null(net.A.Agent.PollTimeout());
    }
}
