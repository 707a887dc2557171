// Life after connecting and the agent's defences: consent freshness keeps a live pair and loses
// a silent one within RFC 7675's bound, role conflicts resolve to exactly one controlling agent,
// unauthenticated or malformed checks are answered or dropped and reported, application data
// flows only on the selected pair, and the configuration is validated.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.Ice.IceNetwork;

namespace EdgeVpn.Tests.Ice;

public class IceSessionTests
{
    private static readonly string[] OneA = ["10.0.0.1:5000"];
    private static readonly string[] OneB = ["10.0.0.2:6000"];

    private static IceNetwork Connected(IceConfig? a = null, IceConfig? b = null)
    {
        var net = Pair(a ?? FastConfig(IceRole.Controlling), OneA, b ?? FastConfig(IceRole.Controlled), OneB);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(5), () => net.BothConnected);
        Assert.True(net.BothConnected);
        return net;
    }

    [Fact]
    public void Consent_checks_keep_a_live_pair_connected_well_past_the_consent_timeout()
    {
        var net = Connected();
        var config = FastConfig(IceRole.Controlling);
        net.RunFor(config.ConsentTimeout * 4);
        Assert.True(net.BothConnected);
        // One check per interval, jittered by ±20%.
        double expected = (config.ConsentTimeout * 4) / config.ConsentInterval;
        Assert.InRange(net.A.Agent.Stats.ConsentChecksSent, expected / 1.2 - 1, expected / 0.8 + 1);
        Assert.Empty(net.A.Outputs.OfType<IceOutput.ConsentLost>());
    }

    [Fact]
    public void Consent_is_lost_within_the_timeout_after_the_peer_goes_silent()
    {
        var net = Connected();
        var config = FastConfig(IceRole.Controlling);
        var silentFrom = net.Now;
        net.Mode = RouterMode.DropAll;
        net.RunFor(config.ConsentTimeout * 3);
        foreach (var s in new[] { net.A, net.B })
        {
            Assert.Equal(IceAgentState.ConsentLost, s.Agent.State);
            var lostAfter = s.TimeOf<IceOutput.ConsentLost>()!.Value - silentFrom;
            // The last answered check was at most one (jittered) interval before the silence.
            Assert.InRange(lostAfter, config.ConsentTimeout - config.ConsentInterval * 1.2, config.ConsentTimeout);
            Assert.Null(s.Agent.PollTimeout());
        }
        net.Inject(net.A, new IceInput.Send(new byte[] { 23 }));
        Assert.IsType<IceOutput.Error>(net.A.Outputs.Last());
    }

    [Theory]
    [InlineData(IceRole.Controlling)]
    [InlineData(IceRole.Controlled)]
    public void A_role_conflict_resolves_to_exactly_one_controlling_agent_and_both_connect(IceRole both)
    {
        var net = Pair(FastConfig(both), OneA, FastConfig(both), OneB);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(8), () => net.BothConnected);
        Assert.True(net.BothConnected, $"A {net.A.Agent.State}, B {net.B.Agent.State}");
        Assert.NotEqual(net.A.Agent.Role, net.B.Agent.Role);
        Assert.True(net.SamePair);
        // The agent with the larger tie-breaker is the controlling one (RFC 8445 §7.3.1.1).
        var winner = net.A.Agent.TieBreaker > net.B.Agent.TieBreaker ? net.A : net.B;
        Assert.Equal(IceRole.Controlling, winner.Agent.Role);
        Assert.Equal(1, net.A.Agent.Stats.RoleSwitches + net.B.Agent.Stats.RoleSwitches);
    }

    // RFC 8445 §12.2: an agent SHOULD be prepared to receive data on any of the peer's candidates.
    // A DTLS ClientHello from a peer that connected first used to be dropped here.
    [Fact]
    public void Application_data_from_the_peer_s_candidate_is_delivered_before_the_agent_connected()
    {
        var net = Pair(FastConfig(IceRole.Controlling), OneA, FastConfig(IceRole.Controlled), OneB);
        net.Start();
        // Until A has B's candidate over signaling, and no longer: A is not connected yet.
        net.RunFor(TimeSpan.FromSeconds(5), () => net.A.Agent.RemoteCandidates.Count > 0);
        Assert.NotEqual(IceAgentState.Connected, net.A.Agent.State);
        net.Inject(net.A, new IceInput.Datagram(Ep("10.0.0.1:5000"), Ep("10.0.0.2:6000"), new byte[] { 22, 1 }));
        net.Inject(net.A, new IceInput.Datagram(Ep("10.0.0.1:5000"), Ep("10.0.0.9:6000"), new byte[] { 22, 2 }));
        Assert.Equal([22, 1], net.A.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
    }

    [Fact]
    public void Application_data_is_delivered_only_from_the_peer_s_candidates()
    {
        var net = Connected();
        net.Inject(net.A, new IceInput.Datagram(Ep("10.0.0.1:5000"), Ep("10.0.0.2:6000"), new byte[] { 23, 1 }));
        net.Inject(net.A, new IceInput.Datagram(Ep("10.0.0.1:5000"), Ep("10.0.0.9:6000"), new byte[] { 23, 2 }));
        Assert.Equal([23, 1], net.A.Outputs.OfType<IceOutput.ApplicationData>().Single().Bytes);
        Assert.Equal(1, net.A.Agent.Stats.DatagramsDropped);
    }

    [Fact]
    public void Send_before_connecting_is_reported_not_sent()
    {
        var agent = new IceAgent(FastConfig(IceRole.Controlling), new DeterministicRandom(1));
        agent.Handle(Instant.Zero, new IceInput.Send(new byte[] { 23 }));
        Assert.True(agent.TryPollOutput(out var o));
        Assert.Contains("not connected", Assert.IsType<IceOutput.Error>(o).Problem.Reason, StringComparison.Ordinal);
        Assert.False(agent.TryPollOutput(out _));
    }

    /// <summary>A check the way the peer B would send it to A, with the given password and options.</summary>
    private static byte[] Check(IceNetwork net, string password, bool fingerprint = true, string? user = null, StunAttribute? extra = null)
    {
        var attributes = new List<StunAttribute>
        {
            new Username(user ?? $"{net.A.Agent.LocalUfrag}:{net.B.Agent.LocalUfrag}"),
            new Priority(1),
            new IceControlled(1),
        };
        if (extra is not null) attributes.Add(extra);
        var m = new StunMessage(StunClass.Request, StunMethod.Binding, StunTransactionId.Random(new DeterministicRandom(5)), attributes);
        return m.Encode(System.Text.Encoding.ASCII.GetBytes(password), fingerprint);
    }

    private static (IceOutput.Transmit? Answer, IceOutput.Error? Error) Poke(IceNetwork net, byte[] datagram)
    {
        int before = net.A.Events.Count;
        var log = net.TransmitLog.Count;
        net.Inject(net.A, new IceInput.Datagram(Ep("10.0.0.1:5000"), Ep("10.0.0.2:6000"), datagram));
        var error = net.A.Events.Skip(before).Select(e => e.Output).OfType<IceOutput.Error>().FirstOrDefault();
        var sent = net.TransmitLog.Skip(log).FirstOrDefault();
        IceOutput.Transmit? answer = null;
        if (sent is not null)
        {
            var parts = sent.Split(' ');
            answer = new IceOutput.Transmit(Ep("10.0.0.1:5000"), Ep("10.0.0.2:6000"), Convert.FromHexString(parts[^1]));
        }
        return (answer, error);
    }

    private static int AnswerCode(IceOutput.Transmit t) => StunMessage.Parse(t.Bytes).Value.Get<ErrorCode>()?.Code ?? 0;

    [Fact]
    public void A_check_with_the_wrong_password_is_answered_401_and_reported()
    {
        var net = Connected();
        var (answer, error) = Poke(net, Check(net, "not-the-password-at-all"));
        Assert.Equal(StunErrorCodes.Unauthorized, AnswerCode(answer!));
        Assert.NotNull(error);
        Assert.True(net.BothConnected);
    }

    [Fact]
    public void A_check_for_another_ufrag_is_answered_401()
    {
        var net = Connected();
        var (answer, _) = Poke(net, Check(net, net.A.Agent.LocalPassword, user: "someone:else"));
        Assert.Equal(StunErrorCodes.Unauthorized, AnswerCode(answer!));
    }

    [Fact]
    public void A_check_without_fingerprint_is_dropped_and_reported()
    {
        var net = Connected();
        var (answer, error) = Poke(net, Check(net, net.A.Agent.LocalPassword, fingerprint: false));
        Assert.Null(answer);
        Assert.Contains("FINGERPRINT", error!.Problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_check_with_an_unknown_comprehension_required_attribute_is_answered_420_listing_it()
    {
        var net = Connected();
        var (answer, _) = Poke(net, Check(net, net.A.Agent.LocalPassword, extra: new UnknownAttribute(0x7ff0, ByteString.Empty)));
        Assert.Equal(StunErrorCodes.UnknownAttribute, AnswerCode(answer!));
        Assert.Equal([(ushort)0x7ff0], StunMessage.Parse(answer!.Bytes).Value.Get<UnknownAttributes>()!.Types);
    }

    [Fact]
    public void A_valid_check_is_answered_with_the_mapped_address_and_integrity_under_the_local_password()
    {
        var net = Connected();
        var (answer, error) = Poke(net, Check(net, net.A.Agent.LocalPassword));
        Assert.Null(error);
        var m = StunMessage.Parse(answer!.Bytes).Value;
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(Ep("10.0.0.2:6000"), m.Get<XorMappedAddress>()!.EndPoint);
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(answer.Bytes, System.Text.Encoding.ASCII.GetBytes(net.A.Agent.LocalPassword)));
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(answer.Bytes));
    }

    [Fact]
    public void Invalid_configurations_are_refused_with_every_problem_named()
    {
        var bad = new IceConfig { Ta = TimeSpan.Zero, TransmitsMax = 0, ConsentTimeout = TimeSpan.FromSeconds(1), ChecklistSizeMax = 0 };
        var problems = bad.Validate();
        Assert.Equal(4, problems.Count);
        Assert.Throws<ArgumentException>(() => new IceAgent(bad, new DeterministicRandom(1)));
        Assert.Empty(new IceConfig().Validate());
    }

    [Fact]
    public void Credentials_and_tie_breaker_come_from_the_seed()
    {
        var a = new IceAgent(new IceConfig(), new DeterministicRandom(42));
        var b = new IceAgent(new IceConfig(), new DeterministicRandom(42));
        var c = new IceAgent(new IceConfig(), new DeterministicRandom(43));
        Assert.Equal((a.LocalUfrag, a.LocalPassword, a.TieBreaker), (b.LocalUfrag, b.LocalPassword, b.TieBreaker));
        Assert.NotEqual(a.LocalPassword, c.LocalPassword);
        Assert.True(a.LocalUfrag.Length >= 4 && a.LocalPassword.Length >= 22);   // RFC 8445 §5.3
    }

    [Fact]
    public void Candidate_and_pair_priorities_follow_rfc8445()
    {
        Assert.Equal((126u << 24) + (65535u << 8) + 255, IceCandidate.ComputePriority(IceCandidateType.Host, 65535));
        Assert.Equal((110u << 24) + (7u << 8) + 255, IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 7));
        Assert.Equal((100u << 24) + 255, IceCandidate.ComputePriority(IceCandidateType.ServerReflexive, 0));
        Assert.Equal(255u, IceCandidate.ComputePriority(IceCandidateType.Relayed, 0));
        Assert.Equal((5UL << 32) + 2 * 9 + 1, IceCandidate.PairPriority(9, 5));
        Assert.Equal((5UL << 32) + 2 * 9, IceCandidate.PairPriority(5, 9));
        Assert.Equal(IcePathKind.Relayed, IceCandidate.PathKind(IceCandidateType.Host, IceCandidateType.Relayed));
        Assert.Equal(IcePathKind.PeerReflexive, IceCandidate.PathKind(IceCandidateType.PeerReflexive, IceCandidateType.ServerReflexive));
    }
}
