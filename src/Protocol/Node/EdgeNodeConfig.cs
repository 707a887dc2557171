// Configuration of one EdgeNode: the parameters of each machine it composes.
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Topology;

namespace EdgeVpn.Protocol.Node;

public sealed record EdgeNodeConfig
{
    public TopologyConfig Topology { get; init; } = new();
    public LinkConfig Links { get; init; } = new();
    public FlowConfig Flows { get; init; } = new();
    /// <summary>Used when Topology.Membership is Lookup.</summary>
    public MembershipConfig Membership { get; init; } = new();

    /// <summary>Membership as the node runs it: its successor list at least Topology.SuccessorsMin
    /// long, since the topology links to the successors the membership knows (with --successors 5
    /// and the list's default 4 a ring never converged).</summary>
    public MembershipConfig EffectiveMembership =>
        Membership.SuccessorListLength >= Topology.SuccessorsMin ? Membership : Membership with { SuccessorListLength = Topology.SuccessorsMin };
    public int FloodHopsMax { get; init; } = 64;
    /// <summary>Report installed and removed flows as observations (off in large simulations: they cost strings).</summary>
    public bool ObserveFlows { get; init; }
}
