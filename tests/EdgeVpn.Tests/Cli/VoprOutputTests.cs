// vopr's outputs as a user meets them: the replay line runs as printed from the checkout, one
// seed traces, exports and prints JSON like flood, a range's lines carry the single seed's fields,
// and its table rows have command=vopr and numbers, not prose, for the fault mix.
using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using EdgeVpn.Sim.Cli;
using EdgeVpn.Sim.Vopr;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class VoprOutputTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("edgevpn-vopr-");
    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    private static string[] Lines(string text) => text.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>The checkout: the directory above the test binaries that holds scripts/sim.sh.</summary>
    private static DirectoryInfo Checkout()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "scripts", "sim.sh"))) return d;
        throw new InvalidOperationException("no scripts/sim.sh above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void The_replay_command_names_the_checkout_s_script_and_its_options_replay_the_seed_byte_for_byte()
    {
        var sc = VoprScenario.Draw(8) with
        {
            Links = EdgeVpn.Sim.LinkModel.Ice, Membership = EdgeVpn.Protocol.Topology.MembershipMode.Lookup, Signaling = EdgeVpn.Sim.SignalingModel.Xmpp,
        };
        var expected = VoprReport.Header(sc).Concat(VoprReport.Outcome(VoprRunner.Run(sc))).ToArray();
        // What a violation's `replay:` line would say for this scenario.
        string replay = VoprReport.Replay(sc);
        var words = replay.Split(' ');
        Assert.True(File.Exists(Path.Combine(Checkout().FullName, words[0])), $"'{words[0]}' does not run from the checkout");
        var (exit, stdout, stderr) = Run(words[1..]);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(expected, Lines(stdout)[..^1]);
    }

    [Fact]
    public void One_seed_s_trace_has_every_event_and_is_the_same_file_on_every_run()
    {
        var traces = new List<byte[]>();
        long events = 0;
        foreach (string name in new[] { "a.trace", "b.trace" })
        {
            var (exit, stdout, stderr) = Run("vopr", "--seed", "8", "--trace", PathOf(name), "--json");
            Assert.True(exit == 0, stdout + stderr);
            events = JsonDocument.Parse(stdout).RootElement.GetProperty("outcome").GetProperty("events").GetInt64();
            traces.Add(File.ReadAllBytes(PathOf(name)));
        }
        Assert.Equal(traces[0], traces[1]);
        Assert.Equal(events, File.ReadLines(PathOf("a.trace")).LongCount());
        Assert.Matches(@"^\d+ \w+ n=-?\d+ from=-?\d+ link=[0-9a-f]{16}$", File.ReadLines(PathOf("a.trace")).First());
    }

    [Fact]
    public void One_seed_with_json_prints_one_object_with_its_parameters_and_the_outcome_the_text_prints()
    {
        var (_, text, _) = Run("vopr", "--seed", "8");
        var (exit, stdout, stderr) = Run("vopr", "--seed", "8", "--json");
        Assert.True(exit == 0, stdout + stderr);
        var root = JsonDocument.Parse(Assert.Single(Lines(stdout))).RootElement;
        Assert.Equal("vopr", root.GetProperty("command").GetString());
        Assert.Equal(8UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal(11, root.GetProperty("nodes").GetInt32());
        var outcome = root.GetProperty("outcome");
        Assert.True(outcome.GetProperty("ok").GetBoolean());
        Assert.Contains($"settled {outcome.GetProperty("healConvergeSeconds").GetDouble().ToString("F3", CultureInfo.InvariantCulture)} s after healing", text);
        Assert.Contains($"traceHash={outcome.GetProperty("traceHash").GetString()}", text);
        Assert.Contains("vopr: 1 seed(s), 1 ok", stderr);
    }

    [Fact]
    public void A_range_with_json_prints_one_object_per_seed_and_nothing_else()
    {
        var (exit, stdout, stderr) = Run("vopr", "--seeds", "8..9", "--json");
        Assert.True(exit == 0, stdout + stderr);
        var seeds = Lines(stdout).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seed").GetUInt64());
        Assert.Equal([8UL, 9UL], seeds);
    }

    [Fact]
    public void One_seed_exports_its_final_overlay_as_graphml_with_every_live_node()
    {
        var (exit, stdout, stderr) = Run("vopr", "--seed", "8", "--export-graph", PathOf("o.graphml"), "--json");
        Assert.True(exit == 0, stdout + stderr);
        XNamespace g = "http://graphml.graphdrawing.org/xmlns";
        var doc = XDocument.Load(PathOf("o.graphml"));
        int live = JsonDocument.Parse(stdout).RootElement.GetProperty("outcome").GetProperty("liveNodes").GetInt32();
        Assert.Equal(live, doc.Descendants(g + "node").Count());
        Assert.Contains(doc.Descendants(g + "edge"), e => e.Value == "successor");
    }

    [Theory]
    [InlineData("--trace")]
    [InlineData("--export-graph")]
    public void A_range_refuses_a_one_run_output_in_one_line_before_running_and_names_the_way(string option)
    {
        var (exit, stdout, stderr) = Run("vopr", "--seeds", "1..2", option, PathOf("out"));
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(Lines(stderr));
        Assert.Contains($"--seed S {option} FILE", stderr);
        Assert.False(File.Exists(PathOf("out")));
    }

    [Fact]
    public void A_range_s_line_for_a_seed_has_the_single_seed_s_fields_and_figures()
    {
        var (_, single, _) = Run("vopr", "--seed", "3");
        var (exit, range, stderr) = Run("vopr", "--seeds", "3..3");
        Assert.True(exit == 0, range + stderr);
        // "  ok: converged and settled 127.971 s after healing; ring, flood and flows checked; live=46 ... traceHash=..."
        string ok = Lines(single).Single(l => l.StartsWith("  ok: ", StringComparison.Ordinal));
        string settled = ok[("  ok: ".Length)..ok.IndexOf(';')];
        string stats = ok[(ok.LastIndexOf("; ", StringComparison.Ordinal) + 2)..];
        Assert.Equal($"SEED=3 nodes=46 ok: {settled}; {stats}", Lines(range)[0]);
        Assert.Contains("signalsLost=", stats);
    }

    [Fact]
    public void Vopr_rows_say_command_vopr_and_keep_outcome_ok()
    {
        var (exit, stdout, stderr) = Run("vopr", "--seed", "8", "--csv", PathOf("v.csv"));
        Assert.True(exit == 0, stdout + stderr);
        var t = CsvTable.Read(File.ReadAllText(PathOf("v.csv")));
        var row = Assert.Single(t.Rows);
        Assert.Equal("vopr", row[t.Header.IndexOf("command")]);
        Assert.Equal("true", row[t.Header.IndexOf("outcome.ok")]);
    }

    [Fact]
    public void A_row_s_fault_mix_columns_are_numbers_that_agree_with_the_drawn_scenario()
    {
        // Seed 3: churn, two partitions (the second outlasts the fault phase), three spikes, two
        // outages, NAT expiries. Seed 8: no churn.
        foreach (string seed in new[] { "3", "8" })
        {
            var (exit, stdout, stderr) = Run("vopr", "--seed", seed, "--csv", PathOf("v.csv"));
            Assert.True(exit == 0, stdout + stderr);
        }
        var t = CsvTable.Read(File.ReadAllText(PathOf("v.csv")));
        double Number(List<string> row, string column) =>
            double.Parse(row[t.Header.IndexOf(column)], NumberStyles.Float, CultureInfo.InvariantCulture);

        var sc = VoprScenario.Draw(3);
        var r3 = t.Rows[0];
        Assert.All(sc.Describe(), d => Assert.Contains(d.Name, t.Header));   // the readable detail is kept
        Assert.Equal(sc.SessionMeanSeconds, Number(r3, "churnSessionMeanSeconds"));
        Assert.Equal(sc.DowntimeMeanSeconds, Number(r3, "churnDowntimeMeanSeconds"));
        Assert.Equal(sc.LeaveShare, Number(r3, "churnLeaveShare"));
        Assert.Equal(sc.LossyPaths, Number(r3, "lossyPathCount"));
        Assert.Equal(sc.LossyPathRate, Number(r3, "lossyPathLossRate"));
        Assert.Equal(2, Number(r3, "partitionCount"));
        Assert.Equal(0, Number(r3, "partitionOneWayCount"));
        Assert.Equal(77.62 + (158.499 - 105.602), Number(r3, "partitionSecondsTotal"), 6);
        Assert.Equal(3, Number(r3, "latencySpikeCount"));
        Assert.Equal(sc.Spikes.Max(s => s.Factor), Number(r3, "latencySpikeFactorMax"));
        Assert.Equal(sc.Spikes.Sum(s => s.DurationSeconds), Number(r3, "latencySpikeSecondsTotal"), 6);
        Assert.Equal(2, Number(r3, "signalingOutageCount"));
        Assert.Equal(sc.SignalingOutages.Sum(o => o.DurationSeconds), Number(r3, "signalingOutageSecondsTotal"), 6);
        Assert.Equal(sc.NatExpirySeconds.Count, Number(r3, "natExpiryCount"));
        // Healing starts faultSeconds after the first convergence, which took part of the join window and more.
        double healAt = Number(r3, "outcome.healAtSeconds");
        Assert.InRange(healAt - sc.FaultSeconds, sc.JoinWindowSeconds, sc.JoinWindowSeconds + 600);

        var r8 = t.Rows[1];
        foreach (var churn in new[] { "churnSessionMeanSeconds", "churnDowntimeMeanSeconds", "churnLeaveShare" })
            Assert.Equal("", r8[t.Header.IndexOf(churn)]);
        Assert.Equal(0, Number(r8, "partitionCount"));
        Assert.Equal(0, Number(r8, "partitionSecondsTotal"));
    }
}
