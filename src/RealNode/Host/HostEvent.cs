// What the adapters hand the host loop (through its bounded channel). Each event is turned into
// zero or more node inputs by NodeDriver on the loop thread; nothing here is processed elsewhere.
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.RealNode.Host;

public abstract record HostEvent
{
    /// <summary>The timer fired (early or duplicate wake-ups are harmless).</summary>
    public sealed record Wake : HostEvent;
    /// <summary>Something the link transport reports.</summary>
    public sealed record Link(LinkEvent Event) : HostEvent;
    /// <summary>A frame read from the tap.</summary>
    public sealed record LocalFrame(byte[] Frame) : HostEvent
    {
        public override string ToString() => $"LocalFrame {{ Bytes = {Frame.Length} }}";
    }
    /// <summary>An application event of the XMPP client (online, presence, signal, log, …).</summary>
    public sealed record Xmpp(XmppOutput Event) : HostEvent;
    /// <summary>Leave the overlay gracefully: close every link (the host keeps running).</summary>
    public sealed record Leave : HostEvent;
    /// <summary>A status snapshot, answered on the loop thread.</summary>
    public sealed record StatusRequest(TaskCompletionSource<NodeStatus> Reply) : HostEvent;
    /// <summary>End the loop after the events before it.</summary>
    public sealed record Stop : HostEvent;
}
