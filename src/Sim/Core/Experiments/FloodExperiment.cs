// flood: converge, then the host behind a random root sends one ARP request (a broadcast). It
// travels as a bounded flood; every node delivers it to its host exactly once (the checker
// counts), the target host answers with a unicast ARP reply that must come back to the root
// over learned flows without visiting any node twice (no flow loop) and without a black hole.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Node;

namespace EdgeVpn.Sim.Experiments;

public sealed record FloodResult
{
    public required int Nodes { get; init; }
    public required int Root { get; init; }
    public required int Reached { get; init; }
    public required int Duplicates { get; init; }
    public required int MaxHops { get; init; }
    public required double MeanHops { get; init; }
    /// <summary>Frames sent on links by the flood itself.</summary>
    public required long Messages { get; init; }
    public required bool ReplyReturned { get; init; }
    public required int ReplyHops { get; init; }
    public required bool ReplyLooped { get; init; }
    public required double FloodSeconds { get; init; }
    /// <summary>Links that came up or went down while the flood was in flight (the overlay kept changing).</summary>
    public required int LinkChangesDuringFlood { get; init; }
    /// <summary>Nodes that never got the flood (first few, for diagnosis).</summary>
    public required IReadOnlyList<int> Missed { get; init; }
}

public static class FloodExperiment
{
    /// <summary>Runs one broadcast on a converged simulation.</summary>
    public static FloodResult Run(Simulation sim)
    {
        sim.Phase = "flood";
        var random = new DeterministicRandom(sim.Parameters.Seed).Fork("flood-root");
        var live = new List<int>();
        foreach (var n in sim.Nodes) if (n.Alive) live.Add(n.Index);
        int root = live[random.NextInt(live.Count)];
        int target = live.Count > 1 ? live[random.NextInt(live.Count)] : root;
        while (target == root && live.Count > 1) target = live[random.NextInt(live.Count)];

        var deliveries = new int[sim.Nodes.Count];
        var hopsOf = new int[sim.Nodes.Count];
        var replyVisits = new HashSet<int>();
        bool replyReturned = false, replyLooped = false;
        int replyHops = 0;
        long framesBefore = sim.Stats.LinkFrames;
        var start = sim.Now;

        int linkChanges = 0;
        sim.Observer = (node, e) =>
        {
            if (e is NodeEvent.LinkUp or NodeEvent.LinkDown) linkChanges++;
            if (e is NodeEvent.FloodDelivered d && d.Root == sim.Nodes[root].Id)
            {
                if (deliveries[node]++ == 0) hopsOf[node] = d.Hops;
            }
        };
        sim.LocalDelivery = (node, frame) =>
        {
            if (node == root && VirtualHosts.IsArpReplyTo(frame, root)) replyReturned = true;
            else if (VirtualHosts.Answer(node, frame) is { } reply) sim.InjectLocalFrame(node, reply);
        };
        sim.LinkFrameTap = (to, from, frame) =>
        {
            if (!VirtualHosts.IsArpReplyTo(frame, root)) return;
            replyHops++;
            if (!replyVisits.Add(to) || to == target) replyLooped = true;
        };

        sim.InjectLocalFrame(root, VirtualHosts.ArpRequest(root, target));
        sim.RunUntil(() => sim.FramesInFlight == 0, sim.Now + TimeSpan.FromSeconds(600));
        sim.Observer = null;
        sim.LocalDelivery = null;
        sim.LinkFrameTap = null;

        int reached = 1, duplicates = deliveries[root], maxHops = 0;
        long hopSum = 0;
        for (int i = 0; i < deliveries.Length; i++)
        {
            if (i == root || deliveries[i] == 0) continue;
            reached++;
            duplicates += deliveries[i] - 1;
            maxHops = Math.Max(maxHops, hopsOf[i]);
            hopSum += hopsOf[i];
        }
        return new FloodResult
        {
            Nodes = live.Count,
            Root = root,
            Reached = reached,
            Duplicates = duplicates,
            MaxHops = maxHops,
            MeanHops = reached > 1 ? (double)hopSum / (reached - 1) : 0,
            Messages = sim.Stats.LinkFrames - framesBefore,
            ReplyReturned = replyReturned || root == target,
            ReplyHops = replyHops,
            ReplyLooped = replyLooped,
            FloodSeconds = (sim.Now - start).TotalSeconds,
            LinkChangesDuringFlood = linkChanges,
            Missed = Enumerable.Range(0, deliveries.Length).Where(i => i != root && deliveries[i] == 0 && sim.Nodes[i].Alive).Take(10).ToList(),
        };
    }
}
