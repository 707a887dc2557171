// The validated configuration of one real node, as NodeConfigParser builds it from the JSON file.
// Sections follow EdgeVPN's config (CFx → Overlay/Node, Signal → Signaling, LinkManager → Ice and
// Links, Topology → Topology/Membership, BridgeController → Tap/Flows) with our own names.
// Every value here has passed its bounds; the protocol part is the Protocol's own EdgeNodeConfig,
// so what the file says is what the machines run with. Credentials are Secrets: printing a
// NodeConfig (records print their members) shows "(hidden)" for each.
using System.Net;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Config;

public sealed record NodeConfig
{
    /// <summary>The overlay's name (EdgeVPN's overlay id); also the default XMPP group.</summary>
    public required string OverlayId { get; init; }
    /// <summary>Null: a fresh random id at each start.</summary>
    public NodeId? NodeId { get; init; }
    /// <summary>Seeds the node's PRNG (link ids, jitter); null: drawn at start and written to the trace header.</summary>
    public ulong? Seed { get; init; }
    public required SignalingSettings Signaling { get; init; }
    public IceSettings Ice { get; init; } = new();
    /// <summary>Null: no tap device (a signaling-only node, for tests and the testbed's first stage).</summary>
    public TapSettings? Tap { get; init; }
    public EdgeNodeConfig Protocol { get; init; } = new();
    public required string ControlSocket { get; init; }
    /// <summary>Null: no trace is written.</summary>
    public string? TracePath { get; init; }
    public long TraceBytesMax { get; init; } = 256L << 20;
    public XmppLogLevel LogLevel { get; init; } = XmppLogLevel.Info;
}

public sealed record SignalingSettings
{
    public required string Host { get; init; }
    public int Port { get; init; } = 5222;
    public required Jid Account { get; init; }
    public required Secret Password { get; init; }
    public string Resource { get; init; } = "edgevpn";
    /// <summary>The roster group that is the overlay.</summary>
    public required string Group { get; init; }
    public TlsTrust Trust { get; init; } = new TlsTrust.SystemStore();
    public bool AllowPlain { get; init; } = true;
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The XMPP client's settings for this node.</summary>
    public XmppConfig ToXmppConfig(NodeId node, string overlayId, ulong seed) => new()
    {
        Host = Host,
        Port = Port,
        Account = Account,
        Password = Password.Reveal(),
        Resource = Resource,
        NodeId = node,
        OverlayId = overlayId,
        Group = Group,
        AllowPlain = AllowPlain,
        ReconnectDelayMax = ReconnectDelayMax,
        Seed = seed,
    };
}

public sealed record ServerAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

public sealed record TurnServer(ServerAddress Address, string User, Secret Password);

public sealed record IceSettings
{
    public IReadOnlyList<ServerAddress> Stun { get; init; } = [];
    public IReadOnlyList<TurnServer> Turn { get; init; } = [];
    /// <summary>The largest datagram a link sends (before TURN framing); the tap MTU + 39 must fit.</summary>
    public int DatagramBytesMax { get; init; } = NodeConfigParser.DatagramBytesMaxDefault;
}

public sealed record TapSettings(string Name, IPAddress Address, int PrefixLength, int Mtu);
