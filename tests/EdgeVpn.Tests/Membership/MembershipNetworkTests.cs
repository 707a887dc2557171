// Laws of the scalable membership over whole networks of RingMembership machines (the in-test
// MembershipNetwork): joins one by one and concurrent converge to the exact ring; lookups find the
// true owner in few hops; the size estimate is close; departures are repaired; message counts
// are bounded; and a seed reproduces its run exactly. Figures are printed to the test output.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using Xunit.Abstractions;

namespace EdgeVpn.Tests.Membership;

public class MembershipNetworkTests(ITestOutputHelper output)
{
    private static readonly MembershipConfig Config = new();

    /// <summary>n from 2 to 2000, log-uniform (small rings are where the edge cases live).</summary>
    private static Gen<int> Sizes(int max) =>
        from e in Gen.Choose(1, (int)Math.Ceiling(Math.Log2(max)))
        from n in Gen.Choose(1 << (e - 1), Math.Min(max, 1 << e))
        select Math.Max(2, n);

    private static Gen<(int N, ulong Seed)> Cases(int max) =>
        from n in Sizes(max)
        from seed in PropertyRunner.Seeds
        select (n, seed);

    private static Instant S(double seconds) => Instant.FromSeconds(seconds);

    /// <summary>Node 0 starts the ring; node i joins at i·spacing through a random member.</summary>
    internal static MembershipNetwork JoinOneByOne(int n, ulong seed, TimeSpan spacing, MembershipNetwork.Options? options = null)
    {
        var net = new MembershipNetwork(n, seed, options);
        net.At(Instant.Zero, () => net.StartFirst(0));
        for (int i = 1; i < n; i++) { int j = i; net.At(Instant.Zero + spacing * i, () => net.StartJoin(j)); }
        return net;
    }

    /// <summary>Node 0 starts the ring; the others join at random instants within the window.</summary>
    internal static MembershipNetwork JoinConcurrently(int n, ulong seed, TimeSpan window, MembershipNetwork.Options? options = null)
    {
        var net = new MembershipNetwork(n, seed, options);
        net.At(Instant.Zero, () => net.StartFirst(0));
        var when = new DeterministicRandom(seed).Fork("join times");
        for (int i = 1; i < n; i++) { int j = i; net.At(Instant.FromSeconds(0.2 + when.NextDouble() * window.TotalSeconds), () => net.StartJoin(j)); }
        return net;
    }

    [Fact]
    public void Nodes_joining_one_by_one_through_random_members_converge_to_the_exact_ring()
    {
        PropertyRunner.Check(Cases(2000), c =>
        {
            var spacing = TimeSpan.FromSeconds(0.25);
            var net = JoinOneByOne(c.N, c.Seed, spacing);
            var joinedBy = S(c.N * spacing.TotalSeconds);
            net.RunUntil(joinedBy);
            var converged = net.RunUntilConverged(joinedBy + TimeSpan.FromMinutes(5));
            output.WriteLine($"one by one n={c.N} seed={c.Seed}: converged {(converged is { } t ? $"{(t - joinedBy).TotalSeconds:F0} s after the last join" : "NOT")}, {net.MessagesTotal / (double)c.N:F1} messages per node, {net.JoinFailures} join failures");
            Assert.True(converged is not null, $"n={c.N} seed={c.Seed}: " + string.Join("\n", net.RingProblems()));
            return true;
        }, maxTest: 6);
    }

    [Fact]
    public void Nodes_joining_concurrently_converge_to_the_exact_ring()
    {
        PropertyRunner.Check(Cases(2000), c => { ConcurrentJoinsConverge(c.N, c.Seed); return true; }, maxTest: 6);
    }

    // Found by the property (a successor list missing one node 15 min after the joins): two loops
    // left by concurrent joins merge through self-checks, which now go through a random member.
    [Fact]
    public void Concurrent_joins_of_seed_1441044707082659125_converge() => ConcurrentJoinsConverge(1651, 1441044707082659125);

    private void ConcurrentJoinsConverge(int n, ulong seed)
    {
        var window = TimeSpan.FromSeconds(5);
        var net = JoinConcurrently(n, seed, window);
        net.RunUntil(S(0.2) + window);
        // Stabilization converges each loop; two loops (possible after concurrent joins) merge
        // at the latest by the second self-check (SelfCheckInterval, 5 min).
        var converged = net.RunUntilConverged(net.Now + TimeSpan.FromMinutes(15));
        output.WriteLine($"concurrent n={n} seed={seed}: converged {(converged is { } t ? $"{t.TotalSeconds - 5.2:F0} s after the last join" : "NOT")}, {net.MessagesTotal / (double)n:F1} messages per node ({Categories(net.MessagesByCategory, n)}), {net.JoinFailures} join failures");
        Assert.True(converged is not null, $"n={n} seed={seed}: " + string.Join("\n", net.RingProblems()));
    }

    /// <summary>Symphony: with k long links per node a greedy lookup takes O(log²n / k) hops; with
    /// k = log2 n that is O(log n). The bound asserted on the mean is 2·log2(n) + 2.</summary>
    internal static double MeanHopsBound(int n) => 2 * Math.Log2(n) + 2;

    [Fact]
    public void After_convergence_lookups_of_random_keys_find_the_true_owner_in_about_log_n_hops()
    {
        PropertyRunner.Check(Cases(2000), c =>
        {
            var net = Converged(c.N, c.Seed);
            const int probes = 300;
            ProbeOverTime(net, probes, TimeSpan.FromSeconds(30));
            double mean = net.ProbeHops.Count == 0 ? 0 : net.ProbeHops.Average();
            double links = Enumerable.Range(0, c.N).Average(net.LongLinkCount);
            output.WriteLine($"lookups n={c.N} seed={c.Seed}: {net.ProbeHops.Count}/{probes} resolved, mean hops {mean:F2} (max {(net.ProbeHops.Count > 0 ? net.ProbeHops.Max() : 0)}), log2(n) = {Math.Log2(c.N):F1}, {links:F1} long links per node, log2(n)^2/k = {Math.Pow(Math.Log2(c.N), 2) / Math.Max(1, links):F1}");
            Assert.Empty(net.ProbeProblems);
            Assert.Equal(probes, net.ProbeHops.Count);
            Assert.True(mean <= MeanHopsBound(c.N), $"mean hops {mean:F2} above {MeanHopsBound(c.N):F2}");
            return true;
        }, maxTest: 6);
    }

    [Fact]
    public void Half_a_minute_after_a_mass_join_most_nodes_estimate_n_within_a_factor_of_two()
    {
        // Without the estimate pushes the filter moves one node per stabilize round, and the
        // rounds back off to 30 s: a minute later most estimates still carried the early, small
        // ring (measured: 96.4-100% within 2x with pushes, 88.8% with EstimatePushChangeMin = 1000).
        var cases = from n in Gen.Choose(200, 2000) from seed in PropertyRunner.Seeds select (n, seed);
        PropertyRunner.Check(cases, c =>
        {
            var window = TimeSpan.FromSeconds(5);
            var net = JoinConcurrently(c.n, c.seed, window);
            net.RunUntil(Instant.FromSeconds(0.2) + window + TimeSpan.FromSeconds(30));
            var estimates = net.AliveNodes.Select(i => net.Machine(i).EstimatedSize).ToArray();
            double within = estimates.Count(e => e >= c.n / 2.0 && e <= 2.0 * c.n) / (double)estimates.Length;
            output.WriteLine($"mass join n={c.n} seed={c.seed}: {within:P1} of the estimates within 2x after 30 s");
            Assert.True(within >= 0.94, $"only {within:P1} of the estimates within a factor of 2 of {c.n}");
            return true;
        }, maxTest: 4);
    }

    [Fact]
    public void For_n_of_200_or_more_most_nodes_estimate_n_within_a_factor_of_two()
    {
        var cases = from n in Gen.Choose(200, 2000) from seed in PropertyRunner.Seeds select (n, seed);
        PropertyRunner.Check(cases, c =>
        {
            var net = Converged(c.n, c.seed, settle: TimeSpan.FromMinutes(10));
            var estimates = net.AliveNodes.Select(i => net.Machine(i).EstimatedSize).ToArray();
            double within = estimates.Count(e => e >= c.n / 2.0 && e <= 2.0 * c.n) / (double)estimates.Length;
            double within25 = estimates.Count(e => e >= c.n / 1.25 && e <= 1.25 * c.n) / (double)estimates.Length;
            var sorted = estimates.Order().ToArray();
            output.WriteLine($"estimate n={c.n} seed={c.seed}: {within:P1} within 2x, {within25:P1} within 1.25x; median {sorted[sorted.Length / 2]}, 5% {sorted[sorted.Length / 20]}, 95% {sorted[sorted.Length * 19 / 20]}");
            Assert.True(within >= 0.9, $"only {within:P1} of the estimates within a factor of 2 of {c.n}");
            return true;
        }, maxTest: 4);
    }

    [Fact]
    public void When_random_nodes_leave_or_crash_the_ring_repairs_and_lookups_find_the_new_owners()
    {
        var cases = from n in Sizes(2000).Where(n => n >= 3) from seed in PropertyRunner.Seeds select (n, seed);
        PropertyRunner.Check(cases, c => { DeparturesRepair(c.n, c.seed); return true; }, maxTest: 6);
    }

    // Seeds the property found: in a ring of three, one departure left the two survivors each
    // re-teaching the other the dead node through their successor lists, which wrap around the
    // whole ring (fixed: a successor's list is read only up to self).
    [Theory]
    [InlineData(3, 340451468696617958UL)]
    [InlineData(3, 4076701880806035978UL)]
    [InlineData(3, 4176860450934836948UL)]
    [InlineData(3, 3099387259634248628UL)]
    public void After_a_departure_from_a_ring_of_three_the_survivors_forget_the_departed_node(int n, ulong seed) =>
        DeparturesRepair(n, seed);

    private void DeparturesRepair(int n, ulong seed)
    {
        var net = Converged(n, seed);
        int gone = Math.Max(1, n / 10);
        var victims = Enumerable.Range(0, n).OrderBy(_ => net.Random.NextUInt64()).Take(gone).ToList();
        var start = net.Now;
        for (int v = 0; v < victims.Count; v++)
        {
            int node = victims[v];
            bool crash = v % 2 == 0;
            net.At(start + TimeSpan.FromSeconds(10 * net.Random.NextDouble()), () => { if (crash) net.Crash(node); else net.Leave(node); });
        }
        net.RunUntil(start + TimeSpan.FromSeconds(10));
        var repaired = net.RunUntilConverged(net.Now + TimeSpan.FromMinutes(10));
        output.WriteLine($"departures n={n} seed={seed}: {gone} gone (half crashed), repaired {(repaired is { } t ? $"{(t - start).TotalSeconds - 10:F0} s after the last departure" : "NOT")}");
        Assert.True(repaired is not null, $"n={n} seed={seed}: " + string.Join("\n", net.RingProblems()));
        ProbeOverTime(net, 50, TimeSpan.FromSeconds(30));
        Assert.Empty(net.ProbeProblems);
        Assert.Equal(50, net.ProbeHops.Count);
    }

    /// <summary>A converged network of n nodes (joined one by one), then settled for a while.</summary>
    private static MembershipNetwork Converged(int n, ulong seed, TimeSpan? settle = null)
    {
        var spacing = TimeSpan.FromSeconds(0.25);
        var net = JoinOneByOne(n, seed, spacing);
        net.RunUntil(S(n * spacing.TotalSeconds));
        var converged = net.RunUntilConverged(net.Now + TimeSpan.FromMinutes(10));
        Assert.True(converged is not null, $"n={n} seed={seed} did not converge: " + string.Join("\n", net.RingProblems()));
        net.RunUntil(net.Now + (settle ?? TimeSpan.FromMinutes(1)));
        return net;
    }

    /// <summary>Lookups of random keys from random live nodes at random instants of the window, then 30 s to answer.</summary>
    private static void ProbeOverTime(MembershipNetwork net, int probes, TimeSpan window)
    {
        var alive = net.AliveNodes.ToArray();
        var start = net.Now;
        for (int p = 0; p < probes; p++)
        {
            int from = alive[net.Random.NextInt(alive.Length)];
            UInt128 key = net.Random.NextUInt128();
            net.At(start + window * net.Random.NextDouble(), () => net.Probe(from, key));
        }
        net.RunUntil(start + window + TimeSpan.FromSeconds(30));
    }

    private static string Categories(long[] counts, int n) =>
        string.Join(", ", Enum.GetValues<MembershipNetwork.Category>().Select(k => $"{k} {counts[(int)k] / (double)n:F1}"));

    [Fact]
    public void Messages_per_node_per_minute_of_stable_operation_and_per_join_are_bounded()
    {
        // Bounds derived from the configuration (L = 4, intervals 1..30 s, jitter 10%, self-check 5 min):
        //  - stable: each node sends one Stabilize per interval >= 0.9 * 30 s and answers its
        //    predecessor's: <= 2 * 60 / 27 = 4.44 stabilization messages per node-minute; plus one
        //    self-check per >= 0.9 * 5 min of (mean hops + 1) messages.
        //  - a join: the join lookup (hops + 1 answer); the joiner and its predecessor (whose first
        //    successor changes) each restart the period at 1 s and take R + 1 = 6 rounds
        //    (1, 2, 4, 8, 16, then 30 s) of 2 messages before they are back to the stable rate,
        //    and the new list is pushed down at most L + 1 predecessors: 2 * 6 * 2 + 5 = 29;
        //    plus the estimate pushes: the joiner and the L + 1 nodes whose window holds the new gap
        //    push, and the change then travels back along the ring shrinking by (1 - w) per hop
        //    from at most w (a raw change of 100%, weighed w) until below EstimatePushChangeMin:
        //    ceil(ln(w / min) / ln(1 / (1 - w))) hops (11 for 0.125, 0.03). A node's estimate moves
        //    in two steps (its own window, then its successor's report), so each may push twice.
        var cfg = Config;
        double stableBound = 2 * 60 / (0.9 * cfg.StabilizeIntervalMax.TotalSeconds);
        int rounds = (int)Math.Ceiling(Math.Log2(cfg.StabilizeIntervalMax / cfg.StabilizeIntervalMin)) + 1;
        int pushHops = (int)Math.Ceiling(Math.Log(cfg.EstimateOwnWeight / cfg.EstimatePushChangeMin) / Math.Log(1 / (1 - cfg.EstimateOwnWeight)));
        double joinStabilizeBound = 2 * rounds * 2 + cfg.SuccessorListLength + 1 + 2 * (cfg.SuccessorListLength + 2 + pushHops);
        var cases = from n in Sizes(2000).Where(n => n >= 4) from seed in PropertyRunner.Seeds select (n, seed);
        PropertyRunner.Check(cases, c =>
        {
            const int late = 10;
            var spacing = TimeSpan.FromSeconds(0.25);
            var net = new MembershipNetwork(c.n + late, c.seed);
            net.At(Instant.Zero, () => net.StartFirst(0));
            for (int i = 1; i < c.n; i++) { int j = i; net.At(Instant.Zero + spacing * i, () => net.StartJoin(j)); }
            net.RunUntil(S(c.n * spacing.TotalSeconds));
            Assert.NotNull(net.RunUntilConverged(net.Now + TimeSpan.FromMinutes(10)));
            net.RunUntil(net.Now + TimeSpan.FromMinutes(4)); // every period back at its maximum

            var window = TimeSpan.FromMinutes(10);
            var before = (long[])net.MessagesByCategory.Clone();
            net.RunUntil(net.Now + window);
            var stable = Delta(net.MessagesByCategory, before);
            double minutes = window.TotalMinutes;
            double stabilizePerNodeMinute = stable[(int)MembershipNetwork.Category.Stabilize] / (c.n * minutes);
            double lookupPerNodeMinute = stable[(int)MembershipNetwork.Category.Lookup] / (c.n * minutes);
            double selfCheckBound = (MeanHopsBound(c.n) + 1) / (0.9 * cfg.SelfCheckInterval.TotalMinutes);

            before = (long[])net.MessagesByCategory.Clone();
            var start = net.Now;
            for (int k = 0; k < late; k++) { int j = c.n + k; net.At(start + TimeSpan.FromMinutes(k) + TimeSpan.FromSeconds(1), () => net.StartJoin(j)); }
            net.RunUntil(start + window);
            var joining = Delta(net.MessagesByCategory, before);
            // The background of window B: the stable rate of window A, for the nodes alive on average.
            double nodeMinutes = c.n * minutes + Enumerable.Range(0, late).Sum(k => minutes - k - 1 / 60.0);
            double background = stable[(int)MembershipNetwork.Category.Stabilize] / (c.n * minutes) * nodeMinutes;
            double stabilizePerJoin = (joining[(int)MembershipNetwork.Category.Stabilize] - background) / late;
            double joinLookupPerJoin = joining[(int)MembershipNetwork.Category.JoinLookup] / (double)late;

            output.WriteLine($"messages n={c.n} seed={c.seed}: stable {stabilizePerNodeMinute:F2} stabilization + {lookupPerNodeMinute:F2} lookup messages per node-minute (bounds {stableBound:F2}, {selfCheckBound:F2}); per join {joinLookupPerJoin:F1} join-lookup + {stabilizePerJoin:F1} stabilization messages (bounds {MeanHopsBound(c.n) + 1:F1}, {joinStabilizeBound})");
            Assert.True(stabilizePerNodeMinute <= stableBound, $"{stabilizePerNodeMinute:F2} stabilization messages per node-minute > {stableBound:F2}");
            Assert.True(lookupPerNodeMinute <= selfCheckBound, $"{lookupPerNodeMinute:F2} lookup messages per node-minute > {selfCheckBound:F2}");
            Assert.Equal(0, stable[(int)MembershipNetwork.Category.JoinLookup] + stable[(int)MembershipNetwork.Category.Leave]);
            Assert.True(joinLookupPerJoin <= MeanHopsBound(c.n) + 1, $"{joinLookupPerJoin:F1} join-lookup messages per join");
            Assert.True(stabilizePerJoin <= joinStabilizeBound, $"{stabilizePerJoin:F1} stabilization messages per join > {joinStabilizeBound}");
            return true;
        }, maxTest: 4);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_another()
    {
        var cases = from n in Gen.Choose(2, 400) from seed in PropertyRunner.Seeds select (n, seed);
        PropertyRunner.Check(cases, c =>
        {
            (ulong Trace, long Messages, string Rings) Run(ulong seed)
            {
                var net = JoinConcurrently(c.n, seed, TimeSpan.FromSeconds(5));
                net.RunUntil(S(120));
                var rings = string.Join(";", Enumerable.Range(0, c.n).Select(i => string.Join(",", net.Machine(i).Successors)));
                return (net.TraceHash, net.MessagesTotal, rings);
            }
            var a = Run(c.seed);
            Assert.Equal(a, Run(c.seed));
            Assert.NotEqual(a.Trace, Run(c.seed + 1).Trace);
            return true;
        }, maxTest: 5);
    }

    private static long[] Delta(long[] after, long[] before) => after.Zip(before, (x, y) => x - y).ToArray();
}
