// The virtual UDP fabric: each routing case (public, through one NAT, across two, on a LAN,
// hairpinned), the drops, registration errors, the address pool, and determinism of Route.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.Net;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Net;

public class UdpFabricTests
{
    private static readonly Instant Now = Instant.FromSeconds(1);

    private static Ip4Endpoint At(UdpFabric f, int host, ushort port) => new(f.AddressOf(host), port);

    private static RouteResult Delivered(UdpFabric f, Ip4Endpoint from, Ip4Endpoint to, int expectedHost)
    {
        var r = f.Route(Now, from, to);
        Assert.True(r.Delivered, r.ToString());
        Assert.Equal(expectedHost, r.Host);
        return r;
    }

    [Fact]
    public void Public_to_public_is_delivered_as_sent()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int a = f.AddPublicHost(), b = f.AddPublicHost();
        var r = Delivered(f, At(f, a, 1000), At(f, b, 2000), b);
        Assert.Equal((At(f, a, 1000), At(f, b, 2000)), (r.SeenSource, r.LocalDestination));
    }

    [Fact]
    public void A_private_host_is_seen_through_its_mapping_and_the_reply_reaches_its_local_endpoint()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int server = f.AddPublicHost();
        int nat = f.AddNat(NatPresets.PortRestricted);
        int host = f.AddPrivateHost(nat);
        var r = Delivered(f, At(f, host, 5000), At(f, server, 3478), server);
        Assert.Equal(new Ip4Endpoint(f.Nat(nat).PublicAddress, 5000), r.SeenSource);
        var back = Delivered(f, At(f, server, 3478), r.SeenSource, host);
        Assert.Equal((At(f, server, 3478), At(f, host, 5000)), (back.SeenSource, back.LocalDestination));
        Assert.Equal(DropReason.Filtered, f.Route(Now, At(f, server, 3479), r.SeenSource).Drop);
    }

    [Fact]
    public void Unsolicited_and_unroutable_packets_are_dropped_with_their_reason()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int pub = f.AddPublicHost();
        int natA = f.AddNat(NatPresets.FullCone), natB = f.AddNat(NatPresets.FullCone);
        int a = f.AddPrivateHost(natA), b = f.AddPrivateHost(natB);
        Assert.Equal(DropReason.NoMapping, f.Route(Now, At(f, pub, 1), new Ip4Endpoint(f.Nat(natA).PublicAddress, 5000)).Drop);
        Assert.Equal(DropReason.NoRoute, f.Route(Now, At(f, pub, 1), At(f, a, 5000)).Drop);
        Assert.Equal(DropReason.NoRoute, f.Route(Now, At(f, a, 5000), At(f, b, 5000)).Drop);
        Assert.Equal(DropReason.NoRoute, f.Route(Now, At(f, a, 5000), Ip4Endpoint.Of("198.51.100.77", 1)).Drop);
        Assert.Equal(DropReason.UnknownSource, f.Route(Now, Ip4Endpoint.Of("10.99.0.1", 1), At(f, pub, 1)).Drop);
    }

    [Fact]
    public void Hosts_behind_one_box_reach_each_other_directly_on_their_private_addresses()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int nat = f.AddNat(NatPresets.Symmetric);
        int a = f.AddPrivateHost(nat), b = f.AddPrivateHost(nat);
        var r = Delivered(f, At(f, a, 5000), At(f, b, 6000), b);
        Assert.Equal(At(f, a, 5000), r.SeenSource);
        Assert.Equal(0, f.Nat(nat).Count);
    }

    [Fact]
    public void Two_full_cone_hosts_reach_each_other_across_both_boxes_once_each_has_a_mapping()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int stun = f.AddPublicHost();
        int a = f.AddHost(NatPresets.FullCone), b = f.AddHost(NatPresets.FullCone);
        var ma = Delivered(f, At(f, a, 5000), At(f, stun, 3478), stun).SeenSource;
        var mb = Delivered(f, At(f, b, 5000), At(f, stun, 3478), stun).SeenSource;
        var r = Delivered(f, At(f, a, 5000), mb, b);
        Assert.Equal((ma, At(f, b, 5000)), (r.SeenSource, r.LocalDestination));
        Assert.Equal(At(f, a, 5000), Delivered(f, At(f, b, 5000), ma, a).LocalDestination);
    }

    /// <summary>Two hosts behind one box, each with the mapping it got by talking to a public server.</summary>
    private static (UdpFabric F, int A, int B, Ip4Endpoint MappedA, Ip4Endpoint MappedB) TwoHostsBehindOneBox(NatBehaviour behaviour)
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int stun = f.AddPublicHost();
        int nat = f.AddNat(behaviour);
        int a = f.AddPrivateHost(nat), b = f.AddPrivateHost(nat);
        var ma = Delivered(f, At(f, a, 5000), At(f, stun, 3478), stun).SeenSource;
        var mb = Delivered(f, At(f, b, 5000), At(f, stun, 3478), stun).SeenSource;
        return (f, a, b, ma, mb);
    }

    [Fact]
    public void A_hairpinning_box_turns_a_packet_around_and_the_receiver_sees_the_senders_mapping()
    {
        var (f, a, b, ma, mb) = TwoHostsBehindOneBox(NatPresets.FullCone);
        var r = Delivered(f, At(f, a, 5000), mb, b);
        Assert.Equal(ma, r.SeenSource); // RFC 4787 REQ-9: the external source, not 10.x
        Assert.Equal(At(f, b, 5000), r.LocalDestination);
    }

    [Fact]
    public void A_box_that_does_not_hairpin_drops_the_packet()
    {
        var (f, a, _, _, mb) = TwoHostsBehindOneBox(NatPresets.FullCone with { Hairpinning = false });
        Assert.Equal(DropReason.HairpinDisabled, f.Route(Now, At(f, a, 5000), mb).Drop);
    }

    [Fact]
    public void Hairpinned_packets_meet_the_boxs_filtering_like_any_inbound_packet()
    {
        var (f, a, b, ma, mb) = TwoHostsBehindOneBox(NatPresets.PortRestricted);
        Assert.Equal(DropReason.Filtered, f.Route(Now, At(f, a, 5000), mb).Drop); // b's mapping has only sent to the STUN server
        Assert.Equal(mb, Delivered(f, At(f, b, 5000), ma, a).SeenSource);        // a's mapping has sent to mb just now
        Assert.Equal(ma, Delivered(f, At(f, a, 5000), mb, b).SeenSource);        // and now b's has sent to ma
    }

    [Fact]
    public void The_IPEndPoint_form_gives_the_same_route_and_refuses_IPv6()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int a = f.AddPublicHost(), b = f.AddPublicHost();
        var route = f.Route(Now, At(f, a, 1000).ToIPEndPoint(), At(f, b, 2000).ToIPEndPoint());
        var d = Assert.IsType<FabricRoute.Delivery>(route);
        Assert.Equal((b, At(f, a, 1000).ToIPEndPoint(), At(f, b, 2000).ToIPEndPoint()), (d.HostId, d.SeenSource, d.LocalDestination));
        var v6 = f.Route(Now, new IPEndPoint(IPAddress.IPv6Loopback, 1), At(f, b, 2000).ToIPEndPoint());
        Assert.Equal(DropReason.NotIpv4, Assert.IsType<FabricRoute.Drop>(v6).Reason);
    }

    [Fact]
    public void Registration_refuses_reused_addresses_and_the_wrong_kind_of_address()
    {
        var f = new UdpFabric(new DeterministicRandom(1));
        int nat = f.AddNat(NatPresets.FullCone, Ip4.Parse("203.0.113.50"));
        Assert.Throws<ArgumentException>(() => f.AddPublicHost(Ip4.Parse("203.0.113.50")));
        Assert.Throws<ArgumentException>(() => f.AddPublicHost(Ip4.Parse("10.1.2.3")));
        Assert.Throws<ArgumentException>(() => f.AddPrivateHost(nat, Ip4.Parse("198.51.100.1")));
        f.AddPrivateHost(nat, Ip4.Parse("192.168.1.2"));
        Assert.Throws<ArgumentException>(() => f.AddPrivateHost(nat, Ip4.Parse("192.168.1.2")));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.AddPrivateHost(5));
    }

    [Fact]
    public void The_address_pool_hands_out_distinct_addresses_of_the_right_kind_and_skips_dot_0_and_dot_255()
    {
        var pool = new AddressPool();
        Assert.Equal("203.0.113.1", Ip4.Format(pool.NextPublic()));
        Assert.Equal("10.0.0.1", Ip4.Format(pool.NextPrivate()));
        var pub = Enumerable.Range(0, 100_000).Select(_ => pool.NextPublic()).ToArray();
        var priv = Enumerable.Range(0, 100_000).Select(_ => pool.NextPrivate()).ToArray();
        Assert.Equal(pub.Length, pub.Distinct().Count());
        Assert.Equal(priv.Length, priv.Distinct().Count());
        Assert.All(pub, a => Assert.False(Ip4.IsPrivate(a)));
        Assert.All(priv, a => Assert.True(Ip4.IsPrivate(a)));
        Assert.DoesNotContain(pub.Concat(priv), a => (a & 0xFF) is 0 or 255);
    }

    [Fact]
    public void Endpoints_pack_into_one_integer_and_back()
    {
        var e = Ip4Endpoint.Of("203.0.113.200", 65535);
        Assert.Equal(e, Ip4Endpoint.FromPacked(e.Packed));
        Assert.True(Ip4Endpoint.TryFrom(e.ToIPEndPoint(), out var back));
        Assert.Equal(e, back);
        Assert.Equal("203.0.113.200:65535", e.ToString());
        Assert.True(Ip4Endpoint.TryFrom(new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 7), out var mapped));
        Assert.Equal(Ip4Endpoint.Of("10.0.0.1", 7), mapped);
    }

    /// <summary>A random fabric and a random packet stream; the list of routes is the trace.</summary>
    private static List<RouteResult> RandomTrace(ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var f = new UdpFabric(new DeterministicRandom(seed).Fork("fabric"));
        var presets = NatPresets.Names;
        var endpoints = new List<Ip4Endpoint>();
        for (int i = 0; i < 3; i++) endpoints.Add(At(f, f.AddPublicHost(), 3478));
        for (int n = 0; n < 4; n++)
        {
            var b = NatPresets.ByName(presets[1 + rng.NextInt(presets.Count - 1)]) with { PortAssignment = (PortAssignment)rng.NextInt(3) };
            int nat = f.AddNat(b);
            for (int h = 0; h < 1 + rng.NextInt(3); h++) endpoints.Add(At(f, f.AddPrivateHost(nat), (ushort)(5000 + rng.NextInt(2))));
        }
        var trace = new List<RouteResult>();
        var now = Instant.Zero;
        for (int i = 0; i < 300; i++)
        {
            now += TimeSpan.FromSeconds(rng.NextInt(3));
            var from = endpoints[rng.NextInt(endpoints.Count)];
            var to = endpoints[rng.NextInt(endpoints.Count)];
            var r = f.Route(now, from, to);
            trace.Add(r);
            if (r.Delivered)
            {
                endpoints.Add(r.SeenSource); // later packets aim at learned (reflexive) endpoints too
                var reply = f.Route(now, r.LocalDestination, r.SeenSource);
                trace.Add(reply);
            }
            f.CheckInvariants();
        }
        return trace;
    }

    [Fact]
    public void Route_is_deterministic_for_a_seed()
    {
        Check(Seeds, seed =>
        {
            var first = RandomTrace(seed);
            return first.SequenceEqual(RandomTrace(seed)) && first.Any(r => r.Delivered);
        }, maxTest: 50);
    }
}
