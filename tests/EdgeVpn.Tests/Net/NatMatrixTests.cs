// Packet level against prediction: the real ICE agent through virtual RFC 4787 NAT boxes, with
// STUN and TURN servers on the virtual network, connects exactly as NatPrediction says, for every
// ordered pair of presets, with and without a TURN server.
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Net;

public class NatMatrixTests
{
    public static TheoryData<bool> TurnSettings => new() { true, false };

    [Theory]
    [MemberData(nameof(TurnSettings))]
    public void Every_preset_pair_connects_at_packet_level_as_RFC_4787_predicts(bool turn)
    {
        var cells = NatMatrixExperiment.Run(trials: 3, seed: 11, turnServer: turn);
        Assert.Equal(NatPresets.Names.Count * NatPresets.Names.Count, cells.Count);
        foreach (var c in cells)
        {
            Assert.True(c.MatchesPrediction, $"{c.A} -> {c.B}: predicted {c.Predicted}, measured {c.Measured} ({c.Connected}/{c.Trials}); {c.FailureSample}");
            int expected = c.Predicted == IcePath.Fails ? 0 : c.Trials;
            Assert.Equal(expected, c.Connected);
            Assert.Equal(c.Predicted == IcePath.Relayed ? c.Connected : 0, c.Relayed);
        }
        Assert.Contains(cells, c => c.Predicted == (turn ? IcePath.Relayed : IcePath.Fails));
    }

    [Fact]
    public void A_trial_is_a_pure_function_of_its_seed()
    {
        var a = IcePairExperiment.Run(NatPresets.Symmetric, NatPresets.PortRestricted, 99);
        var b = IcePairExperiment.Run(NatPresets.Symmetric, NatPresets.PortRestricted, 99);
        Assert.Equal(a, b);
        Assert.True(a.Connected);
        Assert.Equal(IcePathKind.Relayed, a.Path);
    }

    [Theory]
    [InlineData("none", "none")]
    [InlineData("full-cone", "port-restricted")]
    [InlineData("symmetric", "symmetric")]
    public void A_setup_ends_only_after_the_DTLS_handshake_which_follows_ICE_by_at_least_a_round_trip(string a, string b)
    {
        var options = new IcePairOptions();
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var r = IcePairExperiment.Run(NatPresets.ByName(a), NatPresets.ByName(b), seed, options);
            Assert.True(r.Connected, r.FailReason);
            // The later server hears flight 3 at least one round trip after it started, the client flight 4
            // two after it connected; relayed flights take longer still.
            Assert.True(r.SetupMs >= r.IceMs + 2 * options.PeerLatencyMin.TotalMilliseconds, $"seed {seed}: setup {r.SetupMs} ms, ICE {r.IceMs} ms");
        }
    }

    [Fact]
    public void Cone_pairs_connect_directly_and_set_up_within_a_few_seconds()
    {
        var r = IcePairExperiment.Run(NatPresets.FullCone, NatPresets.PortRestricted, 5);
        Assert.True(r.Connected);
        Assert.NotEqual(IcePathKind.Relayed, r.Path);
        Assert.InRange(r.SetupMs, 1, 10_000);
    }
}
