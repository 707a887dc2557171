// The simulator's id -> node map: every id added is found with its index and the latency point it
// was given, and a relayed message's latency worked out from that point equals the latency
// model's own figure for the pair (the simulator reads the receiver's point from the map's slot).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Sim;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public sealed class NodeIndexMapTests
{
    [Fact]
    public void Every_node_is_found_with_its_index_and_point_and_the_latency_from_the_point_is_the_models() =>
        PropertyCheck.Run(100, Prop.ForAll(Arb.From(Gen.Choose(1, 3000)), Arb.From(Gen.Choose(0, int.MaxValue)), (n, seed) =>
        {
            var random = new DeterministicRandom((ulong)seed);
            var latency = new LatencyModel(n, random.Fork("latency"), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(100));
            var map = new NodeIndexMap(n);
            var ids = new NodeId[n];
            var idRandom = random.Fork("ids");
            for (int i = 0; i < n; i++)
            {
                ids[i] = new NodeId(idRandom.NextUInt128());
                map.Add(ids[i], i, latency.PointOf(i));
            }
            for (int b = 0; b < n; b++)
            {
                if (!map.TryGetValue(ids[b], out int index, out var point) || index != b || point != latency.PointOf(b)) return false;
                int a = (int)(idRandom.NextUInt64Below((ulong)n));
                if (latency.BetweenNs(a, point) != latency.BetweenNs(a, b) || latency.ToServerNs(point) != latency.ToServerNs(b)) return false;
            }
            return !map.TryGetValue(new NodeId(idRandom.NextUInt128()), out int missing, out _) && missing == -1;
        }));
}
