// `--csv` on nat-matrix (one row per ordered pair of presets, each with the run's fields) and on
// `bench naive-flood` (one row per run, its JSON report flattened), run in-process at small sizes:
// the rows and their columns match what --json prints, rows of another run or command extend the
// same table, and a file that is not one of our tables is refused before the run.
using System.Text.Json;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class CommandCsvTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("edgevpn-command-csv-");
    public void Dispose() => _dir.Delete(recursive: true);

    private string Table => Path.Combine(_dir.FullName, "runs.csv");

    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    private (List<string> Header, List<Dictionary<string, string>> Rows) ReadBack()
    {
        var (header, rows, error) = CsvTable.Read(File.ReadAllText(Table));
        Assert.Null(error);
        return (header, rows.Select(r => header.Zip(r).ToDictionary(c => c.First, c => c.Second)).ToList());
    }

    // What a JSON scalar becomes in a cell: numbers as written, null as an empty cell.
    private static string Cell(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Null => "",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => e.GetRawText(),
    };

    [Fact]
    public void Nat_matrix_appends_one_row_per_ordered_pair_each_carrying_the_run_and_the_pair_as_json_prints_them()
    {
        var (exit, stdout, stderr) = Run("nat-matrix", "--trials", "1", "--seed", "7", "--json", "--csv", Table);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);   // --json: stdout is the JSON alone, no "rows appended"
        var pairs = doc.RootElement.GetProperty("pairs").EnumerateArray().ToList();

        var (header, rows) = ReadBack();
        Assert.Equal(["command", "seed", "trials", "turnServer", "a", "b"], header.Take(6));
        Assert.Equal(25, rows.Count);
        Assert.Equal(25, rows.Select(r => (r["a"], r["b"])).Distinct().Count());
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(("nat-matrix", "7", "1", "true"), (rows[i]["command"], rows[i]["seed"], rows[i]["trials"], rows[i]["turnServer"]));
            foreach (var field in pairs[i].EnumerateObject())
                Assert.True(rows[i][field.Name] == Cell(field.Value), $"row {i} {field.Name}: '{rows[i][field.Name]}' in the table, {field.Value.GetRawText()} in the JSON");
            Assert.Equal(header.Count, 4 + pairs[i].EnumerateObject().Count());
        }
    }

    [Fact]
    public void A_second_nat_matrix_run_extends_the_table_and_says_so_without_json()
    {
        Assert.Equal(0, Run("nat-matrix", "--trials", "1", "--csv", Table).Exit);
        var (exit, stdout, _) = Run("nat-matrix", "--trials", "2", "--no-turn", "--csv", Table);
        Assert.Equal(0, exit);
        Assert.EndsWith($"25 rows appended to {Table}", stdout.TrimEnd());

        var (_, rows) = ReadBack();
        Assert.Equal(50, rows.Count);
        Assert.All(rows.Take(25), r => Assert.Equal(("1", "true"), (r["trials"], r["turnServer"])));
        Assert.All(rows.Skip(25), r => Assert.Equal(("2", "false"), (r["trials"], r["turnServer"])));
        // Without TURN the symmetric pairs cannot connect: the rows carry that run's own outcomes.
        Assert.Equal("0", rows.Skip(25).Single(r => r["a"] == "symmetric" && r["b"] == "symmetric")["success"]);
    }

    [Fact]
    public void Naive_flood_appends_one_row_per_run_with_every_field_of_its_json_report()
    {
        var (exit, stdout, stderr) = Run("bench", "naive-flood", "--nodes", "1000", "--json", "--csv", Table);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);

        var (header, rows) = ReadBack();
        var row = Assert.Single(rows);
        Assert.Equal("bench naive-flood", row["command"]);
        Assert.Equal(("1000", "1000", "1"), (row["nodes"], row["reached"], row["parameters.seed"]));
        foreach (var field in doc.RootElement.EnumerateObject().Where(f => f.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)))
            Assert.True(row[field.Name] == Cell(field.Value), $"{field.Name}: '{row[field.Name]}' in the table, {field.Value.GetRawText()} in the JSON");
        foreach (var parameter in doc.RootElement.GetProperty("parameters").EnumerateObject())
            Assert.Equal(parameter.Value.GetString(), row["parameters." + parameter.Name]);
        Assert.Contains("peakMemoryMB", header);
        Assert.Contains("traceHash", header);
    }

    [Fact]
    public void Naive_flood_and_nat_matrix_rows_share_one_table_which_widens_and_keeps_the_earlier_row()
    {
        var (exit, stdout, _) = Run("bench", "naive-flood", "--nodes", "1000", "--seed", "3", "--csv", Table);
        Assert.Equal(0, exit);
        Assert.EndsWith($"row appended to {Table}", stdout.TrimEnd());
        string hash = ReadBack().Rows[0]["traceHash"];
        Assert.Equal(0, Run("nat-matrix", "--trials", "1", "--csv", Table).Exit);

        var (header, rows) = ReadBack();
        Assert.Equal(26, rows.Count);
        Assert.Equal(("bench naive-flood", "3", hash, ""), (rows[0]["command"], rows[0]["parameters.seed"], rows[0]["traceHash"], rows[0]["a"]));
        Assert.All(rows.Skip(1), r => Assert.Equal(("nat-matrix", ""), (r["command"], r["traceHash"])));
        Assert.Contains("a", header);
    }

    [Theory]
    [InlineData("nat-matrix", "--trials", "1")]
    [InlineData("bench", "naive-flood", "--nodes", "1000")]
    public void A_file_that_is_not_one_of_our_tables_is_refused_before_the_run_in_one_line_and_left_as_it_was(params string[] args)
    {
        const string Notes = "my notes, not a table\n";
        File.WriteAllText(Table, Notes);
        var (exit, stdout, stderr) = Run([.. args, "--csv", Table]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);   // refused before the run: no table, no report
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith($"edgevpn-sim: --csv: {Table} is not a CSV table this tool wrote", stderr);
        Assert.Equal(Notes, File.ReadAllText(Table));
    }
}
