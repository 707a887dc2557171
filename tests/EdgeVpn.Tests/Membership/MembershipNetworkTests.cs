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
    internal static MembershipNetwork JoinConcurrently(int n, ulong seed, TimeSpan window)
    {
        var net = new MembershipNetwork(n, seed);
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
}
