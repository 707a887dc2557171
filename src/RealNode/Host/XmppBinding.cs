// Binds the XMPP client to the host loop: the client's application events (online/offline,
// presence with node ids, signals, logs) become HostEvent.Xmpp on the loop's channel, and the
// node's outgoing signals go to XmppClient.SendSignal. The pump waits for room in the channel,
// so a busy node slows the XMPP reader down instead of losing presences, and it ends only after
// the client's last event (the client completes its channel when it stops).
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Host;

public sealed class XmppSignalingPort(XmppClient client) : ISignalingPort
{
    public void Send(Jid to, string json) => client.SendSignal(to, json);
}

public static class XmppBinding
{
    /// <summary>Moves every client event into the host until the client stops (after the last event
    /// it queued) or ct is cancelled. Returns the reason of the session's Stopped event, if it
    /// forwarded one, so that the node can say why signaling ended.</summary>
    public static async Task<string?> PumpAsync(XmppClient client, NodeHost host, CancellationToken ct)
    {
        string? stopped = null;
        try
        {
            await foreach (var e in client.Events.ReadAllAsync(ct))
            {
                await host.PostAsync(new HostEvent.Xmpp(e), ct);
                if (e is XmppOutput.Stopped s) stopped = s.Reason;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (System.Threading.Channels.ChannelClosedException) { }   // the host closed first
        return stopped;
    }
}
