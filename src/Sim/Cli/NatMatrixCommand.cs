// nat-matrix: the packet-level link-setup matrix over the NAT presets (see NatMatrixExperiment).
// Exit 1 when a pair's measured majority outcome differs from the RFC 4787 prediction.
// `--csv` appends one row per ordered pair (25): the run's command, seed, trials and turnServer,
// then that pair's fields as in the JSON's "pairs" (a sweep over seeds or trials stays one table).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeVpn.Sim.Experiments;
using EdgeVpn.Sim.Net;
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

public static class NatMatrixCommand
{
    public static Command Create()
    {
        var trials = new Option<int>("--trials", "-t") { Description = "Link setups per ordered pair of presets", DefaultValueFactory = _ => 20 };
        UsageErrors.Range(trials, 1, NatMatrixExperiment.TrialsMax);
        var seed = new Option<ulong>("--seed", "-s") { Description = "Master seed (forked per pair and per trial)", DefaultValueFactory = _ => 1UL };
        var noTurn = new Option<bool>("--no-turn") { Description = "Run without a TURN server: pairs that need a relay then fail, and the report says so" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout and nothing else" };
        var csv = CsvOption.Create("one row per ordered pair of presets (command, seed, trials, turnServer, then the pair's fields as in --json)");
        var c = new Command("nat-matrix",
            "For every ordered pair of NAT presets (none, full-cone, restricted-cone, port-restricted, symmetric; A controlling), run link setups at packet level: "
            + "the real ICE agent through virtual RFC 4787 NAT boxes with a STUN and a TURN server. Reports the share that connects, direct and relayed, "
            + "the median setup time (ICE, then the DTLS handshake over the selected pair as the real node runs it: until the link is usable at both ends) and of ICE alone, "
            + "and the RFC 4787 prediction; exit 1 when an outcome contradicts the prediction.");
        c.Add(trials); c.Add(seed); c.Add(noTurn); c.Add(json); c.Add(csv);
        c.SetAction(r => Run(r.GetValue(trials), r.GetValue(seed), !r.GetValue(noTurn), r.GetValue(json), r.GetValue(csv)));
        return c;
    }

    private static int Run(int trials, ulong seed, bool turn, bool json, FileInfo? csv)
    {
        CsvTable.Check(csv);
        var clock = Stopwatch.StartNew();
        List<NatMatrixCell> cells;
        if (!json && !Console.IsErrorRedirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            cells = [];
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("nat-matrix", maxValue: NatPresets.Names.Count * NatPresets.Names.Count);
                cells = NatMatrixExperiment.Run(trials, seed, turn, (done, _) => task.Value = done);
            });
        }
        else cells = NatMatrixExperiment.Run(trials, seed, turn);
        double wall = clock.Elapsed.TotalSeconds;
        var mismatches = cells.Where(x => !x.MatchesPrediction).ToList();

        if (json)
        {
            var doc = RunFields(seed, trials, turn);
            doc.Add("pairs", cells.Select(x => PairFields(x, turn)).ToList());
            doc.Add("mismatches", mismatches.Count);
            doc.Add("wallSeconds", Math.Round(wall, 3));
            Console.Out.WriteLine(JsonSerializer.Serialize(doc));
        }
        else
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nat-matrix: seed {seed}, {trials} trials per pair, TURN server {(turn ? "on" : "off")}"));
            var table = new Table().AddColumns("A (controlling)", "B (controlled)", "success", "direct", "relayed", "median setup ms", "of it ICE ms", "predicted", "measured", "note");
            foreach (var x in cells)
                table.AddRow(x.A, x.B, Pct(x.Connected, x.Trials), Pct(x.Direct, x.Trials), Pct(x.Relayed, x.Trials),
                    Ms(x.MedianSetupMs), Ms(x.MedianIceMs),
                    x.Predicted.ToString(), x.Measured.ToString(), Markup.Escape(Note(x, turn) ?? ""));
            TableConsole.Stdout().Write(table);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cells.Count - mismatches.Count} of {cells.Count} pairs as predicted; {wall:F1} s wall"));
        }
        foreach (var m in mismatches)
            Console.Error.WriteLine($"edgevpn-sim: check failed: {m.A} -> {m.B}: predicted {m.Predicted}, measured {m.Measured} ({m.Connected}/{m.Trials} connected){(m.FailureSample is { } f ? "; e.g. " + f : "")}");
        if (csv is not null && !CsvOption.Append(csv, cells.Select(x => CsvRow(seed, trials, turn, x)), json)) return CliApp.ExitBadInput;
        return mismatches.Count == 0 ? CliApp.ExitOk : CliApp.ExitCheckFailed;
    }

    /// <summary>What identifies the run: the JSON object's first fields and every CSV row's.</summary>
    private static Dictionary<string, object?> RunFields(ulong seed, int trials, bool turn) => new()
    {
        ["command"] = "nat-matrix",
        ["seed"] = seed,
        ["trials"] = trials,
        ["turnServer"] = turn,
    };

    private static Dictionary<string, object?> PairFields(NatMatrixCell x, bool turn) => new()
    {
        ["a"] = x.A, ["b"] = x.B,
        ["success"] = Math.Round((double)x.Connected / x.Trials, 4),
        ["direct"] = Math.Round((double)x.Direct / x.Trials, 4),
        ["relayed"] = Math.Round((double)x.Relayed / x.Trials, 4),
        ["medianSetupMs"] = double.IsNaN(x.MedianSetupMs) ? null : Math.Round(x.MedianSetupMs, 1),
        ["medianIceMs"] = double.IsNaN(x.MedianIceMs) ? null : Math.Round(x.MedianIceMs, 1),
        ["predicted"] = x.Predicted.ToString(),
        ["measured"] = x.Measured.ToString(),
        ["matchesPrediction"] = x.MatchesPrediction,
        ["note"] = Note(x, turn),
    };

    private static string CsvRow(ulong seed, int trials, bool turn, NatMatrixCell x)
    {
        var row = RunFields(seed, trials, turn);
        foreach (var (k, v) in PairFields(x, turn)) row[k] = v;
        return JsonSerializer.Serialize(row);
    }

    private static string Ms(double ms) => double.IsNaN(ms) ? "-" : ms.ToString("F0", CultureInfo.InvariantCulture);

    private static string Pct(int n, int of) => ((double)n / of).ToString("P0", CultureInfo.InvariantCulture);

    private static string? Note(NatMatrixCell x, bool turn) =>
        x.Measured == IcePath.Fails && !turn && x.Predicted == IcePath.Fails ? "fails: these NATs need a relay and no TURN server is configured"
        : x.Measured == IcePath.Fails ? x.FailureSample
        : null;
}
