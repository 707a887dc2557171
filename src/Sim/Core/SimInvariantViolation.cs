// A node's CheckInvariants failed during a run: which node, when, and what. Thrown out of the
// event loop (a bug in a machine is never something to run past); the runner prints it with the
// seed and the node's recent events.
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim;

public sealed class SimInvariantViolation(int node, Instant at, string problem)
    : Exception($"node #{node} at {at}: {problem}")
{
    public int Node { get; } = node;
    public Instant At { get; } = at;
    public string Problem { get; } = problem;
}
