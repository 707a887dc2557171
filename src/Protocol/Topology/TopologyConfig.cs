// Parameters of the Symphony topology (EdgeVPN's Topology module). Defaults follow EdgeVPN.
namespace EdgeVpn.Protocol.Topology;

/// <summary>How a long-link distance is drawn.</summary>
public enum LongLinkSampler : byte
{
    /// <summary>Symphony: x = n^(u-1), pdf 1/(x ln n) on [1/n, 1].</summary>
    Harmonic,
    /// <summary>EdgeVPN's own code: x = exp(log10(n) * (u - 1)), on [n^(-1/ln 10), 1].</summary>
    EdgeVpnLog10,
}

public enum MembershipMode : byte { Presence, Lookup }

public sealed record TopologyConfig
{
    /// <summary>Successor links each node keeps (EdgeVPN: 2).</summary>
    public int SuccessorsMin { get; init; } = 2;
    /// <summary>Where the topology learns the ring: presence views (every member, EdgeVPN's XMPP
    /// roster) or lookups (Symphony: successors and the size estimate from RingMembership, long-link
    /// targets resolved by lookups).</summary>
    public MembershipMode Membership { get; init; } = MembershipMode.Presence;
    /// <summary>Long links per node; null means floor(log2 n) as in EdgeVPN.</summary>
    public int? LongLinksMax { get; init; }
    public LongLinkSampler Sampler { get; init; } = LongLinkSampler.Harmonic;
    /// <summary>Draws per long-link slot before the slot gives up until the next re-draw.</summary>
    public int LongLinkDrawTriesMax { get; init; } = 8;
    /// <summary>Long links are re-drawn when n has grown or shrunk by this factor since the last draw.</summary>
    public double RedrawRatio { get; init; } = 2.0;
    /// <summary>Long links are first drawn this long after the node's first view of the overlay, so that the
    /// estimate of n has settled when many nodes join at once (EdgeVPN plans long links on a timer tick,
    /// not on each presence). Successor links are asked for at once.</summary>
    public TimeSpan LongLinkDelay { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Long links are re-drawn at most once per this period (EdgeVPN re-plans on a timer), so that a
    /// growing overlay does not pile fresh, still-protected links on top of the ones being replaced.</summary>
    public TimeSpan RedrawHoldoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Incoming links of any kind beyond this are refused.</summary>
    public int IncomingMax { get; init; } = 128;
    /// <summary>Bytes to one remote node within OnDemandWindow that ask for a direct link.</summary>
    public long OnDemandThresholdBytes { get; init; } = 1_000_000;
    public TimeSpan OnDemandWindow { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>An on-demand link with no traffic this long is trimmed.</summary>
    public TimeSpan OnDemandIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int OnDemandLinksMax { get; init; } = 8;
    /// <summary>Remote nodes whose traffic is counted at once (least recent forgotten).</summary>
    public int TrafficPeersMax { get; init; } = 32;
    /// <summary>Period of the maintenance tick (retries after back-off, trimming), jittered per node.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The long-link count for an overlay of n nodes (0 below 2 * SuccessorsMin).</summary>
    public int LongLinksFor(int n)
    {
        if (n < 2 * SuccessorsMin) return 0;
        int k = LongLinksMax ?? (int)Math.Floor(Math.Log2(n));
        return Math.Max(0, Math.Min(k, n - 1 - SuccessorsMin));
    }

    /// <summary>Checks the bounds; returns the first problem as "Field: reason" or null.</summary>
    public string? Validate()
    {
        if (SuccessorsMin < 1 || SuccessorsMin > 16) return "SuccessorsMin: must be in 1..16";
        if (LongLinksMax is < 0 or > 64) return "LongLinksMax: must be in 0..64";
        if (LongLinkDrawTriesMax < 1 || LongLinkDrawTriesMax > 64) return "LongLinkDrawTriesMax: must be in 1..64";
        if (!(RedrawRatio > 1.0)) return "RedrawRatio: must be greater than 1";
        if (IncomingMax < 1) return "IncomingMax: must be at least 1";
        if (TickInterval <= TimeSpan.Zero) return "TickInterval: must be positive";
        if (RedrawHoldoff < TimeSpan.Zero) return "RedrawHoldoff: must not be negative";
        if (LongLinkDelay < TimeSpan.Zero) return "LongLinkDelay: must not be negative";
        return null;
    }
}
