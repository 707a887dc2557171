// Runs one simulation for a command: opens output files first (so a bad path fails before an
// hour of work), shows progress on stderr, measures wall time and peak memory, and prints the
// report. This is the only place that reads a clock, and it never feeds the simulation.
using System.Diagnostics;
using System.Globalization;
using EdgeVpn.Protocol.Core;
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

public sealed class RunHost : ISimProgress
{
    private ProgressTask? _task;
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);
    /// <summary>How long the report waits for the GC events of the run's last collections.</summary>
    private static readonly TimeSpan GcEventsWait = TimeSpan.FromSeconds(5);
    private TextWriter? _log;
    private Simulation? _sim;
    private readonly Stopwatch _lastLog = Stopwatch.StartNew();
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private double _expectedSeconds = 1;

    public static int Run(SimParameters parameters, bool json, FileInfo? csv, FileInfo? graph, FileInfo? trace, string command,
                          Func<Simulation, Report, bool> body, bool memoryCheck = true)
    {
        if (parameters.Validate() is { } problem) throw new UsageException(problem);
        if (memoryCheck && MemoryCheck.Verdict(parameters, MemoryCheck.AvailableBytes()) is { } tooBig) throw new UsageException(tooBig);
        RefuseSharedOutputs(("--csv", csv), ("--export-graph", graph), ("--trace", trace));
        CsvTable.Check(csv);
        // The GC figures are this run's, from here on (the tests run several in one process).
        using var gcPauses = new GcPauseListener();
        var gcAtStart = GcCounters.Now();
        using var graphWriter = OpenForWriting(graph, "--export-graph");
        using var traceWriter = OpenForWriting(trace, "--trace");
        var report = new Report(command);
        foreach (var (k, v) in parameters.Describe()) report.AddParameter(k, v);

        // Converging takes about the join window, the long-link delay and one protection window (trims).
        var host = new RunHost { _expectedSeconds = (parameters.JoinWindow + parameters.Topology.LongLinkDelay + parameters.Links.ProtectionWindow).TotalSeconds + 10 };
        var sim = new Simulation(parameters, traceWriter) { Progress = host };
        host._sim = sim;
        if (!ShowProgress()) host._log = Console.Error;
        // Huge pages for the heap (see HugePageAdvisor), on a thread beside the loop; the mode goes into
        // the report with the parameters because it changes the wall time (never the simulation).
        using var hugePages = new HugePageAdviceThread();
        report.AddParameter("hugePages", HugePageAdvisor.Describe());
        report.AddParameter("gcGen0Size", Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "runtime default");
        var clock = Stopwatch.StartNew();
        bool ok = false;
        Overlay? overlay = null;
        void Work()
        {
            ok = body(sim, report);
            if (graphWriter is not null) { overlay = Overlay.Capture(sim); GraphMlWriter.Write(graphWriter, sim, overlay); }
        }

        if (ShowProgress())
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx => { host._task = ctx.AddTask(command, maxValue: 1.0); Work(); host._task.Value = 1.0; });
        }
        else Work();
        clock.Stop();
        hugePages.Dispose();

        double wall = clock.Elapsed.TotalSeconds;
        var gc = GcCounters.Now() - gcAtStart;
        var pauses = gcPauses.Read(GcEventsWait);
        report.Add("events", sim.Stats.Events)
              .Add("wallSeconds", Math.Round(wall, 3))
              .Add("eventsPerSecond", Math.Round(sim.Stats.Events / Math.Max(wall, 1e-9)))
              .Add("peakMemoryMB", PeakMemoryMiB())
              // What MemoryEstimate expected before the run (the memory check's figure).
              .Add("estimatedMemoryMB", MemoryEstimate.PeakBytes(parameters) >> 20)
              // How much of the wall time went to the garbage collector (pauses of the run thread).
              .Add("gcPauseSeconds", Math.Round(gc.Pause.TotalSeconds, 3))
              // Bytes the run allocated in all (MiB), the driver of young collections.
              .Add("allocatedMB", gc.AllocatedBytes / (1024 * 1024))
              .Add("gcCollections", $"{gc.Gen0}/{gc.Gen1}/{gc.Gen2}")
              // Time inside the huge-page passes, on their own thread beside the loop (what the pages cost).
              .Add("hugePageAdviceSeconds", Math.Round(hugePages.BusyTime.TotalSeconds, 3))
              // The pauses split by what each collection collected (young only / up to gen1 / full),
              // from the runtime's GC events; gcFullCollectionsTimed equals gcCollections' third
              // figure unless an event was late (then gcFullPauseSeconds is a lower bound).
              .Add("gcPauseSecondsByGeneration", string.Join('/', pauses.Pauses.Select(p => Math.Round(p.TotalSeconds, 3).ToString(CultureInfo.InvariantCulture))))
              .Add("gcFullPauseSeconds", Math.Round(pauses.Pauses[2].TotalSeconds, 3))
              .Add("gcFullCollectionsTimed", pauses.Collections[2])
              .Add("traceHash", sim.TraceHash.ToString("x16", CultureInfo.InvariantCulture));
        if (json)
        {
            report.Add("eventsByKind", Enum.GetValues<EventKind>().ToDictionary(k => k.ToString(), k => sim.Stats.EventsByKind[(int)k]));
            report.Add("membershipByKind", Enum.GetValues<MembershipMessageKind>().ToDictionary(k => k.ToString(), k => sim.Stats.MembershipByKind[(int)k]));
            report.Add("lookups", new Dictionary<string, double>
            {
                ["answered"] = sim.Stats.LookupsAnswered,
                ["answeredMeanHops"] = Math.Round(sim.Stats.LookupAnsweredHops / Math.Max(1.0, sim.Stats.LookupsAnswered), 2),
                ["failed"] = sim.Stats.LookupsFailed,
                ["failedMeanHops"] = Math.Round(sim.Stats.LookupFailedHops / Math.Max(1.0, sim.Stats.LookupsFailed), 2),
            });
            report.Add("linkFailuresByReason", Enum.GetValues<Protocol.Links.LinkFailure>().ToDictionary(k => k.ToString(), k => sim.Stats.FailuresByReason[(int)k]));
            report.Add("linkRefusalsByCode", Enum.GetValues<Protocol.Links.LinkRefusal>().Where(k => k != Protocol.Links.LinkRefusal.None).ToDictionary(k => k.ToString(), k => sim.Stats.RefusalsByCode[(int)k]));
        }
        if (!ok && report.Problems.Count == 0) report.Problems.Add("the run did not meet its checks");

        if (json) Console.Out.WriteLine(report.ToJson());
        else
        {
            report.PrintTable(Console.Out);
            if (graph is not null) Console.Out.WriteLine($"overlay written to {graph.FullName}");
        }
        foreach (var p in report.Problems) Console.Error.WriteLine($"edgevpn-sim: check failed: {p}");
        if (csv is not null && !CsvOption.Append(csv, [report.ToJson()], json)) return CliApp.ExitBadInput;
        return ok && report.Problems.Count == 0 ? CliApp.ExitOk : CliApp.ExitCheckFailed;
    }

    public void Report(Instant now, long events, string phase)
    {
        if (_task is null)
        {
            // stderr is redirected (a batch run): a plain line at most every LogInterval of wall time.
            if (_log is null || _lastLog.Elapsed < LogInterval) return;
            _lastLog.Restart();
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"progress: {phase} t={now.TotalSeconds:F1}s events={events} unstable={_sim?.UnstableNodes} ringOk={_sim?.RingOk} wall={_wall.Elapsed.TotalSeconds:F0}s rssMiB={Environment.WorkingSet >> 20} {LastYoungCollection()}"));
            return;
        }
        _task.Description = $"{phase} t={now.TotalSeconds:F1}s events={events:N0}";
        _task.Value = Math.Min(0.99, now.TotalSeconds / _expectedSeconds);
    }

    // What the last young collection paused and kept: the log's view of why young collections cost
    // what they do at large sizes (promoted bytes are the survivors it had to mark and copy).
    private static string LastYoungCollection()
    {
        var last = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        if (last.Index == 0) return "lastYoungGc=none";
        double pauseMs = 0;
        foreach (var pause in last.PauseDurations) pauseMs += pause.TotalMilliseconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"lastYoungGc=gen{last.Generation},{pauseMs:F0}ms,promoted{last.PromotedBytes >> 20}MiB,heap{last.HeapSizeBytes >> 20}MiB");
    }

    /// <summary>The process's peak working set in MiB (2^20 bytes): the reports' peakMemoryMB, a
    /// name the issue fixed before the unit was spelled out.</summary>
    public static long PeakMemoryMiB()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.PeakWorkingSet64 / (1024 * 1024);
    }

    private static bool ShowProgress() => !Console.IsErrorRedirected;

    /// <summary>Two output options naming one file would write over each other: the trace or graph,
    /// opened first, truncates the file and the CSV's earlier rows are lost (or the row lands after
    /// a trace). Compared by the path with its links followed, before anything is opened, so another
    /// spelling or a link to the same file is caught too.</summary>
    internal static void RefuseSharedOutputs(params (string Option, FileInfo? File)[] outputs)
    {
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var named = new List<(string Option, FileInfo File, string RealPath)>();
        foreach (var (option, file) in outputs)
        {
            if (file is null) continue;
            string real = CsvTable.RealPath(file, option);
            foreach (var (earlier, earlierFile, earlierReal) in named)
                if (string.Equals(earlierReal, real, comparison))
                    throw new UsageException($"{earlier}: {earlierFile.FullName} and {option} {file.FullName} are the same file{(earlierFile.FullName == file.FullName ? "" : $" ({real})")}: one would overwrite the other; give each its own file");
            named.Add((option, file, real));
        }
    }

    internal static StreamWriter? OpenForWriting(FileInfo? file, string option)
    {
        if (file is null) return null;
        UsageErrors.CheckOutputPath(option, file.FullName);
        try
        {
            return new StreamWriter(file.FullName, append: false) { AutoFlush = false };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"{option}: cannot write {file.FullName}: {e.Message}");
        }
    }
}
