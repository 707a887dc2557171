// Ring correctness: every live node is connected to the next SuccessorsMin live ids clockwise.
// Returns the violations (bounded) so a run can print the first ones with node ids.
namespace EdgeVpn.Sim.Checkers;

public sealed record RingViolation(int Node, int MissingSuccessor, int Rank)
{
    public string Describe(Simulation sim) =>
        $"node {sim.Nodes[Node].Id.Short} (#{Node}) has no connected link to its successor #{Rank} {sim.Nodes[MissingSuccessor].Id.Short} (#{MissingSuccessor})";
}

public static class RingChecker
{
    public const int ViolationsMax = 100;

    public static List<RingViolation> Check(Simulation sim, int successorsMin, out int violationCount)
    {
        var live = new List<int>();
        foreach (var n in sim.Nodes) if (n.Alive && n.Node is not null) live.Add(n.Index);
        live.Sort((a, b) => sim.Nodes[a].Id.CompareTo(sim.Nodes[b].Id));
        var violations = new List<RingViolation>();
        violationCount = 0;
        int s = Math.Min(successorsMin, live.Count - 1);
        for (int p = 0; p < live.Count; p++)
        {
            var node = sim.Nodes[live[p]];
            for (int k = 1; k <= s; k++)
            {
                int succ = live[(p + k) % live.Count];
                if (node.Node!.IsConnectedTo(sim.Nodes[succ].Id)) continue;
                violationCount++;
                if (violations.Count < ViolationsMax) violations.Add(new RingViolation(node.Index, succ, k));
            }
        }
        return violations;
    }
}
