// A NAT box, behaviour by behaviour (RFC 4787): which external endpoint outbound packets get,
// which inbound packets pass, expiry and refresh, the bounds and the fault hooks.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Net;

public class NatBoxTests
{
    private static readonly uint Public = Ip4.Parse("203.0.113.7");
    private static readonly Ip4Endpoint Inside = Ip4Endpoint.Of("10.0.0.2", 5000);
    private static readonly Ip4Endpoint InsideOther = Ip4Endpoint.Of("10.0.0.3", 5000);
    private static readonly Ip4Endpoint Y1 = Ip4Endpoint.Of("198.51.100.1", 3478);
    private static readonly Ip4Endpoint Y1OtherPort = Ip4Endpoint.Of("198.51.100.1", 9999);
    private static readonly Ip4Endpoint Y2 = Ip4Endpoint.Of("198.51.100.2", 3478);
    private static readonly Instant T0 = Instant.FromSeconds(10);

    private static NatBox Box(NatDependence mapping = NatDependence.EndpointIndependent, NatDependence filtering = NatDependence.EndpointIndependent,
        Func<NatBehaviour, NatBehaviour>? tweak = null)
    {
        var b = new NatBehaviour { Mapping = mapping, Filtering = filtering };
        return new NatBox(tweak is null ? b : tweak(b), Public, new DeterministicRandom(7));
    }

    private static Ip4Endpoint Out(NatBox box, Ip4Endpoint dst, Instant? at = null, Ip4Endpoint? src = null)
    {
        var r = box.Outbound(at ?? T0, src ?? Inside, dst);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(Public, r.Endpoint.Address);
        return r.Endpoint;
    }

    [Fact]
    public void Endpoint_independent_mapping_reuses_one_external_port_for_every_destination()
    {
        var box = Box();
        var e1 = Out(box, Y1);
        Assert.Equal(e1, Out(box, Y2));
        Assert.Equal(e1, Out(box, Y1OtherPort));
        Assert.Equal(1, box.Count);
    }

    [Fact]
    public void Address_dependent_mapping_shares_a_port_per_destination_address_only()
    {
        var box = Box(NatDependence.AddressDependent);
        var e1 = Out(box, Y1);
        Assert.Equal(e1, Out(box, Y1OtherPort));
        Assert.NotEqual(e1, Out(box, Y2));
    }

    [Fact]
    public void Address_and_port_dependent_mapping_gives_each_destination_endpoint_its_own_port()
    {
        var box = Box(NatDependence.AddressAndPortDependent);
        var ports = new[] { Out(box, Y1), Out(box, Y1OtherPort), Out(box, Y2) }.Select(e => e.Port).ToHashSet();
        Assert.Equal(3, ports.Count);
        Assert.Equal(Out(box, Y1), Out(box, Y1)); // the same destination keeps its mapping
    }

    [Fact]
    public void Port_preservation_keeps_the_internal_port_when_it_is_free()
    {
        var box = Box();
        Assert.Equal(Inside.Port, Out(box, Y1).Port);
        Assert.NotEqual(Inside.Port, Out(box, Y1, src: InsideOther).Port); // taken by the first host
    }

    [Fact]
    public void Sequential_assignment_hands_out_consecutive_ports()
    {
        var box = Box(NatDependence.AddressAndPortDependent, tweak: b => b with { PortAssignment = PortAssignment.Sequential });
        Assert.Equal([1024, 1025, 1026], new[] { Out(box, Y1), Out(box, Y2), Out(box, Y1OtherPort) }.Select(e => (int)e.Port));
    }

    [Fact]
    public void Random_assignment_depends_only_on_the_seed()
    {
        NatBox Make(ulong seed) => new(NatPresets.Symmetric with { PortAssignment = PortAssignment.Random }, Public, new DeterministicRandom(seed));
        ushort[] Ports(NatBox box) => [Out(box, Y1).Port, Out(box, Y2).Port, Out(box, Y1OtherPort).Port];
        Assert.Equal(Ports(Make(1)), Ports(Make(1)));
        Assert.NotEqual(Ports(Make(1)), Ports(Make(2)));
    }

    [Fact]
    public void Endpoint_independent_filtering_admits_any_source_once_a_mapping_exists()
    {
        var box = Box();
        Assert.Equal(DropReason.NoMapping, box.Inbound(T0, Y2, new Ip4Endpoint(Public, Inside.Port)).Drop);
        var e = Out(box, Y1);
        Assert.Equal(Inside, box.Inbound(T0, Y2, e).Endpoint);
        Assert.Equal(Inside, box.Inbound(T0, Ip4Endpoint.Of("192.0.2.99", 1), e).Endpoint);
    }

    [Fact]
    public void Address_dependent_filtering_admits_any_port_of_an_address_sent_to_and_nothing_else()
    {
        var box = Box(filtering: NatDependence.AddressDependent);
        var e = Out(box, Y1);
        Assert.True(box.Inbound(T0, Y1, e).Ok);
        Assert.True(box.Inbound(T0, Y1OtherPort, e).Ok);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0, Y2, e).Drop);
    }

    [Fact]
    public void Address_and_port_dependent_filtering_admits_only_the_exact_endpoints_sent_to()
    {
        var box = Box(filtering: NatDependence.AddressAndPortDependent);
        var e = Out(box, Y1);
        Assert.True(box.Inbound(T0, Y1, e).Ok);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0, Y1OtherPort, e).Drop);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0, Y2, e).Drop);
        Out(box, Y2);
        Assert.True(box.Inbound(T0, Y2, e).Ok);
    }

    [Fact]
    public void A_mapping_expires_after_its_lifetime_and_an_outbound_packet_refreshes_it()
    {
        var box = Box();
        var lifetime = box.Behaviour.MappingLifetime;
        var e = Out(box, Y1, T0);
        Assert.True(box.Inbound(T0 + lifetime - TimeSpan.FromTicks(1), Y1, e).Ok);
        Out(box, Y1, T0 + lifetime - TimeSpan.FromTicks(1)); // refresh just before the end
        Assert.True(box.Inbound(T0 + lifetime + lifetime / 2, Y1, e).Ok);
        Assert.Equal(DropReason.MappingExpired, box.Inbound(T0 + lifetime * 3, Y1, e).Drop);
        Assert.Equal(DropReason.NoMapping, box.Inbound(T0 + lifetime * 3, Y1, e).Drop); // and it is gone
    }

    [Fact]
    public void Inbound_packets_refresh_a_mapping_only_when_the_behaviour_says_so()
    {
        foreach (bool refreshes in new[] { false, true })
        {
            var box = Box(tweak: b => b with { InboundRefreshes = refreshes });
            var lifetime = box.Behaviour.MappingLifetime;
            var e = Out(box, Y1, T0);
            Assert.True(box.Inbound(T0 + lifetime / 2 + lifetime / 4, Y1, e).Ok);
            Assert.Equal(refreshes, box.Inbound(T0 + lifetime + lifetime / 2, Y1, e).Ok);
        }
    }

    [Fact]
    public void Inbound_packets_do_not_refresh_past_the_lifetime_when_filtered()
    {
        var box = Box(filtering: NatDependence.AddressAndPortDependent, tweak: b => b with { InboundRefreshes = true });
        var lifetime = box.Behaviour.MappingLifetime;
        var e = Out(box, Y1, T0);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0 + lifetime / 2, Y2, e).Drop);
        Assert.Equal(DropReason.MappingExpired, box.Inbound(T0 + lifetime, Y1, e).Drop);
    }

    [Fact]
    public void A_full_table_drops_new_mappings_but_serves_existing_ones_and_frees_expired_ones()
    {
        var box = Box(NatDependence.AddressAndPortDependent, tweak: b => b with { MappingsMax = 2 });
        var e1 = Out(box, Y1, T0);
        Out(box, Y2, T0 + TimeSpan.FromSeconds(30));
        Assert.Equal(DropReason.TableFull, box.Outbound(T0 + TimeSpan.FromSeconds(60), Inside, Y1OtherPort).Drop);
        Assert.Equal(e1, Out(box, Y1, T0 + TimeSpan.FromSeconds(60)));
        // The Y2 mapping (refreshed last at 30 s) expires at 150 s; the Y1 one lives until 180 s.
        Assert.True(box.Outbound(T0 + TimeSpan.FromSeconds(150), Inside, Y1OtherPort).Ok);
        Assert.Equal(2, box.Count);
        box.CheckInvariants();
    }

    [Fact]
    public void Permissions_beyond_the_bound_forget_the_oldest_destination()
    {
        var box = Box(filtering: NatDependence.AddressAndPortDependent, tweak: b => b with { PermissionsPerMappingMax = 2 });
        var e = Out(box, Y1);
        Out(box, Y2);
        Out(box, Y1OtherPort);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0, Y1, e).Drop);
        Assert.True(box.Inbound(T0, Y2, e).Ok);
        Assert.True(box.Inbound(T0, Y1OtherPort, e).Ok);
    }

    [Fact]
    public void Sweep_removes_expired_mappings_and_poll_timeout_names_the_next_expiry()
    {
        var box = Box(NatDependence.AddressAndPortDependent);
        Assert.Null(box.PollTimeout());
        Out(box, Y1, T0);
        Out(box, Y2, T0 + TimeSpan.FromSeconds(5));
        Assert.Equal(T0 + box.Behaviour.MappingLifetime, box.PollTimeout());
        box.HandleTimeout(T0); // early: nothing happens
        Assert.Equal(2, box.Count);
        Assert.Equal(1, box.Sweep(T0 + box.Behaviour.MappingLifetime));
        Assert.Equal(1, box.Count);
    }

    [Fact]
    public void Expire_all_loses_every_mapping_like_a_reboot()
    {
        var box = Box();
        var e = Out(box, Y1);
        box.ExpireAll();
        Assert.Equal(0, box.Count);
        Assert.Equal(DropReason.NoMapping, box.Inbound(T0, Y1, e).Drop);
    }

    [Fact]
    public void Rebind_moves_every_mapping_to_a_new_port_and_keeps_its_permissions()
    {
        var box = Box(NatDependence.AddressAndPortDependent, NatDependence.AddressAndPortDependent);
        var e1 = Out(box, Y1);
        var e2 = Out(box, Y2);
        box.Rebind(T0);
        box.CheckInvariants();
        Assert.Equal(DropReason.NoMapping, box.Inbound(T0, Y1, e1).Drop);
        var n1 = Out(box, Y1);
        var n2 = Out(box, Y2);
        Assert.NotEqual(e1, n1);
        Assert.NotEqual(e2, n2);
        Assert.Equal(2, box.Count);
        Assert.Equal(Inside, box.Inbound(T0, Y1, n1).Endpoint);
        Assert.Equal(DropReason.Filtered, box.Inbound(T0, Y2, n1).Drop);
    }

    [Fact]
    public void Inbound_to_another_public_address_is_not_for_this_box()
    {
        var box = Box();
        var e = Out(box, Y1);
        Assert.Equal(DropReason.NoRoute, box.Inbound(T0, Y1, e with { Address = e.Address + 1 }).Drop);
    }

    [Fact]
    public void A_box_refuses_the_public_behaviour_and_random_ports_without_a_generator()
    {
        Assert.Throws<ArgumentException>(() => new NatBox(NatPresets.None, Public));
        Assert.Throws<ArgumentException>(() => new NatBox(NatPresets.FullCone with { PortAssignment = PortAssignment.Random }, Public));
        Assert.Contains("MappingsMax", Assert.Throws<ArgumentException>(() => new NatBox(NatPresets.FullCone with { MappingsMax = 0 }, Public)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_mappings_on_one_box_stay_consistent_past_the_index_threshold()
    {
        var box = Box(NatDependence.AddressAndPortDependent, NatDependence.AddressAndPortDependent, b => b with { MappingLifetime = TimeSpan.FromSeconds(10) });
        var dsts = Enumerable.Range(0, 40).Select(i => new Ip4Endpoint(Y1.Address, (ushort)(2000 + i))).ToArray();
        var external = dsts.Select(d => Out(box, d, T0)).ToArray();
        Assert.Equal(40, external.Distinct().Count());
        for (int i = 0; i < 40; i += 2) Out(box, dsts[i], T0 + TimeSpan.FromSeconds(5));
        Assert.Equal(20, box.Sweep(T0 + TimeSpan.FromSeconds(12)));
        box.CheckInvariants();
        for (int i = 0; i < 40; i++)
            Assert.Equal(i % 2 == 0 ? DropReason.None : DropReason.NoMapping, box.Inbound(T0 + TimeSpan.FromSeconds(12), dsts[i], external[i]).Drop);
    }
}
