// Drawing a long-link distance as a fraction of the ring (Symphony's harmonic distribution, or
// EdgeVPN's log10 variant kept for comparison) and mapping it to a target id.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Topology;

public static class LongLinkDraw
{
    /// <summary>A clockwise distance in (0, 1] as a fraction of the ring, for an overlay of n nodes.</summary>
    public static double Fraction(LongLinkSampler sampler, int n, DeterministicRandom random)
    {
        double u = random.NextDouble();
        return sampler switch
        {
            LongLinkSampler.Harmonic => Math.Exp(Math.Log(n) * (u - 1.0)),
            LongLinkSampler.EdgeVpnLog10 => Math.Exp(Math.Log10(n) * (u - 1.0)),
            _ => throw new ArgumentOutOfRangeException(nameof(sampler)),
        };
    }

    /// <summary>The member at or clockwise after self + fraction of the ring, or null if that is self.</summary>
    public static NodeId? Target(MembershipView view, NodeId self, double fraction)
    {
        if (view.Count == 0) return null;
        NodeId point = self.Add(NodeId.OffsetOfFraction(fraction));
        NodeId target = view[view.IndexAtOrAfter(point)];
        return target == self ? null : target;
    }
}
