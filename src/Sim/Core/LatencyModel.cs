// Per-pair one-way latency from a seeded synthetic-coordinate model: each node gets a point in
// a unit square, latency = BaseLatency + distance * SpanLatency (distance up to sqrt 2). O(n)
// memory for any number of pairs, symmetric, and a pure function of the seed. The signaling
// server sits at its own point.
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim;

public sealed class LatencyModel
{
    private readonly float[] _x;
    private readonly float[] _y;
    private readonly float _serverX, _serverY;
    private readonly long _baseNs;
    private readonly double _spanNs;

    public LatencyModel(int nodes, DeterministicRandom random, TimeSpan baseLatency, TimeSpan spanLatency)
    {
        _x = new float[nodes];
        _y = new float[nodes];
        for (int i = 0; i < nodes; i++) { _x[i] = (float)random.NextDouble(); _y[i] = (float)random.NextDouble(); }
        _serverX = (float)random.NextDouble();
        _serverY = (float)random.NextDouble();
        _baseNs = baseLatency.Ticks * 100;
        _spanNs = spanLatency.Ticks * 100.0;
    }

    public long BetweenNs(int a, int b) => _baseNs + (long)(Distance(_x[a], _y[a], _x[b], _y[b]) * _spanNs);
    public long ToServerNs(int a) => _baseNs + (long)(Distance(_x[a], _y[a], _serverX, _serverY) * _spanNs);

    private static double Distance(float x1, float y1, float x2, float y2)
    {
        double dx = x1 - x2, dy = y1 - y2;
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
