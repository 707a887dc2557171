// The faults of the virtual network between nodes (turmoil's vocabulary): per-datagram loss and
// duplication (a default plus per-path overrides), partitions between groups of nodes (symmetric
// or one way) and a global latency spike factor. (A signaling-server outage is
// Simulation.SignalingDown: recovering from it republishes the roster.)
// Contract:
//  - a partition blocks the data plane only (frames, keep-alives, transport setup); signaling
//    goes through the central server;
//  - loss and duplication draw from the simulation's "faults" random stream, in event order, so a
//    run stays a pure function of its parameters;
//  - per-path overrides live in a dictionary that is only looked up, never iterated (hash order
//    never reaches a trace); their number is bounded by PathOverridesMax.
namespace EdgeVpn.Sim.Faults;

public readonly record struct PathCondition(double LossRate, double DuplicateRate);

public sealed class NetworkConditions
{
    public const int PathOverridesMax = 1 << 20;
    public const int GroupsMax = 64;

    private readonly Dictionary<long, PathCondition> _paths = new();
    private int[]? _groupOf;            // node index -> partition group; null = no partition
    private readonly bool[] _blocked = new bool[GroupsMax * GroupsMax]; // [from * GroupsMax + to]
    private double _lossRate;
    private double _duplicateRate;
    private double _latencyFactor = 1;

    /// <summary>Loss probability of a datagram on any path without an override.</summary>
    public double LossRate { get => _lossRate; set => _lossRate = Probability(value, nameof(LossRate)); }
    /// <summary>Probability that a datagram arrives twice, on any path without an override.</summary>
    public double DuplicateRate { get => _duplicateRate; set => _duplicateRate = Probability(value, nameof(DuplicateRate)); }
    /// <summary>Every node-to-node latency is multiplied by this (1 = normal; a spike is > 1).</summary>
    public double LatencyFactor
    {
        get => _latencyFactor;
        set => _latencyFactor = value is >= 1 and <= 1000 ? value : throw new ArgumentOutOfRangeException(nameof(LatencyFactor), value, "must be in 1..1000");
    }
    public bool Partitioned => _groupOf is not null;
    /// <summary>True when some loss, duplication or partition may drop or copy datagrams.</summary>
    public bool AnyDatagramFault => _lossRate > 0 || _duplicateRate > 0 || _paths.Count > 0 || _groupOf is not null;

    /// <summary>Overrides loss and duplication on the path between two nodes (both directions).</summary>
    public void SetPath(int a, int b, PathCondition condition)
    {
        Probability(condition.LossRate, "path loss rate");
        Probability(condition.DuplicateRate, "path duplicate rate");
        if (_paths.Count >= PathOverridesMax && !_paths.ContainsKey(PathKey(a, b)))
            throw new InvalidOperationException($"more than {PathOverridesMax} path overrides");
        _paths[PathKey(a, b)] = condition;
    }

    public void ClearPaths() => _paths.Clear();

    public PathCondition ConditionOf(int a, int b) =>
        _paths.Count > 0 && _paths.TryGetValue(PathKey(a, b), out var c) ? c : new PathCondition(_lossRate, _duplicateRate);

    /// <summary>Splits the nodes into groups (groupOf[node] in 0..GroupsMax-1) with every cross-group direction blocked.</summary>
    public void Partition(int[] groupOf)
    {
        foreach (int g in groupOf)
            if (g < 0 || g >= GroupsMax) throw new ArgumentOutOfRangeException(nameof(groupOf), g, $"groups must be in 0..{GroupsMax - 1}");
        _groupOf = (int[])groupOf.Clone();
        for (int f = 0; f < GroupsMax; f++)
            for (int t = 0; t < GroupsMax; t++)
                _blocked[f * GroupsMax + t] = f != t;
    }

    /// <summary>Like Partition, but only datagrams from group `from` to group `to` are blocked (one way).</summary>
    public void PartitionOneWay(int[] groupOf, int from, int to)
    {
        Partition(groupOf);
        Array.Clear(_blocked);
        _blocked[from * GroupsMax + to] = true;
    }

    /// <summary>Repairs every partition.</summary>
    public void Heal()
    {
        _groupOf = null;
        Array.Clear(_blocked);
    }

    /// <summary>Datagrams from one node to another cannot pass (a partition).</summary>
    public bool Blocks(int from, int to)
    {
        var g = _groupOf;
        if (g is null || (uint)from >= (uint)g.Length || (uint)to >= (uint)g.Length) return false;
        return _blocked[g[from] * GroupsMax + g[to]];
    }

    private static long PathKey(int a, int b) => a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;

    private static double Probability(double value, string name) =>
        value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(name, value, "must be a probability in 0..1");
}
