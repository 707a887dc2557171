// Ports, inputs, outputs and configuration of the FlowLearner machine.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flows;

/// <summary>A switch port: the local port (the tap) when Link is null, else the port of that link.</summary>
public readonly record struct FlowPort(LinkId? Link)
{
    public static readonly FlowPort Local = new((LinkId?)null);
    public static FlowPort Of(LinkId link) => new(link);
    public bool IsLocal => Link is null;
    public override string ToString() => Link is { } l ? "link:" + l : "local";
}

public enum UnknownUnicastPolicy
{
    /// <summary>Unicast to an unlearned MAC is dropped (EdgeVPN's behaviour).</summary>
    Drop,
    /// <summary>From the local port it is flooded to the overlay; from a link it is delivered locally.</summary>
    Flood,
}

public sealed record FlowConfig
{
    public UnknownUnicastPolicy UnknownUnicast { get; init; } = UnknownUnicastPolicy.Drop;
    /// <summary>An installed flow unused this long is removed (EdgeVPN: 60 s).</summary>
    public TimeSpan FlowIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A learned MAC not seen as a source this long is forgotten (Open vSwitch's default aging: 300 s).</summary>
    public TimeSpan MacAgeMax { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary>At most this many flows; the least recently used is evicted first.</summary>
    public int FlowsMax { get; init; } = 4096;
    /// <summary>At most this many learned MACs; the least recently seen is evicted first.</summary>
    public int MacsMax { get; init; } = 4096;
    /// <summary>Frames longer than this are malformed.</summary>
    public int FrameLengthMax { get; init; } = EthernetFrame.DefaultLengthMax;
}

public abstract record FlowInput
{
    /// <summary>A frame from the local port (the tap).</summary>
    public sealed record FromLocal(ReadOnlyMemory<byte> Frame) : FlowInput;
    /// <summary>A unicast frame that arrived on a link.</summary>
    public sealed record FromLink(LinkId Link, ReadOnlyMemory<byte> Frame) : FlowInput;
    /// <summary>The flood machine delivered an inner frame here; a null ingress is a local origin (nothing learned).</summary>
    public sealed record FloodDelivered(LinkId? IngressLink, NodeId Root, ReadOnlyMemory<byte> Frame) : FlowInput;
    /// <summary>A link straight to Root came up: MACs learned from Root's floods now go over it (a shortcut,
    /// which is what an on-demand link is for).</summary>
    public sealed record DirectLink(NodeId Root, LinkId Link) : FlowInput;
    /// <summary>The link is gone: forget every flow and MAC through it.</summary>
    public sealed record LinkRemoved(LinkId Link) : FlowInput;
}

public enum FlowDropReason
{
    /// <summary>Unicast to a MAC nobody has learned, under UnknownUnicastPolicy.Drop.</summary>
    UnknownDestination,
    /// <summary>The destination lies behind the port the frame came in on: never sent back out.</summary>
    DestinationOnIngressPort,
    /// <summary>A broadcast or multicast frame arrived as unicast on a link (broadcasts travel as floods).</summary>
    BroadcastOnLink,
    /// <summary>A flooded unicast frame whose destination is known elsewhere: not for this node.</summary>
    NotForThisNode,
}

public enum FlowRemoval
{
    IdleTimeout,
    Evicted,
    LinkRemoved,
    /// <summary>The destination MAC was learned on another port.</summary>
    MacMoved,
    /// <summary>The destination MAC was forgotten (aged out or evicted).</summary>
    MacForgotten,
}

public abstract record FlowOutput
{
    public sealed record SendToLink(LinkId Link, ReadOnlyMemory<byte> Frame) : FlowOutput;
    /// <summary>Hand the frame to the bounded flood to originate.</summary>
    public sealed record Broadcast(ReadOnlyMemory<byte> Frame) : FlowOutput;
    public sealed record DeliverLocal(ReadOnlyMemory<byte> Frame) : FlowOutput;
    public sealed record InstallFlow(FlowPort InPort, MacAddress EthSrc, MacAddress EthDst, FlowPort OutPort, TimeSpan IdleTimeout) : FlowOutput;
    public sealed record RemoveFlow(FlowPort InPort, MacAddress EthSrc, MacAddress EthDst, FlowPort OutPort, FlowRemoval Reason) : FlowOutput;
    public sealed record Dropped(FlowDropReason Reason, FlowPort InPort, MacAddress EthSrc, MacAddress EthDst) : FlowOutput;
    public sealed record Error(ProtocolError Problem) : FlowOutput;
}
