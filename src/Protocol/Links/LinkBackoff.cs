// Per-peer exclusion after failures: consecutive failure count f excludes the peer until
// now + jitter(min(BackoffBase * 2^(f-1), BackoffMax)). Bounded by BackoffPeersMax (the entry
// whose exclusion ends first is forgotten first). An entry outlives its exclusion so that the
// next failure grows the delay; it is forgotten once it has been over for BackoffMax, because a
// failure that long ago no longer counts as "consecutive". Sorted by peer id, allocated lazily:
// most of a million simulated nodes never fail a link.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

internal struct LinkBackoff
{
    internal struct Entry : IPeerKeyed
    {
        public NodeId Peer { readonly get; set; }
        public int Failures;
        public Instant ExcludedUntil;
    }

    private Entry[]? _entries;
    private int _count;
    // Cleared by CheckInvariants, set by every change (Insert, RemoveAt, RecordFailure, PruneStale):
    // an unchanged table was valid at the last check, so the check need not walk it again.
    private bool _changedSinceCheck;

    public readonly int Count => _count;
    public readonly ReadOnlySpan<Entry> Entries => _entries is null ? ReadOnlySpan<Entry>.Empty : _entries.AsSpan(0, _count);

    public readonly bool IsExcluded(NodeId peer, Instant now)
    {
        int i = Find(peer);
        return i >= 0 && now < _entries![i].ExcludedUntil;
    }

    public readonly Instant? ExcludedUntil(NodeId peer, Instant now)
    {
        int i = Find(peer);
        return i >= 0 && now < _entries![i].ExcludedUntil ? _entries[i].ExcludedUntil : null;
    }

    public readonly int FailuresOf(NodeId peer)
    {
        int i = Find(peer);
        return i >= 0 ? _entries![i].Failures : 0;
    }

    public void Reset(NodeId peer)
    {
        int i = Find(peer);
        if (i >= 0) RemoveAt(i);
    }

    /// <summary>Counts one more failure and returns the instant the exclusion ends.</summary>
    public Instant RecordFailure(NodeId peer, Instant now, LinkConfig config, DeterministicRandom random)
    {
        PruneStale(now, config.BackoffMax);
        int i = Find(peer);
        if (i < 0)
        {
            if (_count >= config.BackoffPeersMax) EvictEarliest();
            i = Insert(~Find(peer), peer);
        }
        ref Entry e = ref _entries![i];
        _changedSinceCheck = true;
        if (e.Failures < int.MaxValue) e.Failures++;
        e.ExcludedUntil = now + random.Jitter(Delay(e.Failures, config), config.BackoffJitter);
        return e.ExcludedUntil;
    }

    /// <summary>min(base * 2^(failures-1), max) without overflow.</summary>
    public static TimeSpan Delay(int failures, LinkConfig config) =>
        Backoff.Exponential(failures, config.BackoffBase, config.BackoffMax);

    public void CheckInvariants(int peersMax)
    {
        if (!_changedSinceCheck) return;
        if (_count > peersMax) throw new InvariantViolation($"back-off table holds {_count} peers, more than {peersMax}");
        var span = Entries;
        for (int i = 0; i < span.Length; i++)
        {
            if (span[i].Failures < 1) throw new InvariantViolation($"back-off entry for {span[i].Peer} has {span[i].Failures} failures");
            if (i > 0 && span[i - 1].Peer >= span[i].Peer) throw new InvariantViolation("back-off table is not strictly sorted by peer");
        }
        _changedSinceCheck = false;
    }

    private readonly int Find(NodeId peer) => PeerSearch.Find(Entries, peer);

    private int Insert(int at, NodeId peer)
    {
        _changedSinceCheck = true;
        if (_entries is null) _entries = new Entry[4];
        else if (_count == _entries.Length) Array.Resize(ref _entries, _count * 2);
        Array.Copy(_entries, at, _entries, at + 1, _count - at);
        _entries[at] = new Entry { Peer = peer, Failures = 0, ExcludedUntil = Instant.Zero };
        _count++;
        return at;
    }

    private void RemoveAt(int i)
    {
        _changedSinceCheck = true;
        _count--;
        Array.Copy(_entries!, i + 1, _entries!, i, _count - i);
        _entries![_count] = default;
        if (_count == 0) _entries = null;
    }

    private void EvictEarliest()
    {
        if (_count == 0) return;
        int victim = 0;
        for (int i = 1; i < _count; i++)
            if (_entries![i].ExcludedUntil < _entries[victim].ExcludedUntil) victim = i;
        RemoveAt(victim);
    }

    private void PruneStale(Instant now, TimeSpan staleAfter)
    {
        int w = 0;
        for (int r = 0; r < _count; r++)
        {
            if (_entries![r].ExcludedUntil + staleAfter <= now) continue;
            _entries[w++] = _entries[r];
        }
        for (int i = w; i < _count; i++) _entries![i] = default;
        if (w != _count) _changedSinceCheck = true;
        _count = w;
        if (_count == 0) _entries = null;
    }
}
