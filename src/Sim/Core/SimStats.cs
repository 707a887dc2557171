// Counters of one run; all are pure functions of the parameters.
namespace EdgeVpn.Sim;

public sealed class SimStats
{
    public long Events;
    public long SignalMessages;
    public long PresenceDeliveries;
    public long LinkFrames;
    public long KeepAlives;
    public long LinksUp;
    public long LinksDown;
    public long LinkFailures;
    public long ProtocolErrors;
    public long Drops;

    /// <summary>Messages between nodes: signaling, frames on links and keep-alives (presence is counted apart).</summary>
    public long Messages => SignalMessages + LinkFrames + KeepAlives;
}
