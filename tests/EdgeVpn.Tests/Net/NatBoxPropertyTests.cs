// Laws of a NAT box on random behaviours and random packet sequences, checked against an
// independent reference model of RFC 4787 written here from the RFC's definitions (a list of
// mappings, each with the destination that created it and every destination it has sent to),
// not from the box's data structures.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.Net;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Net;

public class NatBoxPropertyTests
{
    private static readonly uint Public = Ip4.Parse("203.0.113.9");
    private static readonly Ip4Endpoint[] Internals = [Ip4Endpoint.Of("10.0.0.2", 5000), Ip4Endpoint.Of("10.0.0.2", 5001), Ip4Endpoint.Of("10.0.0.3", 5000)];
    private static readonly Ip4Endpoint[] Outside =
    [
        Ip4Endpoint.Of("198.51.100.1", 3478), Ip4Endpoint.Of("198.51.100.1", 4000),
        Ip4Endpoint.Of("198.51.100.2", 3478), Ip4Endpoint.Of("198.51.100.2", 4000),
        Ip4Endpoint.Of("192.0.2.5", 3478), Ip4Endpoint.Of("192.0.2.5", 5000),
    ];

    private sealed class RefMapping
    {
        public required Ip4Endpoint Internal;
        public required Ip4Endpoint CreatedBy;
        public required ushort Port;
        public required Instant Expiry;
        public readonly List<Ip4Endpoint> SentTo = [];
    }

    /// <summary>RFC 4787 section 4.1: does this mapping serve a packet from internal to dst?</summary>
    private static bool Serves(RefMapping m, NatDependence mapping, Ip4Endpoint internalSrc, Ip4Endpoint dst) =>
        m.Internal == internalSrc && mapping switch
        {
            NatDependence.EndpointIndependent => true,
            NatDependence.AddressDependent => m.CreatedBy.Address == dst.Address,
            _ => m.CreatedBy == dst,
        };

    /// <summary>RFC 4787 section 5: does this mapping's filter admit a packet from src?</summary>
    private static bool Admits(RefMapping m, NatDependence filtering, Ip4Endpoint src) => filtering switch
    {
        NatDependence.EndpointIndependent => true,
        NatDependence.AddressDependent => m.SentTo.Exists(d => d.Address == src.Address),
        _ => m.SentTo.Contains(src),
    };

    private static NatBehaviour RandomBehaviour(DeterministicRandom rng, int permissionsMin) => new()
    {
        Mapping = (NatDependence)rng.NextInt(3),
        Filtering = (NatDependence)rng.NextInt(3),
        InboundRefreshes = rng.NextInt(2) == 0,
        PortAssignment = (PortAssignment)rng.NextInt(3),
        MappingLifetime = TimeSpan.FromSeconds(1 + rng.NextInt(10)),
        MappingsMax = 1 + rng.NextInt(6),
        PermissionsPerMappingMax = permissionsMin + rng.NextInt(4),
    };

    [Fact]
    public void Packets_pass_exactly_when_the_RFC_4787_rules_over_the_live_mappings_say_so()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var b = RandomBehaviour(rng, permissionsMin: Outside.Length); // never forgets: the reference has no bound
            var box = new NatBox(b, Public, rng.Fork("ports"));
            var model = new List<RefMapping>();
            var ports = new List<ushort>();
            var now = Instant.Zero;
            for (int step = 0; step < 120; step++)
            {
                now += TimeSpan.FromMilliseconds(500 * rng.NextInt(5));
                model.RemoveAll(m => now >= m.Expiry);
                var outside = Outside[rng.NextInt(Outside.Length)];
                if (rng.NextInt(2) == 0)
                {
                    var src = Internals[rng.NextInt(Internals.Length)];
                    var r = box.Outbound(now, src, outside);
                    var m = model.Find(m => Serves(m, b.Mapping, src, outside));
                    if (m is null && model.Count >= b.MappingsMax)
                    {
                        Assert.Equal(DropReason.TableFull, r.Drop);
                        continue;
                    }
                    Assert.True(r.Ok, $"step {step}: {r}");
                    Assert.Equal(Public, r.Endpoint.Address);
                    if (m is null)
                    {
                        Assert.DoesNotContain(model, x => x.Port == r.Endpoint.Port);
                        m = new RefMapping { Internal = src, CreatedBy = outside, Port = r.Endpoint.Port, Expiry = now };
                        model.Add(m);
                        ports.Add(m.Port);
                    }
                    Assert.Equal(m.Port, r.Endpoint.Port);
                    m.Expiry = now + b.MappingLifetime;
                    m.SentTo.Add(outside);
                }
                else
                {
                    ushort port = ports.Count > 0 && rng.NextInt(5) != 0 ? ports[rng.NextInt(ports.Count)] : (ushort)(1024 + rng.NextInt(64512));
                    var r = box.Inbound(now, outside, new Ip4Endpoint(Public, port));
                    var m = model.Find(m => m.Port == port);
                    if (m is null)
                        Assert.Contains(r.Drop, new[] { DropReason.NoMapping, DropReason.MappingExpired });
                    else if (!Admits(m, b.Filtering, outside))
                        Assert.Equal(DropReason.Filtered, r.Drop);
                    else
                    {
                        Assert.True(r.Ok, $"step {step}: {r}");
                        Assert.Equal(m.Internal, r.Endpoint);
                        if (b.InboundRefreshes) m.Expiry = now + b.MappingLifetime;
                    }
                }
                box.CheckInvariants();
            }
            return true;
        }, maxTest: 200);
    }

    [Fact]
    public void Mappings_never_exceed_MappingsMax_whatever_the_packets_and_faults()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var b = RandomBehaviour(rng, permissionsMin: 1);
            var box = new NatBox(b, Public, rng.Fork("ports"));
            var now = Instant.Zero;
            for (int step = 0; step < 200; step++)
            {
                now += TimeSpan.FromMilliseconds(250 * rng.NextInt(4));
                var src = new Ip4Endpoint(Ip4.Parse("10.0.0.2") + (uint)rng.NextInt(4), (ushort)(1000 + rng.NextInt(3)));
                var dst = new Ip4Endpoint(Ip4.Parse("198.51.100.1") + (uint)rng.NextInt(4), (ushort)(3478 + rng.NextInt(3)));
                switch (rng.NextInt(20))
                {
                    case 0: box.ExpireAll(); break;
                    case 1: box.Rebind(now); break;
                    case 2: box.Sweep(now); break;
                    case < 12: box.Outbound(now, src, dst); break;
                    default: box.Inbound(now, dst, new Ip4Endpoint(Public, (ushort)(1000 + rng.NextInt(40)))); break;
                }
                box.CheckInvariants();
                if (box.Count > b.MappingsMax) return false;
            }
            return true;
        }, maxTest: 200);
    }
}
