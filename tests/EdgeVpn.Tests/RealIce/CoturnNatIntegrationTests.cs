// ICE on real UDP sockets through real NATs (iptables MASQUERADE in network namespaces) with a
// real coturn as STUN and TURN server (see NatTestbed). The links run in this test process:
// each one's sockets are made inside its host's namespace (NetworkNamespace), and signaling is
// the endpoint text handed across by the test. Checked:
//  - port-restricted cone vs symmetric NAT: no direct path exists, the links connect through
//    the TURN relay (both ends report a relayed pair) and carry datagrams both ways;
//  - a wrong TURN password: gathering ends without a relayed candidate and says why (401),
//    and the password is in no log line;
//  - two port-restricted cones: hole punching gives a direct (server-reflexive) path;
//  - a relayed link keeps working past coturn's (shortened) permission and channel lifetimes,
//    because the agent refreshes both, re-authenticating after 438 Stale Nonce.
// (The allocation itself lives 600 s: the agent asks no LIFETIME, so its refresh is not reached here.)
// The waits are liveness bounds (IceLinkTestKit.StepBound), never timing assertions.
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.RealNode.Ice;
using Xunit;
using static EdgeVpn.Tests.RealIce.IceLinkTestKit;

namespace EdgeVpn.Tests.RealIce;

public sealed class CoturnNatIntegrationTests(NatTestbed testbed) : IClassFixture<NatTestbed>
{
    private IceLinkOptions Options(IceRole role, string? password = null) => new(new IceConfig
    {
        Role = role,
        StunServers = [NatTestbed.TurnServer],
        Turn = new IceTurnServer(NatTestbed.TurnServer, NatTestbed.TurnUser, password ?? testbed.TurnPassword),
        ConnectTimeout = TimeSpan.FromSeconds(40),
        // Refreshed well inside the testbed coturn's short lifetimes (NatTestbed).
        TurnPermissionRefresh = TimeSpan.FromSeconds(2),
        TurnChannelRefresh = TimeSpan.FromSeconds(3),
    });

    private static IceLink OpenIn(string ns, IceLinkOptions options, LinkLog log, string name) =>
        NetworkNamespace.Run(ns, () => IceLink.Open(options, TimeProvider.System, log.Add, name));

    private string Diagnose(LinkLog log, params IceLink[] links) =>
        $"\n--- links ---\n{log}\n{string.Join("\n", links.Select(Describe))}\n--- coturn ---\n{testbed.Output()}";

    private static string Describe(IceLink l) =>
        $"{l.State} checks {l.Stats.ChecksSent} retx {l.Stats.Retransmissions} answered {l.Stats.RequestsAnswered} rejected {l.Stats.RequestsRejected} "
        + $"responses dropped {l.Stats.ResponsesDropped} datagrams dropped {l.Stats.DatagramsDropped} gate {l.GateDropped} send errors {l.SendErrors}";

    /// <summary>Sets the NATs, opens a link in h1 (controlling) and h2, exchanges endpoints, waits for both to connect and runs body; failures carry both logs and coturn's.</summary>
    private async Task WithConnectedPairAsync(NatPreset nat1, NatPreset nat2, Func<IceLink, IceLink, IceSelectedPair, IceSelectedPair, Task> body)
    {
        testbed.EnsureStarted();
        testbed.SetNat(1, nat1);
        testbed.SetNat(2, nat2);
        var log = new LinkLog();
        await using var a = OpenIn(testbed.Host(1), Options(IceRole.Controlling), log, "h1");
        await using var b = OpenIn(testbed.Host(2), Options(IceRole.Controlled), log, "h2");
        try
        {
            await ExchangeAsync(a, b);
            var pa = await a.Connected.WaitAsync(StepBound);
            var pb = await b.Connected.WaitAsync(StepBound);
            await body(a, b, pa, pb);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException(e.Message + Diagnose(log, a, b));
        }
        Assert.DoesNotContain(log.Lines, l => l.Contains(testbed.TurnPassword, StringComparison.Ordinal));
    }

    [NatTestbedFact]
    public Task Behind_a_port_restricted_and_a_symmetric_nat_the_links_connect_through_the_turn_relay() =>
        WithConnectedPairAsync(NatPreset.PortRestricted, NatPreset.Symmetric, async (a, b, pa, pb) =>
        {
            Assert.Null(a.RelayProblem);
            Assert.Null(b.RelayProblem);
            var ea = await a.Gathered;
            Assert.Contains(ea.Candidates, c => c.Type == IceCandidateType.Relayed && c.Address.Address.Equals(NatTestbed.TurnServer.Address));
            Assert.Contains(ea.Candidates, c => c.Type == IceCandidateType.ServerReflexive && c.Address.Address.ToString() == "203.0.113.11");
            Assert.Equal(IcePathKind.Relayed, pa.Kind);
            Assert.Equal(IcePathKind.Relayed, pb.Kind);
            byte[] there = [23, 254, 253, .. "through the relay"u8];
            Assert.Equal(there, await RoundAsync(a, b, there));
            byte[] back = [23, 254, 253, .. "and back again"u8];
            Assert.Equal(back, await RoundAsync(b, a, back));
        });

    [NatTestbedFact]
    public Task A_relayed_link_outlives_turn_permission_and_channel_lifetimes_through_refreshes_and_stale_nonces() =>
        WithConnectedPairAsync(NatPreset.PortRestricted, NatPreset.Symmetric, async (a, b, pa, pb) =>
        {
            Assert.Equal(IcePathKind.Relayed, pa.Kind);
            byte[] first = [23, 254, 253, .. "before the refreshes"u8];
            Assert.Equal(first, await RoundAsync(a, b, first));
            // coturn forgets a permission after PermissionLifetime and a channel after ChannelLifetime
            // unless refreshed, and answers requests with a nonce older than StaleNonce with 438.
            // The channel is bound when the pair is selected; the first datagrams may beat it (Send indications).
            await WaitUntilAsync(() => testbed.Count("CHANNEL_BIND processed, success") >= 1, () => "a channel bound on the relayed pair");
            int channels = testbed.Count("CHANNEL_BIND processed, success");
            await WaitUntilAsync(() => testbed.Count("CHANNEL_BIND processed, success") >= channels + 3,
                () => $"three channel refreshes (saw {testbed.Count("CHANNEL_BIND processed, success") - channels})");
            Assert.True(a.IsUp && b.IsUp);
            byte[] later = [23, 254, 253, .. "after the refreshes, past every lifetime"u8];
            Assert.Equal(later, await RoundAsync(a, b, later));
            Assert.Equal(later, await RoundAsync(b, a, later));
            Assert.True(testbed.Count("error 438") >= 1, "no stale nonce was answered");
        });

    [NatTestbedFact]
    public async Task A_wrong_turn_password_gives_no_relayed_candidate_and_says_why_without_logging_it()
    {
        testbed.EnsureStarted();
        testbed.SetNat(1, NatPreset.PortRestricted);
        var log = new LinkLog();
        const string Wrong = "not-the-turn-password-7";
        await using var a = OpenIn(testbed.Host(1), Options(IceRole.Controlling, Wrong), log, "h1");
        var endpoint = await a.Gathered.WaitAsync(StepBound);
        Assert.DoesNotContain(endpoint.Candidates, c => c.Type == IceCandidateType.Relayed);
        Assert.Contains(endpoint.Candidates, c => c.Type == IceCandidateType.ServerReflexive);   // STUN still works
        Assert.NotNull(a.RelayProblem);
        Assert.Contains("401", a.RelayProblem);
        Assert.Contains("wrong username or password", a.RelayProblem);
        Assert.DoesNotContain(log.Lines, l => l.Contains(Wrong, StringComparison.Ordinal) || l.Contains(testbed.TurnPassword, StringComparison.Ordinal));
    }

    [NatTestbedFact]
    public Task Behind_two_port_restricted_nats_hole_punching_gives_a_direct_path() =>
        WithConnectedPairAsync(NatPreset.PortRestricted, NatPreset.PortRestricted, async (a, b, pa, pb) =>
        {
            Assert.Equal(IcePathKind.ServerReflexive, pa.Kind);
            Assert.NotEqual(IcePathKind.Relayed, pb.Kind);
            byte[] there = [23, 254, 253, .. "punched through two NATs"u8];
            Assert.Equal(there, await RoundAsync(a, b, there));
        });
}
