// edgevpn-sim as a user meets it: exit codes, one-line errors, the JSON object, GraphML export.
// These tests swap the process's Console writers, so they share one collection (run serially).
using System.Text.Json;
using System.Xml.Linq;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class CommandLineTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    [Fact]
    public void An_unknown_option_gives_one_line_and_exit_code_2()
    {
        var (exit, stdout, stderr) = Run("flood", "--nodse", "10");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("--nodse", stderr);
    }

    [Theory]
    [InlineData("flod")]
    public void A_misspelled_command_is_named_as_unrecognized_and_not_as_missing(params string[] args)
    {
        var (exit, _, stderr) = Run(args);
        Assert.Equal(2, exit);
        Assert.Equal($"edgevpn-sim: Unrecognized command or argument '{args[^1]}'. (see --help)", stderr.Trim());
    }

    [Theory]
    [InlineData("flood", "--nodes", "0")]
    [InlineData("flood", "--nodes", "-5")]
    [InlineData("flood", "--nodes", "ten")]
    [InlineData("route", "--long-links", "99")]
    [InlineData("converge", "--sampler", "uniform")]
    [InlineData("bench", "--sizes", "10,abc")]
    [InlineData("nat-matrix", "--trials", "0")]
    [InlineData("vopr", "--seeds", "5..2")]
    [InlineData("vopr", "--seeds", "1-3")]
    [InlineData("vopr", "--seed", "1", "--seeds", "1..2")]
    [InlineData("bench", "naive-flood", "--nodes", "0")]
    [InlineData("bench", "naive-flood", "--nodes", "many")]
    [InlineData("bench", "naive-flood", "--nodes", "50000001")]
    [InlineData("bench", "naive-flood", "--seed", "-1")]
    [InlineData("flood", "--links", "packets")]
    [InlineData("vopr", "--seed", "1", "--links", "packets")]
    [InlineData("flood", "--signaling", "stanzas")]
    [InlineData("vopr", "--seed", "1", "--signaling", "prosody")]
    public void Out_of_range_or_malformed_numbers_give_exit_code_2_without_a_stack_trace(params string[] args)
    {
        var (exit, _, stderr) = Run(args);
        Assert.Equal(2, exit);
        Assert.StartsWith("edgevpn-sim:", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Theory]
    [InlineData("converge", "--links", "ice", "100001")]
    [InlineData("flood", "--signaling", "xmpp", "2501")]
    public void Packet_and_stanza_level_modes_above_their_node_bound_are_refused_in_one_line_naming_the_option(string command, string option, string value, string nodes)
    {
        var (exit, stdout, stderr) = Run(command, option, value, "--nodes", nodes);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"{option} {value}", stderr);
    }

    [Theory]
    [InlineData("flood", "--links", "ice")]
    [InlineData("converge", "--signaling", "xmpp")]
    [InlineData("vopr", "--signaling", "xmpp")]
    public void Help_describes_both_models_of_links_and_of_signaling(string command, string option, string packetLevel)
    {
        var (exit, stdout, _) = Run(command, "--help");
        Assert.Equal(0, exit);
        Assert.Contains(option, stdout);
        Assert.Contains("modeled", stdout);
        Assert.Contains(packetLevel, stdout);
    }

    // 50M lookup nodes need about 580 GiB by MemoryEstimate: more than any machine this runs on.
    [Theory]
    [InlineData("flood", "--nodes", "50000000", "--membership", "lookup")]
    [InlineData("converge", "--nodes", "50000000")]
    [InlineData("bench", "--sizes", "1000,50000000")]
    public void A_run_the_machine_cannot_hold_is_refused_at_once_with_its_estimate_and_the_way_around(params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));   // bench ran no size before refusing
        Assert.Matches(@"needs about \d+ GiB of memory at its peak .* this machine has [\d.]+ GiB available", stderr);
        Assert.Contains("--no-memory-check", stderr);
    }

    [Theory]
    [InlineData("flood")]
    [InlineData("bench")]
    public void Help_offers_the_way_around_the_memory_check(string command)
    {
        var (exit, stdout, _) = Run(command, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--no-memory-check", stdout);
    }

    // Symmetric NATs and no TURN server: no link can be set up, so nothing converges and nothing is timed.
    [Fact]
    public void A_run_that_did_not_converge_or_time_anything_reports_null_not_a_placeholder_number()
    {
        var (exit, stdout, _) = Run("converge", "--nodes", "20", "--nat-mix", "symmetric=1", "--no-turn", "--json");
        Assert.Equal(1, exit);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("converged").GetBoolean());
        foreach (var field in new[] { "convergeSeconds", "settleSeconds", "medianSetupMs", "p90SetupMs", "meanSetupMs" })
            Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
    }

    [Fact]
    public void A_standard_output_that_cannot_be_written_is_an_I_O_error_not_an_internal_one()
    {
        var (exit, _, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--nodes", "5", "--json"], new FullWriter());
        Assert.Equal(2, exit);
        Assert.Equal("edgevpn-sim: I/O error: No space left on device", stderr.Trim());
    }

    [Fact]
    public void An_unwritable_output_file_is_refused_before_the_run()
    {
        var (exit, stdout, stderr) = Run("flood", "--nodes", "50", "--export-graph", "/nonexistent-dir/x/overlay.graphml");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("--export-graph", stderr);
    }

    [Fact]
    public void Flood_with_json_prints_exactly_one_object_with_the_promised_fields()
    {
        var (exit, stdout, _) = Run("flood", "--nodes", "300", "--seed", "4", "--json", "--join-window", "2");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        foreach (var field in new[] { "nodes", "converged", "reached", "duplicates", "maxHops", "meanHops", "messages", "events", "wallSeconds", "eventsPerSecond", "peakMemoryMB", "gcPauseSeconds", "gcCollections", "allocatedMB", "hugePageAdviceSeconds", "gcPauseSecondsByGeneration", "gcFullPauseSeconds", "gcFullCollectionsTimed", "estimatedMemoryMB", "traceHash" })
            Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
        Assert.Equal(300, root.GetProperty("reached").GetInt32());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt32());
        Assert.Equal("4", root.GetProperty("parameters").GetProperty("seed").GetString());
        Assert.Single(stdout.Trim().Split('\n'));
    }

    [Fact]
    public void Bench_naive_flood_with_json_prints_exactly_one_object_with_the_promised_fields()
    {
        var (exit, stdout, stderr) = Run("bench", "naive-flood", "--nodes", "1000", "--seed", "9", "--json");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Single(stdout.Trim().Split('\n'));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        foreach (var field in new[] { "nodes", "events", "reached", "duplicates", "buildSeconds", "loopSeconds", "eventsPerSecond", "peakMemoryMB", "traceHash" })
            Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
        Assert.Equal(1000, root.GetProperty("nodes").GetInt32());
        Assert.Equal(1000, root.GetProperty("reached").GetInt32());
        long events = root.GetProperty("events").GetInt64();
        Assert.InRange(events, 28_000, 30_000); // about 29 per node
        Assert.Equal(events - 999, root.GetProperty("duplicates").GetInt64());
        Assert.Equal("9", root.GetProperty("parameters").GetProperty("seed").GetString());
        var again = Run("bench", "naive-flood", "--nodes", "1000", "--seed", "9", "--json");
        using var doc2 = JsonDocument.Parse(again.Out);
        Assert.Equal(root.GetProperty("traceHash").GetString(), doc2.RootElement.GetProperty("traceHash").GetString());
    }

    [Fact]
    public void Bench_help_keeps_its_own_options_and_names_the_naive_flood_subcommand_with_the_PeerSim_reference()
    {
        var (exit, stdout, _) = Run("bench", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--sizes", stdout);
        Assert.Contains("naive-flood", stdout);
        (exit, stdout, _) = Run("bench", "naive-flood", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("PeerSim 1.0.5", stdout);
        Assert.Contains("--nodes", stdout);
    }

    [Fact]
    public void The_exported_graph_is_GraphML_with_every_node_and_typed_edges()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgevpn-test-{Environment.ProcessId}.graphml");
        try
        {
            var (exit, _, _) = Run("converge", "--nodes", "120", "--json", "--join-window", "1", "--export-graph", path);
            Assert.Equal(0, exit);
            XNamespace g = "http://graphml.graphdrawing.org/xmlns";
            var doc = XDocument.Load(path);
            var nodes = doc.Descendants(g + "node").ToList();
            var edges = doc.Descendants(g + "edge").ToList();
            Assert.Equal(120, nodes.Count);
            Assert.True(edges.Count >= 120 * 2, $"{edges.Count} edges");
            var types = edges.Select(e => e.Elements(g + "data").Single(d => (string?)d.Attribute("key") == "type").Value).ToHashSet();
            Assert.Contains("successor", types);
            Assert.Contains("long", types);
            Assert.All(nodes, n => Assert.Matches("^[0-9a-f]{32}$", n.Elements(g + "data").First().Value));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var (exit, stdout, _) = Run("--help");
        Assert.Equal(0, exit);
        foreach (var c in new[] { "converge", "flood", "route", "bench", "vopr", "nat-matrix" }) Assert.Contains(c, stdout);
    }

    [Fact]
    public void Vopr_prints_the_seed_first_then_every_parameter_and_a_summary()
    {
        var (exit, stdout, _) = Run("vopr", "--seed", "8");
        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal("SEED=8", lines[0].TrimEnd());
        Assert.Contains(lines, l => l.Contains("lossRate="));
        Assert.Contains(lines, l => l.Contains("ok: converged"));
        Assert.StartsWith("vopr: 1 seed(s), 1 ok, 0 with violations", lines[^1]);
    }

    [Fact]
    public void Vopr_over_a_range_prints_one_line_per_seed()
    {
        var (exit, stdout, _) = Run("vopr", "--seeds", "8..10");
        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("SEED=9 ", lines[1]);
    }

    [Fact]
    public void Nat_matrix_with_json_prints_every_pair_with_prediction_and_outcome()
    {
        var (exit, stdout, _) = Run("nat-matrix", "--trials", "1", "--no-turn", "--json");
        Assert.Equal(0, exit);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var pairs = doc.RootElement.GetProperty("pairs");
        Assert.Equal(25, pairs.GetArrayLength());
        var symSym = pairs.EnumerateArray().Single(p => p.GetProperty("a").GetString() == "symmetric" && p.GetProperty("b").GetString() == "symmetric");
        Assert.Equal("Fails", symSym.GetProperty("measured").GetString());
        Assert.Contains("no TURN server", symSym.GetProperty("note").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, symSym.GetProperty("medianSetupMs").ValueKind);
        // A connected pair's setup time holds its ICE time and the DTLS handshake after it.
        var publicPair = pairs.EnumerateArray().First(p => p.GetProperty("a").GetString() == "none");
        Assert.True(publicPair.GetProperty("medianSetupMs").GetDouble() > publicPair.GetProperty("medianIceMs").GetDouble());
    }

    // The trace or graph, opened first, truncated the table the CSV row then went into.
    [Theory]
    [InlineData("--csv", "table.csv", "--trace", "table.csv")]
    [InlineData("--csv", "table.csv", "--export-graph", "sub/../table.csv")]
    [InlineData("--csv", "link.csv", "--trace", "table.csv")]
    [InlineData("--csv", "table.csv", "--export-graph", "linked-dir/table.csv")]
    [InlineData("--trace", "out.txt", "--export-graph", "out.txt")]
    public void Two_output_options_naming_one_file_are_refused_before_anything_is_written(string first, string firstPath, string second, string secondPath)
    {
        var dir = Directory.CreateTempSubdirectory("edgevpn-outputs-");
        try
        {
            string table = Path.Combine(dir.FullName, "table.csv");
            CsvTable.Append(new FileInfo(table), [new("command", "flood"), new("seed", "1")]);
            string before = File.ReadAllText(table);
            dir.CreateSubdirectory("sub");
            File.CreateSymbolicLink(Path.Combine(dir.FullName, "link.csv"), "table.csv");
            Directory.CreateSymbolicLink(Path.Combine(dir.FullName, "linked-dir"), dir.FullName);
            var (exit, stdout, stderr) = Run("flood", "--nodes", "5", first, dir.FullName + "/" + firstPath, second, dir.FullName + "/" + secondPath);
            Assert.Equal(2, exit);
            Assert.Equal("", stdout);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith(first == "--csv" ? "edgevpn-sim: --csv: " : "edgevpn-sim: --", stderr);
            Assert.Contains(first, stderr);
            Assert.Contains(second, stderr);
            Assert.Equal(before, File.ReadAllText(table));
            Assert.False(File.Exists(Path.Combine(dir.FullName, "out.txt")));
        }
        finally { dir.Delete(recursive: true); }
    }

    // The finder's --csv /proc/x ran to the end, then named /proc/x.tmp.
    [Fact]
    public void An_unwritable_csv_path_is_refused_before_the_run_without_naming_a_file_the_user_never_gave()
    {
        var (exit, stdout, stderr) = Run("flood", "--nodes", "30", "--csv", "/proc/edgevpn-test-table.csv");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("edgevpn-sim: --csv: cannot create /proc/edgevpn-test-table.csv", stderr);
        Assert.DoesNotContain(".tmp", stderr);
    }
}
