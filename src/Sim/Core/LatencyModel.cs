// Per-pair one-way latency from a seeded synthetic-coordinate model: each node gets a point in
// a unit square, latency = BaseLatency + distance * SpanLatency (distance up to sqrt 2). O(n)
// memory for any number of pairs, symmetric, and a pure function of the seed. The signaling
// server sits at its own point. A node's two coordinates sit side by side (one cache line, not
// two arrays' worth of misses per lookup at a million nodes).
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim;

/// <summary>A node's point in the latency model's unit square.</summary>
public readonly record struct LatencyPoint(float X, float Y);

public sealed class LatencyModel
{
    private readonly float[] _xy; // node i: x at 2i, y at 2i + 1
    private readonly float _serverX, _serverY;
    private readonly long _baseNs;
    private readonly double _spanNs;

    public LatencyModel(int nodes, DeterministicRandom random, TimeSpan baseLatency, TimeSpan spanLatency)
    {
        _xy = new float[2 * nodes];
        for (int i = 0; i < nodes; i++) { _xy[2 * i] = (float)random.NextDouble(); _xy[2 * i + 1] = (float)random.NextDouble(); }
        _serverX = (float)random.NextDouble();
        _serverY = (float)random.NextDouble();
        _baseNs = baseLatency.Ticks * 100;
        _spanNs = spanLatency.Ticks * 100.0;
    }

    public long BetweenNs(int a, int b) => BetweenNs(a, PointOf(b));
    public long ToServerNs(int a) => ToServerNs(PointOf(a));

    /// <summary>Node a's point (for a caller that keeps it next to other per-node data).</summary>
    public LatencyPoint PointOf(int a) => new(_xy[2 * a], _xy[2 * a + 1]);

    /// <summary>BetweenNs(a, b) where b's point is already at hand: the same value, without reading b's.</summary>
    public long BetweenNs(int a, LatencyPoint b) => _baseNs + (long)(Distance(_xy[2 * a], _xy[2 * a + 1], b.X, b.Y) * _spanNs);

    /// <summary>ToServerNs for a point at hand.</summary>
    public long ToServerNs(LatencyPoint a) => _baseNs + (long)(Distance(a.X, a.Y, _serverX, _serverY) * _spanNs);

    /// <summary>Starts loading a node's coordinates (a cache hint; see CacheHint).</summary>
    internal void Hint(int node)
    {
        if ((uint)(2 * node) < (uint)_xy.Length) CacheHint.Element(ref _xy[2 * node]);
    }

    private static double Distance(float x1, float y1, float x2, float y2)
    {
        double dx = x1 - x2, dy = y1 - y2;
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
