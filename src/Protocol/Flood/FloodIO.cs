// Inputs, outputs and configuration of the BoundedFlood machine.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Flood;

public sealed record FloodConfig
{
    /// <summary>A flood is not forwarded beyond this many links (EdgeVPN-style safety net); 1..255.</summary>
    public int HopsMax { get; init; } = FloodPacket.DefaultHopsMax;
    /// <summary>Longest inner frame carried; longer ones are errors.</summary>
    public int InnerLengthMax { get; init; } = FloodPacket.DefaultInnerLengthMax;
    /// <summary>Source MAC of the flood frames this node sends; null: derived from the node id.</summary>
    public MacAddress? LocalMac { get; init; }
}

public abstract record FloodInput
{
    /// <summary>The local port produced a broadcast frame: flood it to the whole overlay.</summary>
    public sealed record Originate(ReadOnlyMemory<byte> Inner) : FloodInput;
    /// <summary>A flood frame (EtherType 0xC0C0, still encoded) arrived on a link, from peer if known.</summary>
    public sealed record Received(LinkId Link, NodeId? FromPeer, ReadOnlyMemory<byte> Frame) : FloodInput;
    /// <summary>As Received, for a host that has already parsed the frame (e.g. the simulator).</summary>
    public sealed record ReceivedPacket(LinkId Link, NodeId? FromPeer, FloodPacket Packet) : FloodInput;
}

public enum FloodDropReason
{
    /// <summary>Forwarding would take the hop count above HopsMax.</summary>
    HopsExceeded,
    /// <summary>The flood came back to its own root (neighbour views disagree: churn).</summary>
    ReturnedToRoot,
}

public abstract record FloodOutput
{
    /// <summary>Send the encoded flood frame on link to peer.</summary>
    public sealed record Forward(LinkId Link, NodeId Peer, byte[] Frame) : FloodOutput;
    /// <summary>Hand the inner frame to the local port (and the flow learner); hops = links it crossed.</summary>
    public sealed record Deliver(ReadOnlyMemory<byte> Inner, NodeId Root, int Hops, LinkId IngressLink) : FloodOutput;
    public sealed record Dropped(FloodDropReason Reason, NodeId Root, int Hops) : FloodOutput;
    public sealed record Error(ProtocolError Problem) : FloodOutput;
}
