// bench: the scaling curve of `flood` (converge + one broadcast). Each size runs in its own
// child process so that its peak memory is its own; prints nodes, wall seconds, events per second
// and peak MiB per size (a table, or one JSON object with a "runs" array). Its subcommand
// `bench naive-flood` is PeerSim's flooding workload on the calendar-queue engine.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated node counts", DefaultValueFactory = _ => "10000,100000,300000" };
        var seed = new Option<ulong>("--seed", "-s") { Description = "Master seed for every size", DefaultValueFactory = _ => 1UL };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout and nothing else" };
        var check = new Option<int>("--check-invariants") { Description = "After 1 event in N (1 = every event), check the invariants of the node that handled it (see flood --help)", DefaultValueFactory = _ => 1 };
        var membership = new Option<string>("--membership") { Description = "presence or lookup (see flood --help); lookup is the one that scales", DefaultValueFactory = _ => "lookup" };
        UsageErrors.OneOf(membership, "presence", "lookup");
        var csv = CsvOption.Create("one row per size, as each finishes,");
        UsageErrors.Range(check, 1, 1_000_000);
        var c = new Command("bench", "Scaling benchmark of flood (converge + broadcast): wall time, events per second and peak memory per size, each size in its own process.");
        var noMemoryCheck = new Option<bool>("--no-memory-check") { Description = "Run every size even when its estimated peak memory exceeds what this machine has available (passed to each size's run); without it, such a size refuses the whole benchmark before the first size runs" };
        c.Add(sizes); c.Add(seed); c.Add(json); c.Add(check); c.Add(membership); c.Add(csv); c.Add(noMemoryCheck);
        c.Add(NaiveFloodBenchCommand.Create());
        c.SetAction(r => Run(ParseSizes(r.GetValue(sizes)!), r.GetValue(seed), r.GetValue(json), r.GetValue(check), r.GetValue(membership)!, r.GetValue(csv), !r.GetValue(noMemoryCheck)));
        return c;
    }

    private static int[] ParseSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.All(p => p.Length == 0)) throw new UsageException("--sizes: give at least one node count");
        // An empty entry ('10,,20') is more likely a lost size than an intended one: say so.
        if (parts.Any(p => p.Length == 0)) throw new UsageException($"--sizes: '{text}' has an empty entry; give node counts separated by single commas");
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!BigInteger.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                throw new UsageException(UsageErrors.NotWholeNumber("--sizes", parts[i]));
            if (n < 1 || n > SimParameters.NodesMax)
                throw new UsageException(UsageErrors.NotInRange("--sizes", parts[i], $"1..{SimParameters.NodesMax}"));
            result[i] = (int)n;
        }
        return result;
    }

    private static int Run(int[] sizes, ulong seed, bool json, int checkEvery, string membership, FileInfo? csv, bool memoryCheck)
    {
        CsvTable.Check(csv);
        // A size the machine cannot hold would fail only after the smaller ones ran (hours at 1M).
        if (memoryCheck)
        {
            long available = MemoryCheck.AvailableBytes();
            var mode = membership == "lookup" ? Protocol.Topology.MembershipMode.Lookup : Protocol.Topology.MembershipMode.Presence;
            foreach (int n in sizes)
                if (MemoryCheck.Verdict(new SimParameters { Nodes = n, Topology = new() { Membership = mode } }, available) is { } tooBig)
                    throw new UsageException($"--sizes {n}: {tooBig}");
        }
        var runs = new List<Dictionary<string, object?>>();
        bool allOk = true, written = true;
        // Each size's row is appended as soon as it finishes: a bench stopped in its last size (the
        // longest) keeps the sizes it finished.
        var rows = csv is null ? null : new CsvTable.Appender(csv);
        foreach (int n in sizes)
        {
            string args = $"flood --nodes {n} --seed {seed} --membership {membership} --check-invariants {checkEvery} --json{(memoryCheck ? "" : " --no-memory-check")}";
            if (!json) Console.Error.WriteLine($"bench: {args} ...");
            var (exit, output) = RunChild(args, $"bench {n}: ");
            var row = new Dictionary<string, object?> { ["nodes"] = n, ["exitCode"] = exit };
            try
            {
                using var doc = JsonDocument.Parse(output);
                foreach (var key in new[] { "reached", "duplicates", "convergeSeconds", "events", "wallSeconds", "eventsPerSecond", "peakMemoryMB", "gcPauseSeconds", "gcCollections", "allocatedMB", "hugePageAdviceSeconds", "gcPauseSecondsByGeneration", "gcFullPauseSeconds", "traceHash" })
                    if (doc.RootElement.TryGetProperty(key, out var v)) row[key] = v.Clone();
            }
            catch (JsonException)
            {
                row["error"] = "the child printed no JSON";
            }
            allOk &= exit == 0;
            runs.Add(row);
            if (rows is not null)
            {
                var line = new Dictionary<string, object?> { ["command"] = "bench", ["workload"] = "flood", ["seed"] = seed, ["membership"] = membership, ["invariantCheckEvery"] = checkEvery };
                foreach (var (k, v) in row) line[k] = v;
                written &= rows.TryAppend(CsvTable.Flatten(JsonSerializer.Serialize(line)));
            }
        }

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?> { ["command"] = "bench", ["workload"] = "flood", ["seed"] = seed, ["membership"] = membership, ["invariantCheckEvery"] = checkEvery, ["runs"] = runs }));
        }
        else
        {
            var table = new Table().AddColumns("nodes", "reached", "dups", "conv s", "events", "wall s", "ev/s", "peak MiB", "GC pause s", "exit");
            foreach (var row in runs)
                table.AddRow(new[] { "nodes", "reached", "duplicates", "convergeSeconds", "events", "wallSeconds", "eventsPerSecond", "peakMemoryMB", "gcPauseSeconds", "exitCode" }
                    .Select(k => Markup.Escape(row.TryGetValue(k, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "-" : "-")).ToArray());
            TableConsole.Stdout().Write(table);
        }
        if (csv is not null && written && !json) Console.Out.WriteLine($"{runs.Count} rows appended to {csv.FullName}");
        if (!written) return CliApp.ExitBadInput;
        return allOk ? CliApp.ExitOk : CliApp.ExitCheckFailed;
    }

    /// <summary>The first GC generation per heap, as scripts/sim.sh sets it (256 MiB): children get it
    /// when the user set none.</summary>
    internal const string Gen0Size = "0x10000000";

    /// <summary>Runs this same program with other arguments; returns its exit code and stdout. The
    /// child's stderr (its progress lines every 30 s, its errors) is passed on as it comes, each line
    /// prefixed: a size runs for minutes, and a silent bench cannot be told from a hung one.</summary>
    private static (int Exit, string Output) RunChild(string arguments, string stderrPrefix)
    {
        string exe = Environment.ProcessPath ?? throw new UsageException("cannot locate this program to run child benchmarks");
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            start.FileName = exe;
            start.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        }
        else start.FileName = exe;
        // See scripts/sim.sh: the runtime reads the gen0 budget only from the environment, which
        // children inherit; one started without the script gets the script's value.
        if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null)
            start.Environment["DOTNET_GCgen0size"] = Gen0Size;
        foreach (var a in arguments.Split(' ')) start.ArgumentList.Add(a);
        using var child = new Process { StartInfo = start };
        child.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine(stderrPrefix + line); };
        if (!child.Start()) throw new UsageException("could not start a child benchmark process");
        child.BeginErrorReadLine();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();   // also waits for the last stderr line to be passed on
        return (child.ExitCode, stdout);
    }
}
