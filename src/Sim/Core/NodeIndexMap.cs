// NodeId -> simulated node index, looked up for every signal and membership message the
// simulator relays. Nodes are never removed, so the map is an insert-only open-addressing table
// (linear probing) holding the id and the index in one slot: one probe into one array per lookup,
// where Dictionary touches a bucket array and an entry array (two cache misses at 100k nodes).
// The slot also holds the node's latency coordinates (LatencyModel's point): every relayed
// message needs the receiver's latency, and reading it from the slot just probed saves a second
// random miss into the coordinate array (32-byte slots, two to a cache line; 64 MiB at 1M nodes: 2^21 slots).
using System.Numerics;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Sim;

internal sealed class NodeIndexMap
{
    private struct Slot
    {
        public ulong Lower;
        public ulong Upper;
        public int IndexPlusOne; // 0: free
        public float X, Y;
    }

    private readonly Slot[] _slots;
    private readonly int _shift;

    public NodeIndexMap(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2));
        _slots = new Slot[size];
        _shift = 64 - BitOperations.Log2((uint)size);
    }

    public int Count { get; private set; }

    public bool ContainsKey(NodeId id) => TryGetValue(id, out _);

    public bool TryGetValue(NodeId id, out int index) => TryGetValue(id, out index, out _);

    /// <summary>The node's index and its latency point (as given to Add).</summary>
    public bool TryGetValue(NodeId id, out int index, out LatencyPoint point)
    {
        var slots = _slots;
        int mask = slots.Length - 1;
        ulong lower = id.Lower, upper = id.Upper;
        for (int i = Home(lower, upper); ; i = (i + 1) & mask)
        {
            ref readonly Slot s = ref slots[i];
            if (s.IndexPlusOne == 0) { index = -1; point = default; return false; }
            if (s.Lower == lower && s.Upper == upper) { index = s.IndexPlusOne - 1; point = new LatencyPoint(s.X, s.Y); return true; }
        }
    }

    /// <summary>Adds a new id with its latency point; the table is sized for the node count given at construction.</summary>
    public void Add(NodeId id, int index, LatencyPoint point)
    {
        if ((Count + 1) * 2 > _slots.Length) throw new InvalidOperationException("node index map is full");
        var slots = _slots;
        int mask = slots.Length - 1;
        ulong lower = id.Lower, upper = id.Upper;
        int i = Home(lower, upper);
        while (slots[i].IndexPlusOne != 0)
        {
            if (slots[i].Lower == lower && slots[i].Upper == upper) throw new ArgumentException("duplicate node id", nameof(id));
            i = (i + 1) & mask;
        }
        slots[i].Lower = lower;
        slots[i].Upper = upper;
        slots[i].IndexPlusOne = index + 1;
        slots[i].X = point.X;
        slots[i].Y = point.Y;
        Count++;
    }

    private int Home(ulong lower, ulong upper) => (int)(((lower ^ upper) * 0x9E3779B97F4A7C15UL) >> _shift);
}
