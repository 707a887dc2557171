// The ICE idea played packet by packet on the virtual fabric, compared with NatPrediction.
// Each side learns its server-reflexive address from a fake STUN server (a request routed to a
// public host, the answer routed back), then both send checks to each other's reflexive
// address round after round, and answer every check they receive to the source it came from
// (what ICE does; a triggered check goes to the same place). A direct path exists iff some
// packet got through in both directions. The relay is a fake TURN server: each side talks only
// to its endpoints, which forward between them. The simulation knows nothing of the prediction's
// reasoning: it only routes packets through NatBox and UdpFabric.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.Net;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Net;

public class IceConnectivitySimulationTests
{
    private const int Rounds = 4;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);

    private sealed record Outcome(bool Direct, bool Relayed);

    private static Outcome Simulate(NatBehaviour a, NatBehaviour b, ulong seed)
    {
        var f = new UdpFabric(new DeterministicRandom(seed));
        int stun = f.AddPublicHost(), turn = f.AddPublicHost();
        int ha = f.AddHost(a), hb = f.AddHost(b);
        var localA = new Ip4Endpoint(f.AddressOf(ha), 5000);
        var localB = new Ip4Endpoint(f.AddressOf(hb), 5000); // same port on both: port preservation meets itself
        var now = Instant.FromSeconds(1);

        RouteResult Send(Ip4Endpoint from, Ip4Endpoint to)
        {
            now += Pace;
            var r = f.Route(now, from, to);
            f.CheckInvariants();
            return r;
        }

        Ip4Endpoint Reflexive(int host, Ip4Endpoint local)
        {
            var server = new Ip4Endpoint(f.AddressOf(stun), 3478);
            var request = Send(local, server);
            Assert.Equal(stun, request.Host);
            var answer = Send(server, request.SeenSource);
            Assert.Equal((host, local), (answer.Host, answer.LocalDestination));
            return request.SeenSource;
        }

        var srflxA = Reflexive(ha, localA);
        var srflxB = Reflexive(hb, localB);

        bool heardByA = false, heardByB = false;
        void Check(int self, Ip4Endpoint local, Ip4Endpoint peerSrflx, int peer, ref bool peerHeard, ref bool selfHeard)
        {
            var check = Send(local, peerSrflx);
            if (!check.Delivered) return;
            Assert.Equal(peer, check.Host);
            peerHeard = true;
            var response = Send(check.LocalDestination, check.SeenSource);
            if (!response.Delivered) return;
            Assert.Equal((self, local), (response.Host, response.LocalDestination));
            selfHeard = true;
        }
        for (int round = 0; round < Rounds; round++)
        {
            Check(ha, localA, srflxB, hb, ref heardByB, ref heardByA);
            Check(hb, localB, srflxA, ha, ref heardByA, ref heardByB);
        }

        // TURN: A allocates relayA; B sends to relayA; the server forwards it to A over A's
        // allocation, and A's data goes back out of relayA to where B's packet came from.
        var control = new Ip4Endpoint(f.AddressOf(turn), 3478);
        var relayA = new Ip4Endpoint(f.AddressOf(turn), 49152);
        var allocate = Send(localA, control);
        var fromB = Send(localB, relayA);
        bool relayed = allocate.Host == turn && fromB.Host == turn && fromB.LocalDestination == relayA;
        if (relayed)
        {
            var toA = Send(control, allocate.SeenSource);
            var toB = Send(relayA, fromB.SeenSource);
            relayed = (toA.Host, toA.LocalDestination, toB.Host, toB.LocalDestination) == (ha, localA, hb, localB);
        }
        return new Outcome(heardByA && heardByB, relayed);
    }

    private static IcePath Observed(Outcome o, bool turnServer) =>
        o.Direct ? IcePath.Direct : turnServer && o.Relayed ? IcePath.Relayed : IcePath.Fails;

    public static TheoryData<string, string> PresetPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var a in NatPresets.Names)
            foreach (var b in NatPresets.Names)
                data.Add(a, b);
        return data;
    }

    [Theory]
    [MemberData(nameof(PresetPairs))]
    public void Packet_level_ICE_agrees_with_the_prediction_for_every_preset_pair(string a, string b)
    {
        var outcome = Simulate(NatPresets.ByName(a), NatPresets.ByName(b), seed: 42);
        Assert.True(outcome.Relayed, "a TURN relay works through any NAT");
        foreach (bool turn in new[] { true, false })
            Assert.Equal(NatPrediction.Predict(a, b, turn), Observed(outcome, turn));
    }

    [Fact]
    public void Cones_connect_directly_and_symmetric_needs_the_relay_against_port_restricted_or_symmetric()
    {
        string[] cones = ["none", "full-cone", "restricted-cone", "port-restricted"];
        foreach (var a in cones)
            foreach (var b in cones)
                Assert.Equal(IcePath.Direct, NatPrediction.Predict(a, b, turnServer: false));
        foreach (var other in new[] { "port-restricted", "symmetric" })
        {
            Assert.Equal(IcePath.Relayed, NatPrediction.Predict("symmetric", other, turnServer: true));
            Assert.Equal(IcePath.Relayed, NatPrediction.Predict(other, "symmetric", turnServer: true));
            Assert.Equal(IcePath.Fails, NatPrediction.Predict("symmetric", other, turnServer: false));
        }
        Assert.Equal(IcePath.Direct, NatPrediction.Predict("symmetric", "restricted-cone", turnServer: false)); // via a peer-reflexive candidate
    }

    [Fact]
    public void The_prediction_agrees_with_the_packets_for_any_pair_of_behaviours_port_assignments_and_refresh_rules()
    {
        var kinds = new List<NatBehaviour> { NatPresets.None };
        foreach (var m in Enum.GetValues<NatDependence>())
            foreach (var fl in Enum.GetValues<NatDependence>())
                kinds.Add(new NatBehaviour { Mapping = m, Filtering = fl });
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            NatBehaviour Pick()
            {
                var k = kinds[rng.NextInt(kinds.Count)];
                return k.Public ? k : k with { PortAssignment = (PortAssignment)rng.NextInt(3), InboundRefreshes = rng.NextInt(2) == 0, Hairpinning = rng.NextInt(2) == 0 };
            }
            var (a, b) = (Pick(), Pick());
            var outcome = Simulate(a, b, seed);
            bool turn = rng.NextInt(2) == 0;
            return outcome.Relayed && NatPrediction.Predict(a, b, turn) == Observed(outcome, turn);
        }, maxTest: 300);
    }
}
