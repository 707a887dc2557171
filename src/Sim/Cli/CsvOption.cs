// `--csv FILE` as every command offers it: one description (only what a row is differs between
// commands) and one way to append a run's rows and say so. Contract: rows are JSON objects,
// flattened by CsvTable.Flatten; all of a run's rows go through one CsvTable.Appender (the file is
// read once, not once per row); a table that cannot be written is said in one line on stderr and
// gives false, since the run's report is on stdout either way. CsvTable.Check runs before the run.
using System.CommandLine;

namespace EdgeVpn.Sim.Cli;

public static class CsvOption
{
    /// <summary>The --csv option; rows says what the command appends ("the report as one row").</summary>
    public static Option<FileInfo?> Create(string rows) => new("--csv")
    {
        Description = $"Append {rows} to this CSV file (a header first when the file is new; columns the file lacks widen it, earlier rows kept); a sweep of runs collects into one table",
    };

    /// <summary>Appends every row (a JSON object each), then, unless quiet (--json: stdout holds the
    /// JSON only), says how many rows went where; false when the table could not be written.</summary>
    public static bool Append(FileInfo csv, IEnumerable<string> rowsJson, bool quiet)
    {
        var table = new CsvTable.Appender(csv);
        int count = 0;
        foreach (string row in rowsJson)
        {
            if (!table.TryAppend(CsvTable.Flatten(row))) return false;
            count++;
        }
        if (!quiet) Console.Out.WriteLine(count == 1 ? $"row appended to {csv.FullName}" : $"{count} rows appended to {csv.FullName}");
        return true;
    }
}
