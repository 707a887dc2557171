// vopr: the swarm runner. `--seed S` runs one scenario drawn from S and prints every parameter
// and the outcome; `--seeds A..B` runs each seed in turn (one outcome line per seed, the full
// report for any violation) and ends with a summary. Exit 1 when any seed finds a violation.
// Outputs: `--csv` appends one row per seed; `--json` prints each seed as one JSON object instead
// of the text (one line each: JSON lines for a range; the summary goes to stderr); `--trace` and
// `--export-graph` take one seed's run only (a range would interleave many runs in one file), and
// are opened and checked by RunHost's own code before the run, as for flood.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Sim.Vopr;

namespace EdgeVpn.Sim.Cli;

public static class VoprCommand
{
    public const int SeedsMax = 1_000_000;

    public static Command Create()
    {
        var seed = new Option<ulong?>("--seed", "-s") { Description = "Run the one scenario drawn from this seed (prints SEED= and every parameter first, then the outcome); without --seed or --seeds, seed 1" };
        var seeds = new Option<string?>("--seeds") { Description = "Run every seed in an inclusive range A..B, e.g. 1..500: one line per seed that passes (SEED=, nodes, then the fields of --seed's ok line, same names and figures), the full report for a violation, then a summary" };
        var c = new Command("vopr", "Swarm testing: each seed draws an overlay size and a fault mix (churn, crashes, loss, duplication, partitions, latency spikes, signaling outages), runs a fault phase, heals, and requires convergence within a bound; checks ring correctness, exactly-once flooding, no flow loops or black holes, no dangling link setup and bounded per-node memory. Exit 1 on any violation, whose report ends with the command that replays it.");
        var links = new Option<string>("--links") { Description = "Link setups: modeled (from the NAT prediction) or ice (every link end runs the real ICE agent through the virtual NATs and STUN/TURN servers; about 40x slower); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "modeled" };
        UsageErrors.OneOf(links, "modeled", "ice");
        var membership = new Option<string>("--membership") { Description = "How members find each other: presence (EdgeVPN's roster to every member) or lookup (Symphony: join through a member, greedy lookups, stabilization, estimated n); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "presence" };
        UsageErrors.OneOf(membership, "presence", "lookup");
        var signaling = new Option<string>("--signaling") { Description = "The signaling server: modeled (message level) or xmpp (every node runs the real XMPP client session against the stanza-level virtual XMPP server: logins, presence, signals as stanzas; outages close the streams and clients reconnect with back-off); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "modeled" };
        UsageErrors.OneOf(signaling, "modeled", "xmpp");
        var csv = CsvOption.Create("one row per seed (the --json object flattened: command=vopr, every drawn parameter, numeric fault counts and totals beside the readable lists, and the outcome.* columns)");
        var json = new Option<bool>("--json") { Description = "Print each seed as one JSON object on one line instead of the text (command, seed, every parameter, outcome with ok, checker, heal time, counters, traceHash, and for a violation its detail and replay command); with --seeds, one line per seed (JSON lines) and the summary on stderr" };
        var trace = new Option<FileInfo?>("--trace") { Description = "With --seed only: write every simulated event of the run, one per line (as flood's --trace: virtual time in ns, kind, node, sender, link)" };
        var graph = new Option<FileInfo?>("--export-graph") { Description = "With --seed only: write the overlay as the run ended (after the final checks, or at the violation) as GraphML" };
        c.Add(seed); c.Add(seeds); c.Add(links); c.Add(membership); c.Add(signaling); c.Add(json); c.Add(csv); c.Add(trace); c.Add(graph);
        c.SetAction(r => Run(r.GetValue(seed), r.GetValue(seeds), r.GetValue(links) == "ice" ? LinkModel.Ice : LinkModel.Modeled,
            r.GetValue(membership) == "lookup" ? MembershipMode.Lookup : MembershipMode.Presence,
            r.GetValue(signaling) == "xmpp" ? SignalingModel.Xmpp : SignalingModel.Modeled,
            new Outputs(r.GetValue(json), r.GetValue(csv), r.GetValue(trace), r.GetValue(graph))));
        return c;
    }

    private sealed record Outputs(bool Json, FileInfo? Csv, FileInfo? Trace, FileInfo? Graph);

    private static int Run(ulong? seed, string? range, LinkModel links, MembershipMode membership, SignalingModel signaling, Outputs o)
    {
        if (seed is not null && range is not null) throw new UsageException("give either --seed or --seeds, not both");
        if (range is not null && o.Trace is not null) throw new UsageException("--trace takes one seed's run: give --seed S (to trace a seed of a range, replay it with --seed S --trace FILE)");
        if (range is not null && o.Graph is not null) throw new UsageException("--export-graph takes one seed's run: give --seed S (to see a seed of a range, replay it with --seed S --export-graph FILE)");
        var (from, to) = range is null ? (seed ?? 1, seed ?? 1) : ParseRange(range);
        RunHost.RefuseSharedOutputs(("--csv", o.Csv), ("--export-graph", o.Graph), ("--trace", o.Trace));
        CsvTable.Check(o.Csv);
        using var graphWriter = RunHost.OpenForWriting(o.Graph, "--export-graph");
        using var traceWriter = RunHost.OpenForWriting(o.Trace, "--trace");
        var rows = o.Csv is null ? null : new CsvTable.Appender(o.Csv);
        Action<Simulation>? writeGraph = graphWriter is null ? null : sim => GraphMlWriter.Write(graphWriter, sim, Overlay.Capture(sim));
        bool single = range is null;
        var failed = new List<ulong>();
        var clock = Stopwatch.StartNew();
        for (ulong s = from; ; s++)
        {
            var scenario = VoprScenario.Draw(s) with { Links = links, Membership = membership, Signaling = signaling };
            var result = VoprRunner.Run(scenario, trace: traceWriter, finished: writeGraph);
            string? row = o.Json || rows is not null ? VoprReport.Json(result) : null;
            if (o.Json) Console.Out.WriteLine(row);
            else if (single || result.Violation is not null)
            {
                foreach (var line in VoprReport.Header(scenario)) Console.Out.WriteLine(line);
                foreach (var line in VoprReport.Outcome(result)) Console.Out.WriteLine(line);
            }
            else Console.Out.WriteLine(VoprReport.RangeLine(result));
            Console.Out.Flush();
            if (result.Violation is not null) failed.Add(s);
            // Row by row, so an interrupted sweep keeps the seeds it finished.
            if (rows is not null && !rows.TryAppend(CsvTable.Flatten(row!))) return CliApp.ExitBadInput;
            if (s == to) break;
        }
        traceWriter?.Flush();
        graphWriter?.Flush();
        if (o.Graph is not null && !o.Json) Console.Out.WriteLine($"overlay written to {o.Graph.FullName}");
        ulong count = to - from + 1;
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"vopr: {count} seed(s), {count - (ulong)failed.Count} ok, {failed.Count} with violations{(failed.Count > 0 ? " (seeds " + string.Join(", ", failed) + ")" : "")}");
        // --json keeps stdout to JSON objects alone.
        (o.Json ? Console.Error : Console.Out).WriteLine(summary);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vopr: {clock.Elapsed.TotalSeconds:F1} s wall"));
        return failed.Count == 0 ? CliApp.ExitOk : CliApp.ExitCheckFailed;
    }

    private static (ulong From, ulong To) ParseRange(string text)
    {
        var parts = text.Split("..");
        if (parts.Length != 2
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong a)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong b))
            throw new UsageException($"--seeds: '{text}' is not a range A..B of seeds (e.g. 1..500)");
        if (b < a) throw new UsageException($"--seeds: the range {text} is empty (B < A)");
        if (b - a >= SeedsMax) throw new UsageException($"--seeds: at most {SeedsMax} seeds per run");
        return (a, b);
    }
}
