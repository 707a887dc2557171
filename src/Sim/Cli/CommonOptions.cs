// Options shared by the experiment commands, with their ranges, and their mapping to SimParameters.
using System.CommandLine;
using EdgeVpn.Protocol.Topology;

namespace EdgeVpn.Sim.Cli;

public sealed class CommonOptions
{
    public readonly Option<int> Nodes;
    public readonly Option<ulong> Seed = new("--seed", "-s") { Description = "Master seed; the same seed gives the same run, byte for byte", DefaultValueFactory = _ => 1UL };
    public readonly Option<int?> LongLinks = new("--long-links", "-k") { Description = "Long links per node [default: floor(log2 n), as EdgeVPN]" };
    public readonly Option<int> Successors = new("--successors") { Description = "Successor links per node", DefaultValueFactory = _ => 2 };
    public readonly Option<string> Sampler = new("--sampler") { Description = "Long-link distance distribution: harmonic (Symphony) or edgevpn (EdgeVPN's log10 variant)", DefaultValueFactory = _ => "harmonic" };
    public readonly Option<double> JoinWindow = new("--join-window") { Description = "Seconds (virtual) over which nodes join", DefaultValueFactory = _ => 10.0 };
    public readonly Option<int> CheckEvery = new("--check-invariants") { Description = "After 1 event in N (1 = after every event), check the invariants of the node that handled it (each machine's CheckInvariants); the overlay-wide checks (ring, flood, flows) run at the end of each phase either way", DefaultValueFactory = _ => 1 };
    public readonly Option<bool> Json = new("--json") { Description = "Print one JSON object on stdout and nothing else" };
    public readonly Option<FileInfo?> ExportGraph = new("--export-graph") { Description = "Write the converged overlay as GraphML (networkx, Gephi)" };
    public readonly Option<string> NatMix = new("--nat-mix") { Description = "Relative weight of each NAT preset (none, full-cone, restricted-cone, port-restricted, symmetric) among the nodes, e.g. none=0.3,port-restricted=0.5,symmetric=0.2: weights, not shares (none=5,symmetric=1 puts 5/6 of the nodes behind none); the parameter echo shows the shares as natMix, and the weights as natMixWeights when the rounded shares would draw otherwise; link setups follow the RFC 4787 prediction that nat-matrix checks at packet level", DefaultValueFactory = _ => "none=1" };
    public readonly Option<string> Membership = new("--membership") { Description = "How members learn about each other: presence (EdgeVPN's XMPP roster to every member; O(n^2) presence stanzas, reported as presenceStanzas). or lookup (Symphony: join through any member named by the signaling server, successors found by greedy lookup and stabilization, n estimated from id spacing, long-link targets found by lookups; no roster)", DefaultValueFactory = _ => "presence" };
    public readonly Option<bool> NoTurn = new("--no-turn") { Description = "No TURN server: links between NATs that need a relay fail" };
    public readonly Option<string> Links = new("--links") { Description = $"How link setups are simulated: modeled (outcome from the RFC 4787 prediction of the two NATs; setup after fixed round trips, plus the agent's 2 s nomination wait when the controlled end is behind a NAT, as calibrated from ice; any size) or ice (every link end runs the real ICE agent; its STUN, TURN, check and consent datagrams cross the virtual NAT boxes to virtual STUN/TURN servers; links come up when both agents connected, relayed if the selected pair is; frames and keep-alives then travel as the agents' data on the selected pair, through the NATs or the relay; signals through the server as the real node's signal text; at most {SimParameters.IceNodesMax} nodes, and about 240 KB of memory per node, so the memory check refuses ice runs above about 90,000 nodes on a 24 GiB machine unless --no-memory-check)", DefaultValueFactory = _ => "modeled" };
    public readonly Option<string> Signaling = new("--signaling") { Description = $"How the signaling server is simulated: modeled (a message-level service: roster views published every second, messages relayed with the latency to the server; any size) or xmpp (a stanza-level XMPP server on the virtual network: every node runs the real node's XMPP client session over a virtual TCP stream with STARTTLS (the handshake modeled as a round trip), SASL SCRAM-SHA-1, resource binding, the shared-group roster, presence with node ids and signals as <message/> stanzas; crashes seen by the server after the crash detection time, outages close every stream and clients reconnect with back-off; at most {SimParameters.XmppNodesMax} nodes)", DefaultValueFactory = _ => "modeled" };
    public readonly Option<FileInfo?> Csv = CsvOption.Create("the report as one row");
    public readonly Option<FileInfo?> Trace = new("--trace") { Description = "Write every simulated event, one per line (large: use on small runs)" };
    public readonly Option<bool> NoMemoryCheck = new("--no-memory-check") { Description = "Start even when the run's estimated peak memory (reported as estimatedMemoryMB; from measured runs) exceeds what this machine has available; without it such a run is refused before it starts" };

    public CommonOptions(int defaultNodes)
    {
        Nodes = new Option<int>("--nodes", "-n") { Description = "Number of simulated nodes", DefaultValueFactory = _ => defaultNodes };
        UsageErrors.Range(Nodes, 1, SimParameters.NodesMax);
        UsageErrors.Range(LongLinks, 0, 64);
        UsageErrors.Range(Successors, 1, 16);
        UsageErrors.OneOf(Sampler, "harmonic", "edgevpn");
        UsageErrors.Range(JoinWindow, 0, 86400);
        UsageErrors.Range(CheckEvery, 1, 1_000_000);
        UsageErrors.OneOf(Membership, "presence", "lookup");
        UsageErrors.OneOf(Links, "modeled", "ice");
        UsageErrors.OneOf(Signaling, "modeled", "xmpp");
        NatMix.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && Net.NatMix.Parse(r.Tokens[^1].Value) is { Ok: false } bad) r.AddError($"--nat-mix: {bad.Error}");
        });
    }

    public void AddTo(Command c)
    {
        c.Add(Nodes); c.Add(Seed); c.Add(LongLinks); c.Add(Successors); c.Add(Sampler);
        c.Add(JoinWindow); c.Add(CheckEvery); c.Add(Membership); c.Add(NatMix); c.Add(NoTurn); c.Add(Links); c.Add(Signaling); c.Add(Json); c.Add(Csv); c.Add(ExportGraph); c.Add(Trace); c.Add(NoMemoryCheck);
    }

    /// <summary>Runs the command's body on the parameters and outputs these options name.</summary>
    public int Run(ParseResult r, string command, Func<Simulation, Report, bool> body) =>
        RunHost.Run(ToParameters(r), r.GetValue(Json), r.GetValue(Csv), r.GetValue(ExportGraph), r.GetValue(Trace), command, body,
                    memoryCheck: !r.GetValue(NoMemoryCheck));

    public SimParameters ToParameters(ParseResult r) => new()
    {
        Nodes = r.GetValue(Nodes),
        Seed = r.GetValue(Seed),
        JoinWindow = TimeSpan.FromSeconds(r.GetValue(JoinWindow)),
        InvariantCheckEvery = r.GetValue(CheckEvery),
        NatMix = Net.NatMix.Parse(r.GetValue(NatMix)).Value,
        TurnServer = !r.GetValue(NoTurn),
        LinkModel = r.GetValue(Links) == "ice" ? LinkModel.Ice : LinkModel.Modeled,
        Signaling = r.GetValue(Signaling) == "xmpp" ? SignalingModel.Xmpp : SignalingModel.Modeled,
        Topology = new TopologyConfig
        {
            SuccessorsMin = r.GetValue(Successors),
            LongLinksMax = r.GetValue(LongLinks),
            Sampler = r.GetValue(Sampler) == "edgevpn" ? LongLinkSampler.EdgeVpnLog10 : LongLinkSampler.Harmonic,
            Membership = r.GetValue(Membership) == "lookup" ? MembershipMode.Lookup : MembershipMode.Presence,
        },
    };
}
