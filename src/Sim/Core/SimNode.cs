// One simulated node: its EdgeNode (created when it joins), its id and the simulator's
// bookkeeping of its next wake-up and stability.
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Sim;

public sealed class SimNode(int index, NodeId id)
{
    public int Index { get; } = index;
    public NodeId Id { get; } = id;
    public EdgeNode? Node { get; internal set; }
    public bool Joined { get; internal set; }
    public bool Alive { get; internal set; }
    /// <summary>How many times it restarted after a crash (its random stream is forked per incarnation).</summary>
    public int Incarnation { get; internal set; }
    public bool Crashed { get; internal set; }
    internal long NextWakeNs = long.MaxValue;
    /// <summary>Lookup membership: its failed joins in a row whose bootstrap was not a member (BootstrapChoice's count).</summary>
    internal int NotJoinedFailures;
    internal bool Stable;
}
