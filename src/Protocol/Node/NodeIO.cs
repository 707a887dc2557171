// Inputs and outputs of EdgeNode, the composed machine a host (simulator or real node) drives.
// Inputs are what happens to the node; outputs are intents for the host's adapters and
// observations for checkers and logs.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Node;

public abstract record NodeInput
{
    /// <summary>The overlay's members as presence tells them (a real node builds its own; the simulator may share one).</summary>
    public sealed record Presence(MembershipView View) : NodeInput;
    public sealed record Signal(NodeId From, LinkSignal Message) : NodeInput;
    public sealed record EndpointPrepared(LinkId Link, string Endpoint) : NodeInput;
    public sealed record TransportUp(LinkId Link) : NodeInput;
    public sealed record TransportDown(LinkId Link) : NodeInput;
    /// <summary>An Ethernet frame arrived on a link (a bounded flood or a unicast frame).</summary>
    public sealed record LinkFrame(LinkId Link, byte[] Frame) : NodeInput;
    public sealed record KeepAlive(LinkId Link) : NodeInput;
    /// <summary>An Ethernet frame from the local tap.</summary>
    public sealed record LocalFrame(byte[] Frame) : NodeInput;
    /// <summary>Leave the overlay gracefully: refuse new links and close all.</summary>
    public sealed record Leave : NodeInput;
    /// <summary>Lookup membership: join through this member (from the signaling server), or start the
    /// ring when null; to a node already a member, the introducer its self-check asked for.</summary>
    public sealed record Bootstrap(NodeId? Member) : NodeInput;
    /// <summary>Lookup membership: a membership message from a peer (over a link or relayed by the signaling server).</summary>
    public sealed record Membership(NodeId From, Protocol.Membership.MembershipMessage Message) : NodeInput;
}

public abstract record NodeOutput
{
    public sealed record SendSignal(NodeId To, LinkSignal Message) : NodeOutput;
    public sealed record PrepareEndpoint(LinkId Link, NodeId Peer, IceRole Role) : NodeOutput;
    public sealed record ConnectTransport(LinkId Link, NodeId Peer, IceRole Role, string RemoteEndpoint, string RemoteFingerprint) : NodeOutput;
    public sealed record CloseTransport(LinkId Link, NodeId Peer) : NodeOutput;
    public sealed record SendKeepAlive(LinkId Link, NodeId Peer) : NodeOutput;
    public sealed record SendOnLink(LinkId Link, NodeId Peer, byte[] Frame) : NodeOutput;
    public sealed record DeliverLocal(byte[] Frame) : NodeOutput;
    /// <summary>Lookup membership: carry this message to a peer, over its link or through the signaling server.</summary>
    public sealed record SendMembership(NodeId To, Protocol.Membership.MembershipMessage Message, bool ViaSignaling) : NodeOutput;
    /// <summary>An observation for checkers, logs and status (no action needed).</summary>
    public sealed record Observed(NodeEvent Event) : NodeOutput;
}

public abstract record NodeEvent
{
    public sealed record LinkUp(LinkId Link, NodeId Peer, LinkKind Kind, bool Initiator) : NodeEvent;
    public sealed record LinkDown(LinkId Link, NodeId Peer, LinkRemoval Reason) : NodeEvent;
    public sealed record LinkFailed(NodeId Peer, LinkFailure Reason, LinkRefusal Refusal) : NodeEvent;
    /// <summary>A bounded flood delivered its inner frame here.</summary>
    public sealed record FloodDelivered(NodeId Root, int Hops) : NodeEvent;
    /// <summary>Lookup membership: joining through the bootstrap failed; the host should give another member.</summary>
    /// <summary>See MembershipOutput.JoinFailed.</summary>
    public sealed record JoinFailed(string Reason, bool BootstrapNotMember = false) : NodeEvent;
    /// <summary>Lookup membership: the self-check wants a random online member (answer with Bootstrap).</summary>
    public sealed record IntroducerWanted : NodeEvent;
    public sealed record FlowInstalled(string Description) : NodeEvent;
    public sealed record FlowRemoved(string Description) : NodeEvent;
    public sealed record Dropped(string Reason) : NodeEvent;
    public sealed record Error(ProtocolError Problem) : NodeEvent;
}
