// A FIFO of a machine's pending outputs. Allocates nothing until the first output, so that a
// million idle machines cost no queues. Bounded: exceeding CapacityMax is a machine bug.
// The capacity is always a power of two (4, doubled), so positions wrap with a mask, not a division.
namespace EdgeVpn.Protocol.Core;

public struct OutputQueue<T>
{
    public const int CapacityMax = 1 << 20;
    // A drained queue keeps an array up to this size for the next burst; a bigger one (a node that
    // opened a dozen links at once) is dropped, else a million nodes each keep their largest burst.
    private const int RetainedCapacityMax = 8;
    private T[]? _items;
    private int _head;
    private int _count;

    public readonly int Count => _count;

    /// <summary>The backing array (null while none is held), for a host's cache hints only.</summary>
    public readonly object? Buffer => _items;

    public void Enqueue(T item)
    {
        if (_items is null) _items = new T[4];
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
        if (_count == 0) { _head = 0; if (_items.Length > RetainedCapacityMax) _items = null; }
        return true;
    }
}
