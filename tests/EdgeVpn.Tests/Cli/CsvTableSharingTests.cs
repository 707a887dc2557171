// `--csv FILE` shared: writers at once (threads, another process) each keep every row under the
// union header; an appender never writes under a header another writer has since widened; a table
// with a second hard link is widened under both names; a lock held too long fails the append in
// one line naming the file, after a bound, and writes nothing.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using EdgeVpn.Platform;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

public sealed class CsvTableSharingTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("edgevpn-csv-shared-");
    public void Dispose() => _dir.Delete(recursive: true);

    private FileInfo File(string name) => new(Path.Combine(_dir.FullName, name));

    private static List<KeyValuePair<string, string>> Row(params (string Key, string Value)[] cells) =>
        cells.Select(c => new KeyValuePair<string, string>(c.Key, c.Value)).ToList();

    private static (List<string> Header, List<Dictionary<string, string>> Rows) ReadBack(FileInfo f)
    {
        var t = CsvTable.Read(System.IO.File.ReadAllText(f.FullName));
        Assert.Null(t.Error);
        return (t.Header, t.Rows.Select(r => t.Header.Zip(r).ToDictionary(p => p.First, p => p.Second)).ToList());
    }

    [Fact]
    public async Task Writers_on_many_threads_at_once_leave_every_row_once_under_the_union_of_their_columns()
    {
        const int Writers = 4, RowsEach = 30;
        var f = File("shared.csv");
        using var start = new Barrier(Writers);
        var expectedColumns = new HashSet<string> { "command", "writer", "row" };
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(() =>
        {
            var appender = new CsvTable.Appender(f);   // half the writers keep one, so its cached header is put to the test
            start.SignalAndWait();
            for (int i = 0; i < RowsEach; i++)
            {
                var row = Row(("command", "flood"), ("writer", $"{w}"), ("row", $"{i}"));
                if (i % 3 == 0) row.Add(new($"w{w}.r{i}", "new"));   // a widening: the file is rewritten
                if (w % 2 == 0) appender.Append(row);
                else CsvTable.Append(f, row);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        for (int w = 0; w < Writers; w++)
            for (int i = 0; i < RowsEach; i += 3) expectedColumns.Add($"w{w}.r{i}");
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));

        var (header, rows) = ReadBack(f);
        Assert.Equal(expectedColumns.Order(), header.Order());
        Assert.Equal(Writers * RowsEach, rows.Count);
        var written = rows.Select(r => (r["writer"], r["row"])).ToList();
        Assert.Equal(written.Count, written.Distinct().Count());
        foreach (var r in rows)
        {
            // Each row's cells stayed under their own columns through every widening.
            string own = $"w{r["writer"]}.r{r["row"]}";
            Assert.All(header.Where(c => c.StartsWith('w') && c.Contains(".r")), c => Assert.Equal(c == own ? "new" : "", r[c]));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_appender_writes_its_next_row_under_the_header_another_writer_widened_since(bool hardLinked)
    {
        var f = File("t.csv");
        var appender = new CsvTable.Appender(f);
        appender.Append(Row(("command", "vopr"), ("seed", "1")));
        if (hardLinked) Assert.Equal(0, link(f.FullName, File("other-name.csv").FullName));   // widened in place, not renamed
        CsvTable.Append(f, Row(("command", "flood"), ("extra", "x")));
        appender.Append(Row(("command", "vopr"), ("seed", "2")));   // its cached header lacks `extra`
        var (header, rows) = ReadBack(f);
        Assert.Equal(["command", "seed", "extra"], header);
        Assert.Equal(["1", "", "2"], rows.Select(r => r["seed"]));
        Assert.Equal(["", "x", ""], rows.Select(r => r["extra"]));
    }

    [Fact]
    public void Widening_a_table_with_a_second_hard_link_shows_the_new_table_under_both_names()
    {
        var table = File("t.csv");
        var other = File("same-table.csv");
        System.IO.File.WriteAllText(table.FullName, "command,note\r\nold,keep me\r\n");
        Assert.Equal(0, link(table.FullName, other.FullName));
        CsvTable.Append(table, Row(("command", "flood"), ("reached", "20")));
        const string Expected = "command,note,reached\r\nold,keep me,\r\nflood,,20\r\n";
        Assert.Equal(Expected, System.IO.File.ReadAllText(table.FullName));
        Assert.Equal(Expected, System.IO.File.ReadAllText(other.FullName));
        var (a, b) = (UnixFileKinds.Stat(table.FullName, followLinks: false), UnixFileKinds.Stat(other.FullName, followLinks: false));
        Assert.Equal(a.Id, b.Id);
        Assert.Equal(2u, a.Links);
        Assert.Equal(["same-table.csv", "t.csv"], _dir.GetFiles().Select(x => x.Name).Order());   // the copy's backup is gone
    }

    [Fact]
    public void A_table_locked_past_the_bound_fails_the_append_in_one_line_naming_it_and_stays_as_it_was()
    {
        var f = File("t.csv");
        const string Content = "command,note\r\nold,keep me\r\n";
        System.IO.File.WriteAllText(f.FullName, Content);
        var bound = TimeSpan.FromMilliseconds(300);
        using (var holder = new FileStream(f.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            Assert.Equal(0, flock((int)holder.SafeFileHandle.DangerousGetHandle(), LockEx | LockNb));
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<UsageException>(() => new CsvTable.Appender(f) { LockWait = bound }.Append(Row(("command", "flood"), ("reached", "20"))));
            var waited = clock.Elapsed;
            Assert.StartsWith($"--csv: {f.FullName} stayed locked by another process for 0.3 s", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.InRange(waited, bound, TimeSpan.FromSeconds(30));
            // The check before a run waits the same way.
            Assert.Contains("stayed locked", Assert.Throws<UsageException>(() => CsvTable.Check(f, bound)).Message);
        }
        Assert.Equal(Content, System.IO.File.ReadAllText(f.FullName));
        Assert.Equal(["t.csv"], _dir.GetFiles().Select(x => x.Name));
        // Released, the same append goes through.
        new CsvTable.Appender(f) { LockWait = bound }.Append(Row(("command", "flood"), ("reached", "20")));
        Assert.Equal(2, ReadBack(f).Rows.Count);
    }

    // vopr prints each seed's line, then appends its row: this process widens the table in bursts
    // that start as each line comes, so the child's appends meet widenings, and waits for the next
    // line (written after the row) before the next burst, so the child is never kept out for long.
    [Fact]
    public async Task A_vopr_run_in_another_process_keeps_every_row_while_this_one_widens_the_table()
    {
        const int BurstRows = 10;
        var f = File("shared.csv");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "edgevpn-sim.dll"), "vopr", "--seeds", "1..3", "--csv", f.FullName })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var seedLines = Channel.CreateUnbounded<string>();
        var reader = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
                if (line.StartsWith("SEED=", StringComparison.Ordinal)) await seedLines.Writer.WriteAsync(line);
            seedLines.Writer.Complete();
        });
        int mine = 0;
        try
        {
            while (true)
            {
                for (int i = 0; i < BurstRows; i++, mine++)
                    CsvTable.Append(f, Row(("command", "flood"), ("row", $"{mine}"), ($"extra{mine}", "x")));
                if (!await seedLines.Reader.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2))) break;
                seedLines.Reader.TryRead(out _);
            }
        }
        finally
        {
            if (!child.WaitForExit(TimeSpan.FromMinutes(1))) child.Kill(entireProcessTree: true);
        }
        await reader;
        Assert.True(child.ExitCode == 0, await stderr);

        var (header, rows) = ReadBack(f);
        Assert.Equal(["1", "2", "3"], rows.Where(r => r["seed"] != "").Select(r => r["seed"]));
        Assert.All(rows.Where(r => r["seed"] != ""), r => Assert.Equal("true", r["outcome.ok"]));
        var flood = rows.Where(r => r["command"] == "flood").ToList();
        Assert.Equal(Enumerable.Range(0, mine).Select(i => $"{i}"), flood.Select(r => r["row"]));
        Assert.All(flood, r => Assert.Equal("x", r[$"extra{r["row"]}"]));
        Assert.Equal(mine, header.Count(c => c.StartsWith("extra", StringComparison.Ordinal)));
    }

    private const int LockEx = 2, LockNb = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    private static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
