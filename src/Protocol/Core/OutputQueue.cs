// A FIFO of a machine's pending outputs. Holds no array while empty: a drained queue hands its
// array back to a small per-thread stock that the next queue to fill takes from.
// Contract: FIFO order; bounded (exceeding CapacityMax is a machine bug); the capacity is always a
// power of two (4, doubled), so positions wrap with a mask, not a division.
// Why the shared stock: a host drains every queue after every input, so at any moment only a few
// queues hold outputs. Each queue keeping its own array meant that every output written into it
// stored a new object into a long-lived array of one of a million nodes, and the garbage
// collector rescans every such array (its dirty cards) at every young collection: a cache miss
// per node touched. With the stock, the outputs of all nodes pass through the same few arrays.
// The stock is per thread and bounded, holds only empty arrays, and changes no output or order:
// the protocol stays deterministic and free of shared mutable state across threads.
namespace EdgeVpn.Protocol.Core;

public struct OutputQueue<T>
{
    public const int CapacityMax = 1 << 20;
    // Arrays up to this size go back to the stock; a bigger one (a node that opened a dozen links
    // at once) is dropped, so the stock never holds a burst's worth of memory.
    private const int StockedCapacityMax = 8;
    // Empty arrays kept per thread and output type: a host drains queues one machine at a time,
    // so a handful are in use at once (a node's queue and its machines' queues).
    private const int StockCountMax = 16;

    [ThreadStatic] private static T[][]? s_stock;
    [ThreadStatic] private static int s_stockCount;

    private T[]? _items;
    private int _head;
    private int _count;

    public readonly int Count => _count;

    /// <summary>The backing array (null while none is held), for a host's cache hints only.</summary>
    public readonly object? Buffer => _items;

    public void Enqueue(T item)
    {
        if (_items is null) _items = Take();
        else if (_count == _items.Length)
        {
            if (_count >= CapacityMax) throw new InvalidOperationException("output queue overflow: a machine produced more outputs than CapacityMax without being drained");
            var bigger = new T[_items.Length * 2];
            for (int i = 0; i < _count; i++) bigger[i] = _items[(_head + i) & (_items.Length - 1)];
            _items = bigger;
            _head = 0;
        }
        _items[(_head + _count) & (_items.Length - 1)] = item;
        _count++;
    }

    public bool TryDequeue(out T item)
    {
        if (_count == 0) { item = default!; return false; }
        item = _items![_head];
        _items[_head] = default!;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        if (_count == 0)
        {
            // Every slot was cleared as it was dequeued: the array holds nothing any more.
            _head = 0;
            Return(_items);
            _items = null;
        }
        return true;
    }

    private static T[] Take()
    {
        if (s_stockCount == 0) return new T[4];
        var stock = s_stock!;
        var items = stock[--s_stockCount];
        stock[s_stockCount] = null!;
        return items;
    }

    private static void Return(T[] items)
    {
        if (items.Length > StockedCapacityMax) return;
        var stock = s_stock ??= new T[StockCountMax][];
        if (s_stockCount < stock.Length) stock[s_stockCount++] = items;
    }
}
