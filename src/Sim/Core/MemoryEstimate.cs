// What a simulation run will hold at its peak, estimated before it starts from the peak working
// sets measured on this project's runs (seed 1, `scripts/sim.sh` GC settings), so that a run the
// machine cannot hold is refused in a second instead of being killed by the kernel an hour in.
// Contract: a pure function of the parameters; an estimate of the process's peak working set,
// meant to be slightly high at the measured sizes (never used for anything but that check and
// the report's estimatedMemoryMB, which lets the next measurement correct the coefficients).
// The coefficients, and the runs they come from (experiments/results/*.md):
//  - runtime, JIT and fixed tables: 250 MiB (10k nodes: 338-352 MiB peak in either membership);
//  - modeled links, lookup membership: 12.5 KB per node (1M: 10,740 MiB, 300k: 3,826 MiB);
//  - modeled links, presence membership: 9.5 KB per node (300k: 2,870 MiB, 100k: 1,095 MiB);
//  - --links ice adds 80 MiB fixed and 240 KB per node (a fit; the fixed part was not measured apart).
//    Peaks of `flood --links ice` (seed 1; MiB; 2026-12-02, experiments/results/scaling-flood.md):
//        membership   1,000   3,000   10,000 nodes
//        presence       454     760    2,225
//        lookup         463     810
//    The estimate is 1.2-1.4x each of them (the test holds it within 1-1.5x). The slope is set above what the last step measured
//    (160 KB a node from 1k to 3k, 219 KB from 3k to 10k): each node's links, and so its agents,
//    grow with log2 n, so a larger run costs more per node and the estimate must stay high there;
//    it puts 100k ICE nodes at ~23.6 GiB, which a 24 GiB machine refuses without --no-memory-check.
//  - --signaling xmpp adds 0.78 MB per node and 1.26 KB per pair of nodes, every session holding
//    the whole roster (1000 nodes: 2,042 MiB, 2000: 6,601 MiB).
// (Peaks are MiB, 2^20 bytes, as the reports' peakMemoryMB; per-node figures are bytes / 1000.)
namespace EdgeVpn.Sim;

public static class MemoryEstimate
{
    public const long BaseBytes = 250L << 20;
    public const long LookupBytesPerNode = 12_500;
    public const long PresenceBytesPerNode = 9_500;
    public const long IceBaseBytes = 80L << 20;
    public const long IceBytesPerNode = 240_000;
    public const long XmppBytesPerNode = 780_000;
    public const long XmppBytesPerPair = 1_260;

    /// <summary>The estimated peak working set of a run with these parameters, in bytes.</summary>
    public static long PeakBytes(SimParameters p)
    {
        long n = p.Nodes;
        long perNode = p.Topology.Membership == Protocol.Topology.MembershipMode.Lookup ? LookupBytesPerNode : PresenceBytesPerNode;
        long bytes = BaseBytes + n * perNode;
        if (p.LinkModel == LinkModel.Ice) bytes += IceBaseBytes + n * IceBytesPerNode;
        if (p.Signaling == SignalingModel.Xmpp) bytes += n * XmppBytesPerNode + n * n * XmppBytesPerPair;
        return bytes;
    }
}
