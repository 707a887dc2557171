// Virtual links between simulated nodes: what ICE + DTLS would give the real node, modeled.
// An end is attached when its node prepares its endpoint; once both ends asked to connect, the
// transport comes up SetupRoundTrips round trips later; closing one end tells the other end
// (one latency later) that the transport went down. Links are keyed by LinkId; lookups only,
// never iterated, so hash order never reaches a trace.
namespace EdgeVpn.Sim;

internal sealed class VirtualLink
{
    public int A;          // the end that attached first
    public int B;          // its peer
    public bool AAttached, BAttached, AReady, BReady, AClosed, BClosed, Up;

    public int Other(int node) => node == A ? B : A;
    public bool IsClosed(int node) => node == A ? AClosed : BClosed;
    public bool AnyClosed => AClosed || BClosed;
}

internal sealed class LinkFabric
{
    private readonly Dictionary<ulong, VirtualLink> _links = new();

    public int Count => _links.Count;

    public VirtualLink Attach(ulong link, int node, int peer)
    {
        if (!_links.TryGetValue(link, out var v))
        {
            v = new VirtualLink { A = node, B = peer };
            _links.Add(link, v);
        }
        if (node == v.A) v.AAttached = true; else if (node == v.B) v.BAttached = true;
        return v;
    }

    public VirtualLink? Get(ulong link) => _links.GetValueOrDefault(link);

    /// <summary>Marks node's end ready to connect; true when both ends now are (the transport can come up).</summary>
    public bool Connect(ulong link, int node, out VirtualLink? v)
    {
        if (!_links.TryGetValue(link, out v) || v.AnyClosed) return false;
        if (node == v.A) v.AReady = true; else if (node == v.B) v.BReady = true; else return false;
        return v.AReady && v.BReady;
    }

    /// <summary>Closes node's end; returns the other end's node index if it must be told, else -1.</summary>
    public int Close(ulong link, int node)
    {
        if (!_links.TryGetValue(link, out var v)) return -1;
        if (node == v.A) v.AClosed = true; else if (node == v.B) v.BClosed = true; else return -1;
        v.Up = false;
        int other = v.Other(node);
        bool otherGone = other == v.A ? (v.AClosed || !v.AAttached) : (v.BClosed || !v.BAttached);
        if (otherGone) { _links.Remove(link); return -1; }
        return other;
    }

    /// <summary>Forgets a link whose other end will never close it (it never attached, or crashed).</summary>
    public void Forget(ulong link) => _links.Remove(link);
}
