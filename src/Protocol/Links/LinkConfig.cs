// Timing and bounds of the link lifecycle. Defaults follow EdgeVPN where it has one.
namespace EdgeVpn.Protocol.Links;

public sealed record LinkConfig
{
    /// <summary>A link not Connected this long after it was created is given up.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Each side sends a keep-alive on every connected link once per interval.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>A connected link with no activity this long is dead and removed.</summary>
    public TimeSpan DeadLinkTimeout { get; init; } = TimeSpan.FromSeconds(45);
    /// <summary>A link younger than this is protected from removal by the topology.</summary>
    public TimeSpan ProtectionWindow { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>First exclusion after a failure; doubles per consecutive failure, jittered.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Jitter spread of back-off: the delay is scaled by a factor in [1-spread, 1+spread].</summary>
    public double BackoffJitter { get; init; } = 0.5;
    /// <summary>At most this many link records (any state) at once; more requests are refused.</summary>
    public int LinksMax { get; init; } = 256;
    /// <summary>At most this many peers remembered in the back-off table (oldest forgotten first).</summary>
    public int BackoffPeersMax { get; init; } = 1024;
    /// <summary>Endpoint and fingerprint strings longer than this are malformed.</summary>
    public int EndpointLengthMax { get; init; } = 16 * 1024;
}
