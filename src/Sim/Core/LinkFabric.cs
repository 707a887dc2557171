// Virtual links between simulated nodes: what ICE + DTLS would give the real node, modeled.
// An end is attached when its node prepares its endpoint; once both ends asked to connect, the
// transport comes up SetupRoundTrips round trips later; closing one end tells the other end
// (one latency later) that the transport went down. Links are keyed by LinkId; lookups only,
// never iterated, so hash order never reaches a trace.
// Storage: one open-addressing table (linear probing, backward-shift deletion) whose slots hold
// the link's state inline: a lookup on the per-event path is one probe into one array, where a
// Dictionary of objects costs a bucket, an entry and the object (three cache misses at 100k nodes
// with over a million links), and no object is allocated per link. A slot is 16 bytes: the key and
// one word packing both ends' node indices (NodeIndexBits each) and the flags; at a million nodes
// the table holds over 21M links, and 32-byte slots made it 2 GiB. Setup start times live in a
// side table: only links being set up have one.
using System.Numerics;

namespace EdgeVpn.Sim;

/// <summary>How datagrams on a link travel: not at all (no such up link), directly, through the
/// TURN server, or into a NAT that forgot the mapping (silenced).</summary>
internal enum LinkPath : byte { None, Direct, Relayed, Silenced }

internal sealed class LinkFabric
{
    [Flags]
    private enum End : ushort
    {
        Used = 1,
        AAttached = 2,
        BAttached = 4,
        AReady = 8,
        BReady = 16,
        AClosed = 32,
        BClosed = 64,
        Up = 128,
        /// <summary>One end crashed: closed without telling the other, which finds out by itself.</summary>
        Abandoned = 256,
        /// <summary>Carried through the TURN server: each datagram goes end -> server -> end.</summary>
        Relayed = 512,
        /// <summary>The NAT mapping under the link expired or was rebound: datagrams on it go nowhere
        /// until its ends notice (dead-link timeout) and close it.</summary>
        Silenced = 1024,
    }

    /// <summary>Bits of a node index in a slot: SimParameters.NodesMax must stay below 2^NodeIndexBits.</summary>
    public const int NodeIndexBits = 26;
    private const ulong IndexMask = (1UL << NodeIndexBits) - 1;
    private const int FlagsShift = 2 * NodeIndexBits;

    private struct Slot
    {
        public ulong Key;
        private ulong _word; // A | B << NodeIndexBits | Flags << FlagsShift

        public Slot(ulong key, int a, int b, End flags)
        {
            Key = key;
            _word = (ulong)(uint)a | (ulong)(uint)b << NodeIndexBits | (ulong)flags << FlagsShift;
        }

        /// <summary>The end that attached first.</summary>
        public readonly int A => (int)(_word & IndexMask);
        /// <summary>Its peer.</summary>
        public readonly int B => (int)(_word >> NodeIndexBits & IndexMask);
        public End Flags
        {
            readonly get => (End)(_word >> FlagsShift);
            set => _word = _word & ((1UL << FlagsShift) - 1) | (ulong)value << FlagsShift;
        }
    }

    private const int MinCapacity = 1024;
    private Slot[] _slots = new Slot[MinCapacity];
    // When each initiator asked to connect (for the setup-time histogram). Looked up by key only,
    // never iterated, so its order never reaches a trace.
    private readonly Dictionary<ulong, long> _setupStartNs = [];
    private int _shift = 64 - BitOperations.Log2(MinCapacity);
    private int _count;

    public int Count => _count;
    /// <summary>Links one end abandoned (crashed) while the other end still holds them open.</summary>
    public int HalfOpen => _halfOpen;
    private int _halfOpen;
    /// <summary>Links silenced by a lost NAT mapping and not yet torn down.</summary>
    public int SilencedCount => _silenced;
    private int _silenced;

    public void Attach(ulong link, int node, int peer)
    {
        if ((uint)node > IndexMask || (uint)peer > IndexMask)
            throw new ArgumentOutOfRangeException(nameof(node), $"node indices must be in 0..{IndexMask} ({node}, {peer})");
        int i = Find(link);
        if (i < 0)
        {
            if ((_count + 1) * 10 > _slots.Length * 7) Grow();
            i = ~Find(link);
            _slots[i] = new Slot(link, node, peer, End.Used);
            _count++;
        }
        ref Slot s = ref _slots[i];
        if (node == s.A) s.Flags |= End.AAttached; else if (node == s.B) s.Flags |= End.BAttached;
    }

    /// <summary>Remembers when the link's initiator asked to connect (in the side table: twice per
    /// link setup, never per frame).</summary>
    public void StartSetupTimer(ulong link, long nowNs)
    {
        if (Find(link) >= 0) _setupStartNs[link] = nowNs;
    }

    /// <summary>The instant StartSetupTimer recorded, once: false when none is pending.</summary>
    public bool TakeSetupStart(ulong link, out long startNs) => _setupStartNs.Remove(link, out startNs);

    /// <summary>The link exists, is up and neither end closed it.</summary>
    public bool IsUpAndOpen(ulong link)
    {
        int i = Find(link);
        return i >= 0 && IsUpAndOpen(_slots[i].Flags);
    }

    /// <summary>The link is up and open; other is node's peer on it.</summary>
    public bool TryGetUpPeer(ulong link, int node, out int other)
    {
        int i = Find(link);
        if (i < 0 || !IsUpAndOpen(_slots[i].Flags)) { other = -1; return false; }
        ref readonly Slot s = ref _slots[i];
        other = node == s.A ? s.B : s.A;
        return true;
    }

    /// <summary>How a datagram sent by node on the link travels, and to whom (other, when not None).</summary>
    public LinkPath PathOf(ulong link, int node, out int other)
    {
        int i = Find(link);
        if (i < 0 || !IsUpAndOpen(_slots[i].Flags)) { other = -1; return LinkPath.None; }
        ref readonly Slot s = ref _slots[i];
        other = node == s.A ? s.B : s.A;
        return (s.Flags & End.Silenced) != 0 ? LinkPath.Silenced : (s.Flags & End.Relayed) != 0 ? LinkPath.Relayed : LinkPath.Direct;
    }

    /// <summary>Up links carried through the TURN server (walks the table: for reports, not per event).</summary>
    public int CountRelayedUp()
    {
        int n = 0;
        foreach (ref readonly Slot s in _slots.AsSpan())
            if (s.Flags != 0 && IsUpAndOpen(s.Flags) && (s.Flags & End.Relayed) != 0) n++;
        return n;
    }

    /// <summary>Silences an up link (its NAT mapping is gone); false when the link is not up.</summary>
    public bool Silence(ulong link)
    {
        int i = Find(link);
        if (i < 0 || !IsUpAndOpen(_slots[i].Flags)) return false;
        if ((_slots[i].Flags & End.Silenced) == 0) { _slots[i].Flags |= End.Silenced; _silenced++; }
        return true;
    }

    /// <summary>Marks the link as relayed through the TURN server.</summary>
    public void MarkRelayed(ulong link)
    {
        int i = Find(link);
        if (i >= 0) _slots[i].Flags |= End.Relayed;
    }

    /// <summary>The link exists and node's end of it is not closed.</summary>
    public bool IsOpenAt(ulong link, int node)
    {
        int i = Find(link);
        if (i < 0) return false;
        ref readonly Slot s = ref _slots[i];
        return (s.Flags & (node == s.A ? End.AClosed : End.BClosed)) == 0;
    }

    /// <summary>Marks node's end ready to connect; when both ends now are, marks the link up and returns true with its two ends.</summary>
    public bool Connect(ulong link, int node, out int a, out int b)
    {
        a = b = -1;
        int i = Find(link);
        if (i < 0) return false;
        ref Slot s = ref _slots[i];
        if ((s.Flags & (End.AClosed | End.BClosed)) != 0) return false;
        if (node == s.A) s.Flags |= End.AReady; else if (node == s.B) s.Flags |= End.BReady; else return false;
        if ((s.Flags & (End.AReady | End.BReady)) != (End.AReady | End.BReady)) return false;
        s.Flags |= End.Up;
        a = s.A;
        b = s.B;
        return true;
    }

    /// <summary>Closes node's end; returns the other end's node index if it must be told, else -1.</summary>
    public int Close(ulong link, int node)
    {
        int i = Find(link);
        if (i < 0) return -1;
        ref Slot s = ref _slots[i];
        if (node == s.A) s.Flags |= End.AClosed; else if (node == s.B) s.Flags |= End.BClosed; else return -1;
        s.Flags &= ~End.Up;
        int other = node == s.A ? s.B : s.A;
        if (OtherGone(s, node)) { RemoveAt(i); return -1; }
        return other;
    }

    /// <summary>Closes node's end without telling the other end (the node crashed): the other end
    /// stops hearing anything on the link and must detect it (dead-link or setup timeout).</summary>
    public void Abandon(ulong link, int node)
    {
        int i = Find(link);
        if (i < 0) return;
        ref Slot s = ref _slots[i];
        if (node == s.A) s.Flags |= End.AClosed; else if (node == s.B) s.Flags |= End.BClosed; else return;
        s.Flags &= ~End.Up;
        if (OtherGone(s, node)) { RemoveAt(i); return; }
        if ((s.Flags & End.Abandoned) == 0) { s.Flags |= End.Abandoned; _halfOpen++; }
    }

    private static bool OtherGone(in Slot s, int node) => node == s.A
        ? (s.Flags & End.BClosed) != 0 || (s.Flags & End.BAttached) == 0
        : (s.Flags & End.AClosed) != 0 || (s.Flags & End.AAttached) == 0;

    private static bool IsUpAndOpen(End f) => (f & (End.Up | End.AClosed | End.BClosed)) == End.Up;

    private int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);

    /// <summary>Starts loading the home slot of a link (a cache hint; see CacheHint).</summary>
    public void Hint(ulong link)
    {
        if (link != 0) CacheHint.Element(ref _slots[Home(link)]);
    }

    /// <summary>The slot holding key, or the complement of the free slot where it would go.</summary>
    private int Find(ulong key)
    {
        var slots = _slots;
        int mask = slots.Length - 1;
        for (int i = Home(key); ; i = (i + 1) & mask)
        {
            ref readonly Slot s = ref slots[i];
            if (s.Flags == 0) return ~i;
            if (s.Key == key) return i;
        }
    }

    private void RemoveAt(int hole)
    {
        if ((_slots[hole].Flags & End.Abandoned) != 0) _halfOpen--;
        if ((_slots[hole].Flags & End.Silenced) != 0) _silenced--;
        _setupStartNs.Remove(_slots[hole].Key);
        // Backward-shift deletion: pull later members of the probe run into the hole, so that
        // lookups never need tombstones.
        var slots = _slots;
        int mask = slots.Length - 1;
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            if (slots[j].Flags == 0) break;
            int home = Home(slots[j].Key);
            // slots[j] may move to the hole only if its home is not cyclically in (hole, j].
            bool stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (stays) continue;
            slots[hole] = slots[j];
            hole = j;
        }
        slots[hole] = default;
        _count--;
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _shift--;
        int mask = _slots.Length - 1;
        foreach (ref readonly Slot s in old.AsSpan())
        {
            if (s.Flags == 0) continue;
            int i = Home(s.Key);
            while (_slots[i].Flags != 0) i = (i + 1) & mask;
            _slots[i] = s;
        }
    }
}
