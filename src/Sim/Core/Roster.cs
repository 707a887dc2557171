// The signaling server's roster: the online nodes in the order they came online, as a List<int>
// would keep them (Add appends, Remove closes the gap, this[k] is the k-th in that order), so runs
// pick the same members and keep their traces. Why not a List: Remove and Contains are O(n), and
// churn at a million nodes made them quadratic. Here Contains is O(1) and Add, Remove and this[k]
// are O(log n): each insertion takes the next sequence number, a Fenwick tree counts the occupied
// sequence positions (the k-th member is found by descending it), and when the sequence space is
// used up the live members are renumbered in order (amortised O(1) per insertion).
// Contract: a node is in the roster at most once (Add of a member throws: a simulator bug); node
// indexes are in 0..nodes-1; enumeration yields the members in order and must not overlap changes.
namespace EdgeVpn.Sim;

internal sealed class Roster
{
    private readonly int[] _positionOf;   // node -> its sequence position + 1; 0: not a member
    private int[] _nodeAt;                // sequence position -> node (-1: free)
    private int[] _tree;                  // Fenwick tree over positions: 1 where occupied
    private int _next;                    // the next free sequence position
    private int _count;

    public Roster(int nodes)
    {
        if (nodes < 0) throw new ArgumentOutOfRangeException(nameof(nodes));
        _positionOf = new int[nodes];
        int capacity = Math.Max(16, nodes * 2);
        _nodeAt = new int[capacity];
        _tree = new int[capacity + 1];
    }

    public int Count => _count;

    public bool Contains(int node) => _positionOf[node] != 0;

    public void Add(int node)
    {
        if (_positionOf[node] != 0) throw new InvalidOperationException($"node {node} is already on the roster");
        if (_next == _nodeAt.Length) Renumber();
        int position = _next++;
        _nodeAt[position] = node;
        _positionOf[node] = position + 1;
        Update(position, +1);
        _count++;
    }

    public bool Remove(int node)
    {
        int position = _positionOf[node] - 1;
        if (position < 0) return false;
        _positionOf[node] = 0;
        _nodeAt[position] = -1;
        Update(position, -1);
        _count--;
        return true;
    }

    /// <summary>The k-th member in roster order (0-based).</summary>
    public int this[int k]
    {
        get
        {
            if ((uint)k >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(k), k, $"roster has {_count} members");
            // Descend the Fenwick tree to the smallest position whose prefix count is k + 1.
            int position = 0, remaining = k + 1;
            for (int step = HighestPowerOfTwoAtMost(_tree.Length - 1); step > 0; step >>= 1)
            {
                int next = position + step;
                if (next < _tree.Length && _tree[next] < remaining)
                {
                    position = next;
                    remaining -= _tree[next];
                }
            }
            return _nodeAt[position]; // tree index position + 1 is sequence position `position`
        }
    }

    public IEnumerable<int> InOrder()
    {
        for (int p = 0; p < _next; p++)
            if (_nodeAt[p] >= 0) yield return _nodeAt[p];
    }

    private void Update(int position, int delta)
    {
        for (int i = position + 1; i < _tree.Length; i += i & -i) _tree[i] += delta;
    }

    // Moves the live members to positions 0..count-1 in order, growing the space if they fill half of it.
    private void Renumber()
    {
        int capacity = Math.Max(_nodeAt.Length, Math.Max(16, _count * 2));
        var nodeAt = new int[capacity];
        int live = 0;
        for (int p = 0; p < _next; p++)
        {
            int node = _nodeAt[p];
            if (node < 0) continue;
            nodeAt[live] = node;
            _positionOf[node] = live + 1;
            live++;
        }
        Array.Fill(nodeAt, -1, live, capacity - live);
        _nodeAt = nodeAt;
        _next = live;
        _tree = new int[capacity + 1];
        // Linear Fenwick build: each slot adds itself to its parent.
        for (int i = 1; i <= capacity; i++)
        {
            if (i <= live) _tree[i] += 1;
            int parent = i + (i & -i);
            if (parent <= capacity) _tree[parent] += _tree[i];
        }
    }

    private static int HighestPowerOfTwoAtMost(int x) => x <= 0 ? 0 : 1 << System.Numerics.BitOperations.Log2((uint)x);
}
