// What the README promises about two report outputs: `gcCollections` counts the collections
// during the run only (counters read before and after it), and `--trace` writes one line per event
// as `<virtual ns> <kind> n=<node> from=<node> link=<16 hex digits>`.
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeVpn.Sim;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class ReportFormatTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    [Fact]
    public void GcCollections_counts_only_the_collections_during_the_run_each_generation_including_the_older_ones()
    {
        int fullBefore = GC.CollectionCount(2);
        for (int i = 0; i < 3; i++) GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        int fullAfterForced = GC.CollectionCount(2);
        var (exit, stdout, stderr) = Run("flood", "--nodes", "100", "--json");
        Assert.True(exit == 0, stderr);
        int fullAtEnd = GC.CollectionCount(2);

        using var doc = JsonDocument.Parse(stdout);
        int[] counts = doc.RootElement.GetProperty("gcCollections").GetString()!.Split('/').Select(int.Parse).ToArray();
        Assert.Equal(3, counts.Length);
        Assert.True(fullAfterForced - fullBefore >= 3);
        // The three forced before the run are not in it: at most what happened after them.
        Assert.InRange(counts[2], 0, fullAtEnd - fullAfterForced);
        Assert.True(counts[0] >= counts[1] && counts[1] >= counts[2], $"gcCollections {string.Join('/', counts)}");
    }

    [Fact]
    public void The_trace_has_one_line_per_event_in_time_order_as_virtual_ns_kind_node_sender_and_link()
    {
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), $"edgevpn-trace-{Guid.NewGuid():N}.txt"));
        try
        {
            var (exit, stdout, stderr) = Run("flood", "--nodes", "30", "--json", "--trace", file.FullName);
            Assert.True(exit == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var lines = File.ReadAllLines(file.FullName);
            Assert.Equal(doc.RootElement.GetProperty("events").GetInt64(), lines.Length);

            var format = new Regex(@"^(\d+) (\w+) n=(-?\d+) from=(-?\d+) link=[0-9a-f]{16}$");
            var kinds = Enum.GetNames<EventKind>().ToHashSet();
            long previous = 0;
            foreach (string line in lines)
            {
                var m = format.Match(line);
                Assert.True(m.Success, $"'{line}' is not <ns> <kind> n=<node> from=<node> link=<16 hex>");
                Assert.Contains(m.Groups[2].Value, kinds);
                long ns = long.Parse(m.Groups[1].Value);
                Assert.True(ns >= previous, $"'{line}' comes before {previous} ns");
                previous = ns;
                Assert.InRange(int.Parse(m.Groups[3].Value), -1, 29);
                Assert.InRange(int.Parse(m.Groups[4].Value), -1, 29);
            }
        }
        finally { file.Delete(); }
    }
}
