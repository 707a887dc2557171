// A machine's timers: one optional deadline per timer kind, indexed by a small enum, walked in
// a fixed order (quinn-proto's TimerTable). Firing is explicit: Expired(now) lists the due kinds
// and clears them, so an early HandleTimeout finds nothing due and does nothing.
// Any enum works: slots follow the declared values in increasing order, so kinds need not
// start at 0 or be contiguous; a value the enum does not declare is an ArgumentOutOfRangeException.
namespace EdgeVpn.Protocol.Core;

public sealed class TimerTable<TKind> where TKind : struct, Enum
{
    // The distinct declared values, sorted: a kind's slot is its index here.
    private static readonly TKind[] Kinds = Enum.GetValues<TKind>().Distinct().Order().ToArray();

    private readonly Instant?[] _deadlines = new Instant?[Kinds.Length];

    public void Set(TKind kind, Instant at) => _deadlines[Index(kind)] = at;
    public void Stop(TKind kind) => _deadlines[Index(kind)] = null;
    public Instant? Get(TKind kind) => _deadlines[Index(kind)];
    public bool IsArmed(TKind kind) => _deadlines[Index(kind)] is not null;

    public Instant? Earliest()
    {
        Instant? e = null;
        foreach (var d in _deadlines) e = Instant.Earliest(e, d);
        return e;
    }

    /// <summary>True (and the timer is cleared) when the kind's deadline is at or before now.</summary>
    public bool TakeIfDue(TKind kind, Instant now)
    {
        int i = Index(kind);
        if (_deadlines[i] is { } d && d <= now) { _deadlines[i] = null; return true; }
        return false;
    }

    private static int Index(TKind kind)
    {
        int i = Array.BinarySearch(Kinds, kind);
        return i >= 0 ? i : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"not a declared {typeof(TKind).Name}");
    }
}
