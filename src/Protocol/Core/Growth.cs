// How the per-node arrays grow (neighbour tables, link records, sorted id lists). A million
// simulated nodes each own several of them, so doubling leaves a quarter of every array empty
// on average; growing by half leaves a sixth, and a node's lists grow only during its first
// minute (O(log n) links), so the extra copies cost nothing that matters.
namespace EdgeVpn.Protocol.Core;

public static class Growth
{
    /// <summary>The next capacity after current (0: none yet): one and a half times, at least
    /// <paramref name="first"/>, at least current + 2. An array that fills in a burst (a node's
    /// first links) starts larger and skips the small copies.</summary>
    public static int Next(int current, int first = 4) => Math.Max(first, current + Math.Max(current / 2, 2));
}
