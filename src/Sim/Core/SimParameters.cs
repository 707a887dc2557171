// Everything that shapes one simulated run. A run is a pure function of these parameters
// (the seed included); Describe() prints them all so any run can be repeated.
using System.Globalization;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim.Net;

namespace EdgeVpn.Sim;

/// <summary>How link setup is simulated: Modeled (the outcome and latency computed from the NAT
/// prediction) or Ice (the real ICE agent per link end, datagram by datagram, through the virtual
/// NATs and STUN/TURN servers).</summary>
public enum LinkModel : byte { Modeled, Ice }

/// <summary>How the signaling server is simulated: Modeled (a message-level service: roster views
/// published every PresenceInterval, messages relayed with latency) or Xmpp (a stanza-level XMPP
/// server on the virtual network: every node runs the real XMPP client session over a virtual TCP
/// stream, STARTTLS modeled as a round trip, SASL SCRAM-SHA-1, bind, roster, presence and messages).</summary>
public enum SignalingModel : byte { Modeled, Xmpp }

public sealed record SimParameters
{
    public int Nodes { get; init; } = 1000;
    public ulong Seed { get; init; } = 1;
    /// <summary>Nodes join at uniformly random instants within this window.</summary>
    public TimeSpan JoinWindow { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The signaling server publishes roster changes (presence) at this period.</summary>
    public TimeSpan PresenceInterval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan BaseLatency { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Extra one-way latency across the whole coordinate square (about 1.4x this at most).</summary>
    public TimeSpan SpanLatency { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Round trips a link's transport needs once both ends have each other's data (ICE check, DTLS).</summary>
    public int SetupRoundTrips { get; init; } = 3;
    /// <summary>Round trips to the servers while an end gathers its candidates; null (the default) = as the
    /// packet-level agent measures (--links ice): 2 with a TURN server (the 401 challenge, then the
    /// authenticated Allocate; the STUN Binding runs alongside), 1 without (the STUN Binding).</summary>
    public int? GatherRoundTrips { get; init; }
    public int EffectiveGatherRoundTrips => GatherRoundTrips ?? (TurnServer ? 2 : 1);
    /// <summary>Modeled links: extra setup time when the controlled (responding) end is behind a NAT. The
    /// ICE agent's controlling side waits IceConfig.NominationWait after its first valid pair before it
    /// nominates, because the checks toward the NATed peer's private host candidate, which outrank the
    /// working pairs, never succeed; with a public controlled end the best pair succeeds first and is
    /// nominated at once. Calibrated from --links ice (experiments/results/nat-matrix.md).</summary>
    public TimeSpan NominationWait { get; init; } = new Protocol.Ice.IceConfig().NominationWait;
    /// <summary>Converge gives up (and says so) when the overlay is not stable by this virtual time.</summary>
    public TimeSpan ConvergeDeadline { get; init; } = TimeSpan.FromSeconds(600);
    public TopologyConfig Topology { get; init; } = new();
    public LinkConfig Links { get; init; } = new();
    public int FloodHopsMax { get; init; } = 64;
    /// <summary>A node's CheckInvariants runs after every event when 1 (the default); with N > 1 after
    /// one event in N (chosen by event count, so still deterministic) — for very large runs.</summary>
    public int InvariantCheckEvery { get; init; } = 1;
    /// <summary>The signaling server drops a crashed node from the roster this long after the crash
    /// (an XMPP server notices a dead client session by its keep-alive/ping timeout).</summary>
    public TimeSpan CrashDetection { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Per node, the last this many events are kept for failure reports (0 = none, the default: it costs memory).</summary>
    public int RecentEventsPerNode { get; init; }
    /// <summary>Which NAT preset each node sits behind (drawn per node). With NATs, a link's
    /// modeled setup follows the RFC 4787 prediction (NatPrediction) that the packet-level
    /// nat-matrix confirms: direct, relayed through the TURN server, or failed.</summary>
    public NatMix NatMix { get; init; } = NatMix.AllPublic;
    /// <summary>A TURN server is available for pairs of NATs that need a relay.</summary>
    public bool TurnServer { get; init; } = true;
    /// <summary>Modeled link setups (the default) or the real ICE agents at packet level (IceLinkLayer).</summary>
    public LinkModel LinkModel { get; init; } = LinkModel.Modeled;

    /// <summary>--links ice simulates every STUN/TURN/check datagram of every link end: beyond this it costs too much.</summary>
    public const int IceNodesMax = 100_000;

    /// <summary>How the signaling server is simulated (see SignalingModel).</summary>
    public SignalingModel Signaling { get; init; } = SignalingModel.Modeled;

    /// <summary>--signaling xmpp: every node's session holds the whole roster and receives every other
    /// node's presence as a stanza (the O(n^2) of EdgeVPN's XMPP approach, parsed as XML): 6.6 GB and
    /// 104 s at 2000 nodes, so about 10 GB at this bound.</summary>
    public const int XmppNodesMax = 2_500;

    public const int NodesMax = 50_000_000;

    public string? Validate()
    {
        if (Nodes < 1 || Nodes > NodesMax) return $"nodes: must be in 1..{NodesMax}";
        if (JoinWindow < TimeSpan.Zero) return "join window: must not be negative";
        if (PresenceInterval <= TimeSpan.Zero) return "presence interval: must be positive";
        if (SetupRoundTrips < 0 || SetupRoundTrips > 100) return "setup round trips: must be in 0..100";
        if (GatherRoundTrips is < 0 or > 100) return "gather round trips: must be in 0..100";
        if (NominationWait < TimeSpan.Zero || NominationWait > TimeSpan.FromMinutes(5)) return "nomination wait: must be in [0, 5 min]";
        if (FloodHopsMax < 1 || FloodHopsMax > 255) return "flood hops max: must be in 1..255";
        if (InvariantCheckEvery < 1 || InvariantCheckEvery > 1_000_000) return "invariant check every: must be in 1..1000000";
        if (CrashDetection <= TimeSpan.Zero || CrashDetection > TimeSpan.FromHours(1)) return "crash detection: must be in (0, 1 h]";
        if (RecentEventsPerNode < 0 || RecentEventsPerNode > 1024) return "recent events per node: must be in 0..1024";
        if (LinkModel == LinkModel.Ice && Nodes > IceNodesMax)
            return $"--links ice runs every link's ICE agent datagram by datagram and is limited to {IceNodesMax} nodes ({Nodes} asked); use --links modeled for larger overlays";
        if (Signaling == SignalingModel.Xmpp && Nodes > XmppNodesMax)
            return $"--signaling xmpp runs a real XMPP session per node, each holding the whole roster, and sends every presence to every node as a stanza (memory grows as n^2); it is limited to {XmppNodesMax} nodes ({Nodes} asked); use --signaling modeled for larger overlays";
        return Topology.Validate();
    }

    public IEnumerable<(string Name, string Value)> Describe()
    {
        var c = CultureInfo.InvariantCulture;
        yield return ("seed", Seed.ToString(c));
        yield return ("nodes", Nodes.ToString(c));
        yield return ("joinWindowSeconds", JoinWindow.TotalSeconds.ToString(c));
        yield return ("presenceIntervalSeconds", PresenceInterval.TotalSeconds.ToString(c));
        yield return ("baseLatencyMs", BaseLatency.TotalMilliseconds.ToString(c));
        yield return ("spanLatencyMs", SpanLatency.TotalMilliseconds.ToString(c));
        yield return ("setupRoundTrips", SetupRoundTrips.ToString(c));
        yield return ("gatherRoundTrips", EffectiveGatherRoundTrips.ToString(c));
        yield return ("nominationWaitSeconds", NominationWait.TotalSeconds.ToString(c));
        yield return ("successorsMin", Topology.SuccessorsMin.ToString(c));
        // A number in every table (what a node aims at when its n is the run's node count); the
        // rule beside it says whether that number follows n (EdgeVPN's floor(log2 n)) or --long-links.
        yield return ("longLinksMax", Topology.LongLinksFor(Nodes).ToString(c));
        yield return ("longLinksRule", Topology.LongLinksMax is null ? "floor(log2 n)" : "fixed");
        // Spelled as --sampler takes it, so an echoed run can be typed back.
        yield return ("sampler", Topology.Sampler == LongLinkSampler.EdgeVpnLog10 ? "edgevpn" : "harmonic");
        yield return ("membership", Topology.Membership == MembershipMode.Lookup ? "lookup" : "presence");
        yield return ("floodHopsMax", FloodHopsMax.ToString(c));
        yield return ("invariantCheckEvery", InvariantCheckEvery.ToString(c));
        yield return ("longLinkDelaySeconds", Topology.LongLinkDelay.TotalSeconds.ToString(c));
        yield return ("redrawHoldoffSeconds", Topology.RedrawHoldoff.TotalSeconds.ToString(c));
        yield return ("protectionWindowSeconds", Links.ProtectionWindow.TotalSeconds.ToString(c));
        yield return ("linkSetupTimeoutSeconds", Links.SetupTimeout.TotalSeconds.ToString(c));
        yield return ("keepAliveSeconds", Links.KeepAliveInterval.TotalSeconds.ToString(c));
        yield return ("crashDetectionSeconds", CrashDetection.TotalSeconds.ToString(c));
        foreach (var echoed in NatMixEcho.Describe(NatMix)) yield return echoed;
        yield return ("turnServer", TurnServer ? "yes" : "no");
        yield return ("links", LinkModel == LinkModel.Ice ? "ice" : "modeled");
        yield return ("signaling", Signaling == SignalingModel.Xmpp ? "xmpp" : "modeled");
    }
}
