// What a simulation run will hold at its peak, estimated before it starts from the peak working
// sets measured on this project's runs (seed 1, `scripts/sim.sh` GC settings), so that a run the
// machine cannot hold is refused in a second instead of being killed by the kernel an hour in.
// Contract: a pure function of the parameters; an estimate of the process's peak working set,
// meant to be slightly high at the measured sizes (never used for anything but that check and
// the report's estimatedMemoryMB, which lets the next measurement correct the coefficients).
// The coefficients, and the runs they come from (experiments/results/*.md):
//  - runtime, JIT and fixed tables: 250 MB (10k nodes: 338-352 MB peak in either membership);
//  - modeled links, lookup membership: 12.5 KB per node (1M: 10,740 MiB, 300k: 3,826 MB);
//  - modeled links, presence membership: 9.5 KB per node (300k: 2,870 MB, 100k: 1,095 MB);
//  - --links ice adds 165 KB per node (1000 nodes: 448 MB, 3000: 752 MB, 2026-12-01);
//  - --signaling xmpp adds 0.78 MB per node and 1.26 KB per pair of nodes, every session holding
//    the whole roster (1000 nodes: 2,042 MB, 2000: 6,601 MB).
namespace EdgeVpn.Sim;

public static class MemoryEstimate
{
    public const long BaseBytes = 250L << 20;
    public const long LookupBytesPerNode = 12_500;
    public const long PresenceBytesPerNode = 9_500;
    public const long IceBytesPerNode = 165_000;
    public const long XmppBytesPerNode = 780_000;
    public const long XmppBytesPerPair = 1_260;

    /// <summary>The estimated peak working set of a run with these parameters, in bytes.</summary>
    public static long PeakBytes(SimParameters p)
    {
        long n = p.Nodes;
        long perNode = p.Topology.Membership == Protocol.Topology.MembershipMode.Lookup ? LookupBytesPerNode : PresenceBytesPerNode;
        if (p.LinkModel == LinkModel.Ice) perNode += IceBytesPerNode;
        long bytes = BaseBytes + n * perNode;
        if (p.Signaling == SignalingModel.Xmpp) bytes += n * XmppBytesPerNode + n * n * XmppBytesPerPair;
        return bytes;
    }
}
