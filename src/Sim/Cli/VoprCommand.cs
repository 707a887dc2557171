// vopr: the swarm runner. `--seed S` runs one scenario drawn from S and prints every parameter
// and the outcome; `--seeds A..B` runs each seed in turn (one outcome line per seed, the full
// report for any violation) and ends with a summary. Exit 1 when any seed finds a violation.
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
        var seed = new Option<ulong?>("--seed", "-s") { Description = "Run the one scenario drawn from this seed (prints SEED= and every parameter first)" };
        var seeds = new Option<string?>("--seeds") { Description = "Run every seed in an inclusive range A..B, e.g. 1..500" };
        var c = new Command("vopr", "Swarm testing: each seed draws an overlay size and a fault mix (churn, crashes, loss, duplication, partitions, latency spikes, signaling outages), runs a fault phase, heals, and requires convergence within a bound; checks ring correctness, exactly-once flooding, no flow loops or black holes, no dangling link setup and bounded per-node memory. Exit 1 on any violation.");
        var links = new Option<string>("--links") { Description = "Link setups: modeled (from the NAT prediction) or ice (every link end runs the real ICE agent through the virtual NATs and STUN/TURN servers; about 40x slower); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "modeled" };
        links.AcceptOnlyFromAmong("modeled", "ice");
        var membership = new Option<string>("--membership") { Description = "How members find each other: presence (EdgeVPN's roster to every member) or lookup (Symphony: join through a member, greedy lookups, stabilization, estimated n); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "presence" };
        membership.AcceptOnlyFromAmong("presence", "lookup");
        var signaling = new Option<string>("--signaling") { Description = "The signaling server: modeled (message level) or xmpp (every node runs the real XMPP client session against the stanza-level virtual XMPP server: logins, presence, signals as stanzas; outages close the streams and clients reconnect with back-off); the scenarios drawn from each seed are the same", DefaultValueFactory = _ => "modeled" };
        signaling.AcceptOnlyFromAmong("modeled", "xmpp");
        var csv = new Option<FileInfo?>("--csv") { Description = "Append one row per seed to this CSV file: every drawn parameter and the outcome (ok or the checker, heal time, faults, events, traceHash)" };
        c.Add(seed); c.Add(seeds); c.Add(links); c.Add(membership); c.Add(signaling); c.Add(csv);
        c.SetAction(r => Run(r.GetValue(seed), r.GetValue(seeds), r.GetValue(links) == "ice" ? LinkModel.Ice : LinkModel.Modeled,
            r.GetValue(membership) == "lookup" ? MembershipMode.Lookup : MembershipMode.Presence,
            r.GetValue(signaling) == "xmpp" ? SignalingModel.Xmpp : SignalingModel.Modeled, r.GetValue(csv)));
        return c;
    }

    private static int Run(ulong? seed, string? range, LinkModel links, MembershipMode membership, SignalingModel signaling, FileInfo? csv)
    {
        CsvTable.Check(csv);
        var rows = csv is null ? null : new CsvTable.Appender(csv);
        if (seed is not null && range is not null) throw new UsageException("give either --seed or --seeds, not both");
        var (from, to) = range is null ? (seed ?? 1, seed ?? 1) : ParseRange(range);
        bool single = range is null;
        var failed = new List<ulong>();
        var clock = Stopwatch.StartNew();
        for (ulong s = from; ; s++)
        {
            var scenario = VoprScenario.Draw(s) with { Links = links, Membership = membership, Signaling = signaling };
            var result = VoprRunner.Run(scenario);
            if (single || result.Violation is not null)
            {
                foreach (var line in VoprReport.Header(scenario)) Console.Out.WriteLine(line);
                foreach (var line in VoprReport.Outcome(result)) Console.Out.WriteLine(line);
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SEED={s} nodes={scenario.Nodes} ok healConverge={result.HealConvergeSeconds:F1}s crashes={result.Crashes} leaves={result.Leaves} lost={result.DatagramsLost} events={result.Events} traceHash={result.TraceHash:x16}"));
            }
            Console.Out.Flush();
            if (result.Violation is not null) failed.Add(s);
            // Row by row, so an interrupted sweep keeps the seeds it finished.
            if (rows is not null && !rows.TryAppend(VoprReport.Row(result))) return CliApp.ExitBadInput;
            if (s == to) break;
        }
        ulong count = to - from + 1;
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"vopr: {count} seed(s), {count - (ulong)failed.Count} ok, {failed.Count} with violations{(failed.Count > 0 ? " (seeds " + string.Join(", ", failed) + ")" : "")}");
        Console.Out.WriteLine(summary);
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
