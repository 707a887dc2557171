// Shared FsCheck generators for property tests; reuse them rather than writing new ones.
// Contract: NodeId generators cover the full 128-bit range and deliberately over-sample the
// wrap-around seam (ids clustered just above 0 and just below 2^128 - 1, including both
// extremes), so that ring laws meet the cases where naive arithmetic breaks. The Arbitrary
// members shrink NodeIds towards small values. Everything is pure and thread-safe.
using EdgeVpn.Protocol.Ring;
using FsCheck;
using FsCheck.Fluent;

namespace EdgeVpn.Tests;

public static class Generators
{
    /// <summary>How far from 0 or from 2^128 - 1 the clustered ids may lie.</summary>
    public const int ClusterWidth = 1 << 10;

    /// <summary>Uniform over all 64-bit values (built from four 16-bit draws).</summary>
    public static Gen<ulong> UInt64Uniform { get; } =
        from a in Gen.Choose(0, 0xFFFF)
        from b in Gen.Choose(0, 0xFFFF)
        from c in Gen.Choose(0, 0xFFFF)
        from d in Gen.Choose(0, 0xFFFF)
        select ((ulong)(uint)a << 48) | ((ulong)(uint)b << 32) | ((ulong)(uint)c << 16) | (uint)d;

    /// <summary>Uniform over all 128-bit values.</summary>
    public static Gen<UInt128> UInt128Uniform { get; } =
        from hi in UInt64Uniform
        from lo in UInt64Uniform
        select new UInt128(hi, lo);

    /// <summary>Uniform over the whole ring.</summary>
    public static Gen<NodeId> NodeIdUniform { get; } = UInt128Uniform.Select(v => new NodeId(v));

    /// <summary>Ids in [0, ClusterWidth): just clockwise after the seam (0 included).</summary>
    public static Gen<NodeId> NodeIdNearZero { get; } =
        Gen.Choose(0, ClusterWidth - 1).Select(k => new NodeId((UInt128)(uint)k));

    /// <summary>Ids in (2^128 - 1 - ClusterWidth, 2^128 - 1]: just before the seam (max included).</summary>
    public static Gen<NodeId> NodeIdNearMax { get; } =
        Gen.Choose(0, ClusterWidth - 1).Select(k => new NodeId(UInt128.MaxValue - (uint)k));

    /// <summary>Ids within ClusterWidth either side of the seam, so arcs often wrap.</summary>
    public static Gen<NodeId> NodeIdNearSeam { get; } = Gen.OneOf(NodeIdNearZero, NodeIdNearMax);

    /// <summary>The default mix: mostly uniform, often near the seam, sometimes an extreme.</summary>
    public static Gen<NodeId> NodeIdMixed { get; } = Gen.Frequency(
        (6, NodeIdUniform),
        (2, NodeIdNearZero),
        (2, NodeIdNearMax),
        (1, Gen.Elements(NodeId.Zero, new NodeId(UInt128.MaxValue), new NodeId(UInt128.One << 127))));

    /// <summary>Ids within ClusterWidth clockwise of the given centre (wrapping past the seam).</summary>
    public static Gen<NodeId> NodeIdNear(NodeId centre) =>
        Gen.Choose(-ClusterWidth, ClusterWidth).Select(k =>
            k >= 0 ? centre.Add((UInt128)(uint)k) : centre.Add(UInt128.Zero - (uint)(-k)));

    /// <summary>Smaller ids first: zero, the low half alone, the value halved.</summary>
    public static IEnumerable<NodeId> ShrinkNodeId(NodeId id)
    {
        if (id == NodeId.Zero) yield break;
        yield return NodeId.Zero;
        if (id.Upper != 0) yield return new NodeId(0, id.Lower);
        yield return new NodeId(id.Value >> 1);
    }

    public static Arbitrary<NodeId> NodeIds { get; } = Arb.From(NodeIdMixed, ShrinkNodeId);

    public static Arbitrary<(NodeId A, NodeId B)> NodeIdPairs { get; } = Arb.From(
        from a in NodeIdMixed
        from b in NodeIdMixed
        select (a, b));

    public static Arbitrary<(NodeId A, NodeId B, NodeId C)> NodeIdTriples { get; } = Arb.From(
        from a in NodeIdMixed
        from b in NodeIdMixed
        from c in NodeIdMixed
        select (a, b, c));

    /// <summary>
    /// Lists of 0..maxCount ids (duplicates possible) from one of three shapes: spread over the
    /// ring, clustered at the seam, or clustered around a random centre.
    /// </summary>
    public static Gen<NodeId[]> NodeIdSets(int maxCount = 40) =>
        from n in Gen.Choose(0, maxCount)
        from shape in Gen.Choose(0, 2)
        from centre in NodeIdUniform
        from ids in (shape switch
        {
            0 => NodeIdMixed,
            1 => NodeIdNearSeam,
            _ => NodeIdNear(centre),
        }).ArrayOf(n)
        select ids;

    /// <summary>
    /// A list of member ids and a query id: a member, a member's neighbour (±1), or any id.
    /// </summary>
    public static Arbitrary<(NodeId[] Members, NodeId Query)> MembersAndQuery { get; } = Arb.From(
        from members in NodeIdSets()
        from pick in Gen.Choose(0, 3)
        from index in Gen.Choose(0, Math.Max(0, members.Length - 1))
        from any in NodeIdMixed
        select (members, members.Length == 0 ? any : pick switch
        {
            0 => members[index],
            1 => members[index].Add(UInt128.One),
            2 => members[index].Add(UInt128.MaxValue),
            _ => any,
        }));

    /// <summary>A fraction of the ring in [0, 1]: uniform, tiny, near 1, and the ends.</summary>
    public static Gen<double> RingFraction { get; } = Gen.Frequency(
        (6, UInt64Uniform.Select(u => (u >> 11) * (1.0 / (1UL << 53)))),
        (2, Gen.Choose(1, 1000).Select(k => k * 1e-30)),
        (2, Gen.Choose(1, 1000).Select(k => 1.0 - k * Math.Pow(2, -53))),
        (1, Gen.Elements(0.0, 1.0, 0.5, Math.Pow(2, -64), Math.Pow(2, -128))));

    /// <summary>Seeds for DeterministicRandom: the full 64-bit range plus 0 and max.</summary>
    public static Arbitrary<ulong> Seeds { get; } = Arb.From(Gen.Frequency(
        (9, UInt64Uniform),
        (1, Gen.Elements(0UL, 1UL, ulong.MaxValue))));
}
