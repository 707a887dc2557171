// NodeId -> simulated node index, looked up for every signal the simulator relays. Nodes are
// never removed, so the map is an insert-only open-addressing table (linear probing) holding
// the id and the index in one slot: one probe into one array per lookup, where Dictionary
// touches a bucket array and an entry array (two cache misses at 100k nodes).
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

    public bool TryGetValue(NodeId id, out int index)
    {
        var slots = _slots;
        int mask = slots.Length - 1;
        ulong lower = id.Lower, upper = id.Upper;
        for (int i = Home(lower, upper); ; i = (i + 1) & mask)
        {
            ref readonly Slot s = ref slots[i];
            if (s.IndexPlusOne == 0) { index = -1; return false; }
            if (s.Lower == lower && s.Upper == upper) { index = s.IndexPlusOne - 1; return true; }
        }
    }

    /// <summary>Adds a new id; the table is sized for the node count given at construction.</summary>
    public void Add(NodeId id, int index)
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
        Count++;
    }

    private int Home(ulong lower, ulong upper) => (int)(((lower ^ upper) * 0x9E3779B97F4A7C15UL) >> _shift);
}
