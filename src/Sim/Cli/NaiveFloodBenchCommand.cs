// bench naive-flood: PeerSim's classic flooding workload on our calendar-queue engine, for a
// side-by-side comparison with PeerSim 1.0.5. Builds the graph (timed apart, as buildSeconds),
// times only the event loop (loopSeconds) and reports the process's peak working set. The
// library never reads the clock; this command does, around the call. `--csv` appends the run's
// JSON report as one row (command = "bench naive-flood").
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeVpn.Sim.Experiments;
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

public static class NaiveFloodBenchCommand
{
    /// <summary>Below this many nodes a run takes about a second: no progress bar.</summary>
    private const int ProgressNodesMin = 1_000_000;

    private const string Description =
        "PeerSim's classic workload on this engine: a ring (each node linked to i-1 and i+1) plus 14 distinct random " +
        "out-links per node, all undirected (parallel links merged, as PeerSim's IdleProtocol does); node 0 floods; " +
        "a node forwards its first copy to every neighbour but the sender and counts and drops later copies; each " +
        "message's delay is an integer uniform in [10, 100] ticks (drawn per directed link by a seeded hash). " +
        "Events = messages delivered (about 29 per node). loopSeconds times the event loop only (buildSeconds the graph). " +
        "PeerSim 1.0.5 reference (OpenJDK 17, ParallelGC, on this kind of machine): 1M nodes 29.0M events in " +
        "44.5 s (651k events/s) at 1.17 GiB; 5M nodes 145M events in 289 s (502k events/s) at 6.4 GiB.";

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes", "-n") { Description = "Number of nodes", DefaultValueFactory = _ => 1_000_000 };
        UsageErrors.Range(nodes, 1, NaiveFloodGraph.NodesMax);
        var seed = new Option<ulong>("--seed", "-s") { Description = "Seed of the graph and the delays; the same seed gives the same run (traceHash)", DefaultValueFactory = _ => 1UL };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout and nothing else" };
        var csv = CsvOption.Create("the report as one row");
        var c = new Command("naive-flood", Description);
        c.Add(nodes); c.Add(seed); c.Add(json); c.Add(csv);
        c.SetAction(r => Run(r.GetValue(nodes), r.GetValue(seed), r.GetValue(json), r.GetValue(csv)));
        return c;
    }

    private static int Run(int nodes, ulong seed, bool json, FileInfo? csv)
    {
        CsvTable.Check(csv);
        var report = new Report("bench naive-flood");
        report.AddParameter("seed", seed.ToString(CultureInfo.InvariantCulture));
        report.AddParameter("nodes", nodes.ToString(CultureInfo.InvariantCulture));
        report.AddParameter("outLinks", NaiveFloodGraph.OutLinksPerNode.ToString(CultureInfo.InvariantCulture));
        report.AddParameter("delayTicks", $"{NaiveFloodGraph.DelayMinTicks}..{NaiveFloodGraph.DelayMaxTicks}");

        var clock = Stopwatch.StartNew();
        var graph = NaiveFloodGraph.Build(nodes, seed);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        long expectedEvents = graph.DegreeSum - (nodes - 1);

        NaiveFloodResult result = null!;
        double loopSeconds;
        if (!Console.IsErrorRedirected && nodes >= ProgressNodesMin)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            loopSeconds = 0;
            console.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("naive-flood", maxValue: expectedEvents);
                    clock.Restart();
                    result = NaiveFlood.Run(graph, progress: events => task.Value = events);
                    loopSeconds = clock.Elapsed.TotalSeconds;
                    task.Value = expectedEvents;
                });
        }
        else
        {
            clock.Restart();
            result = NaiveFlood.Run(graph);
            loopSeconds = clock.Elapsed.TotalSeconds;
        }

        report.Add("nodes", result.Nodes)
              .Add("links", result.Links)
              .Add("mergedLinks", result.MergedLinks)
              .Add("events", result.Events)
              .Add("reached", result.Reached)
              .Add("duplicates", result.Duplicates)
              .Add("endTicks", result.EndTicks)
              .Add("lastReachTicks", result.LastReachTicks)
              .Add("peakPending", result.PeakPending)
              .Add("buildSeconds", Math.Round(buildSeconds, 3))
              .Add("loopSeconds", Math.Round(loopSeconds, 3))
              .Add("eventsPerSecond", Math.Round(result.Events / Math.Max(loopSeconds, 1e-9)))
              .Add("peakMemoryMB", RunHost.PeakMemoryMiB())
              .Add("traceHash", result.TraceHash.ToString("x16", CultureInfo.InvariantCulture));
        if (result.Reached != nodes) report.Problems.Add($"the flood reached {result.Reached} of {nodes} nodes (the ring makes the graph connected)");
        if (result.Events != expectedEvents) report.Problems.Add($"{result.Events} events, expected degree(root) + sum of (degree - 1) = {expectedEvents}");

        if (json) Console.Out.WriteLine(report.ToJson());
        else report.PrintTable(Console.Out);
        foreach (var p in report.Problems) Console.Error.WriteLine($"edgevpn-sim: check failed: {p}");
        if (csv is not null && !CsvOption.Append(csv, [report.ToJson()], json)) return CliApp.ExitBadInput;
        return report.Problems.Count == 0 ? CliApp.ExitOk : CliApp.ExitCheckFailed;
    }
}
