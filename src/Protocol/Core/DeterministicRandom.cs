// A seeded pseudo-random generator (xoshiro256** seeded through SplitMix64), the only source
// of randomness in Protocol and Sim. Fork(label) derives an independent child stream, so one
// master seed becomes a tree of seeds (per subsystem, per node) and adding a consumer in one
// subsystem never shifts the numbers another subsystem sees.
// Written by hand: System.Random is banned here because its algorithm is not a stable contract.
using System.Numerics;

namespace EdgeVpn.Protocol.Core;

public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public ulong Seed { get; }

    public DeterministicRandom(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>A child generator whose seed depends only on this seed and the label.</summary>
    public DeterministicRandom Fork(string label) => new(DeriveSeed(Seed, StableHash.Of(label)));

    /// <summary>A child generator whose seed depends only on this seed and the number.</summary>
    public DeterministicRandom Fork(ulong label) => new(DeriveSeed(Seed, label));

    public static ulong DeriveSeed(ulong seed, ulong label)
    {
        ulong x = seed ^ (label * 0x9E3779B97F4A7C15UL);
        SplitMix64(ref x);
        return SplitMix64(ref x);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    public UInt128 NextUInt128() => new(NextUInt64(), NextUInt64());

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, maxExclusive). Lemire's unbiased method.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        return (int)NextUInt64Below((ulong)maxExclusive);
    }

    public ulong NextUInt64Below(ulong bound)
    {
        if (bound == 0) throw new ArgumentOutOfRangeException(nameof(bound));
        UInt128 m = (UInt128)NextUInt64() * bound;
        ulong low = (ulong)m;
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                m = (UInt128)NextUInt64() * bound;
                low = (ulong)m;
            }
        }
        return (ulong)(m >> 64);
    }

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Exponentially distributed with the given mean.</summary>
    public double NextExponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    /// <summary>The duration scaled by a factor uniform in [1 - spread, 1 + spread]: seeded jitter.</summary>
    public TimeSpan Jitter(TimeSpan d, double spread) =>
        TimeSpan.FromTicks((long)(d.Ticks * (1.0 + spread * (2 * NextDouble() - 1))));

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
