// `--csv FILE`: a run appends one row under a header; a run with more columns widens the file and
// keeps every earlier row; fields with commas, quotes and line breaks survive; a file that is not a
// CSV table is refused before the run and left as it was; reports flatten to dotted columns.
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EdgeVpn.Sim.Cli;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class CsvTableTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("edgevpn-csv-");
    public void Dispose() => _dir.Delete(recursive: true);

    private FileInfo File(string name) => new(Path.Combine(_dir.FullName, name));

    private static List<KeyValuePair<string, string>> Row(params (string Key, string Value)[] cells) =>
        cells.Select(c => new KeyValuePair<string, string>(c.Key, c.Value)).ToList();

    private static (List<string> Header, List<List<string>> Rows) ReadBack(FileInfo f)
    {
        var t = CsvTable.Read(System.IO.File.ReadAllText(f.FullName));
        Assert.Null(t.Error);
        return (t.Header, t.Rows);
    }

    [Fact]
    public void A_new_file_gets_a_header_and_fields_with_commas_quotes_and_line_breaks_round_trip()
    {
        var f = File("runs.csv");
        CsvTable.Append(f, Row(("command", "flood"), ("note", "a, \"quoted\"\nvalue"), ("n", "42")));
        var (header, rows) = ReadBack(f);
        Assert.Equal(["command", "note", "n"], header);
        Assert.Equal(["flood", "a, \"quoted\"\nvalue", "42"], Assert.Single(rows));
    }

    [Fact]
    public void A_row_with_new_columns_widens_the_file_and_keeps_every_earlier_row_in_place()
    {
        var f = File("runs.csv");
        CsvTable.Append(f, Row(("command", "flood"), ("seed", "1"), ("reached", "50")));
        CsvTable.Append(f, Row(("command", "flood"), ("seed", "2"), ("reached", "49")));
        CsvTable.Append(f, Row(("command", "flood"), ("seed", "3"), ("iceDatagrams", "9766"), ("reached", "20")));
        var (header, rows) = ReadBack(f);
        Assert.Equal(["command", "seed", "reached", "iceDatagrams"], header);
        Assert.Equal([["flood", "1", "50", ""], ["flood", "2", "49", ""], ["flood", "3", "20", "9766"]], rows);
        // A later row without the new column still lines up.
        CsvTable.Append(f, Row(("reached", "10"), ("command", "flood"), ("seed", "4")));
        Assert.Equal(["flood", "4", "10", ""], ReadBack(f).Rows[^1]);
    }

    [Fact]
    public void One_appender_over_many_rows_writes_what_separate_appends_write()
    {
        var once = File("once.csv");
        var many = File("many.csv");
        var appender = new CsvTable.Appender(many);
        var rows = new[]
        {
            Row(("command", "flood"), ("seed", "1"), ("reached", "50")),
            Row(("command", "flood"), ("seed", "2"), ("reached", "49")),
            Row(("command", "flood"), ("seed", "3"), ("iceDatagrams", "9766"), ("reached", "20")),
            Row(("reached", "10"), ("command", "flood"), ("seed", "4")),
        };
        foreach (var row in rows)
        {
            CsvTable.Append(once, row);
            appender.Append(row);
        }
        Assert.Equal(System.IO.File.ReadAllText(once.FullName), System.IO.File.ReadAllText(many.FullName));
        Assert.Equal(4, ReadBack(many).Rows.Count);
    }

    [Theory]
    [InlineData("command,b\r\n1,\"unterminated\r\n")]
    [InlineData("command,b\r\n1,2,3\r\n")]
    [InlineData("command,b\r\n1,x\"y\r\n")]
    [InlineData("command,command\r\n1,2\r\n")]
    public void A_file_that_is_not_a_csv_table_is_refused_before_the_run_and_left_as_it_was(string content)
    {
        var f = File("bad.csv");
        System.IO.File.WriteAllText(f.FullName, content);
        var e = Assert.Throws<UsageException>(() => CsvTable.Check(f));
        Assert.Contains("--csv", e.Message);
        Assert.Throws<UsageException>(() => CsvTable.Append(f, Row(("command", "1"))));
        Assert.Equal(content, System.IO.File.ReadAllText(f.FullName));
    }

    [Fact]
    public void A_report_flattens_to_dotted_columns_with_lists_joined()
    {
        var row = CsvTable.Flatten("{\"command\":\"flood\",\"reached\":50,\"ok\":true,\"x\":null,\"parameters\":{\"seed\":\"1\"},\"problems\":[\"a\",\"b\"]}");
        Assert.Equal(Row(("command", "flood"), ("reached", "50"), ("ok", "true"), ("x", ""), ("parameters.seed", "1"), ("problems", "a; b")), row);
    }

    [Fact]
    public void Any_fields_survive_a_write_and_a_read()
    {
        var f = File("fuzz.csv");
        int n = 0;
        PropertyCheck.Run(200, Prop.ForAll(ArbMap.Default.ArbFor<string[]>(), values =>
        {
            values = values.Where(v => v is not null).Take(8).ToArray();
            if (values.Length == 0) return true;
            System.IO.File.Delete(f.FullName);
            var row = values.Select((v, i) => new KeyValuePair<string, string>($"c{i}", v)).ToList();
            CsvTable.Append(f, row);
            var (header, rows) = ReadBack(f);
            n++;
            return header.SequenceEqual(row.Select(r => r.Key)) && rows.Single().SequenceEqual(values);
        }));
        Assert.True(n > 0);
    }

    [Fact]
    public void Two_flood_runs_append_two_rows_with_their_seeds_and_trace_hashes()
    {
        var f = File("sweep.csv");
        foreach (string seed in new[] { "1", "2" })
        {
            var (exit, _, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--nodes", "30", "--seed", seed, "--csv", f.FullName, "--json"]);
            Assert.True(exit == 0, stderr);
        }
        var (header, rows) = ReadBack(f);
        int seedColumn = header.IndexOf("parameters.seed"), hash = header.IndexOf("traceHash"), reached = header.IndexOf("reached");
        Assert.Equal(["1", "2"], rows.Select(r => r[seedColumn]));
        Assert.NotEqual(rows[0][hash], rows[1][hash]);
        Assert.All(rows, r => Assert.Equal("30", r[reached]));
    }

    [Fact]
    public void Vopr_appends_one_row_per_seed_with_its_drawn_parameters_and_outcome()
    {
        var f = File("vopr.csv");
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["vopr", "--seeds", "1..3", "--csv", f.FullName]);
        Assert.True(exit == 0, stdout + stderr);
        var (header, rows) = ReadBack(f);
        Assert.Equal(["1", "2", "3"], rows.Select(r => r[header.IndexOf("seed")]));
        Assert.All(rows, r => Assert.Equal("true", r[header.IndexOf("outcome.ok")]));
        Assert.Contains("nodes", header);
        Assert.Contains("signalingOutages", header);
        // The row's trace hash is the one the seed's line prints.
        Assert.Contains($"traceHash={rows[0][header.IndexOf("outcome.traceHash")]}", stdout);
    }

    [Fact]
    public void A_csv_in_a_missing_directory_is_refused_in_one_line_before_the_run()
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--nodes", "30", "--csv", Path.Combine(_dir.FullName, "no", "such", "x.csv")]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("--csv", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    // Files the finder's --csv rewrote (exit 0): each is refused before the run and survives
    // byte for byte an append attempted anyway.
    public static TheoryData<string, byte[]> FilesThisToolDidNotWrite => new()
    {
        { "a gzip file", [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0xe0, 0x02, 0x00, 0x1f, 0x08, 0xea, 0x46, 0x02, 0x00, 0x00, 0x00] },
        { "a shell script", "#!/bin/sh\necho hi\n"u8.ToArray() },
        { "notes", "hello world\nsecond line\n"u8.ToArray() },
        { "Latin-1 text with a command column", [.. "command,note\nflood,caf"u8, 0xe9, (byte)'\n'] },
        { "text with a NUL byte", "command,note\nflood,a\0b\n"u8.ToArray() },
        { "a table with a row shorter than its header", "command,reached\r\nflood\r\n"u8.ToArray() },
        { "blank lines only", "\n\r\n"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(FilesThisToolDidNotWrite))]
    public void A_file_this_tool_did_not_write_is_refused_before_the_run_and_left_byte_for_byte(string what, byte[] content)
    {
        var f = File("given.csv");
        System.IO.File.WriteAllBytes(f.FullName, content);
        var e = Assert.Throws<UsageException>(() => CsvTable.Check(f));
        Assert.StartsWith("--csv: ", e.Message);
        Assert.False(new CsvTable.Appender(f).TryAppend(Row(("command", "flood"), ("reached", "5"))), what);
        Assert.Equal(content, System.IO.File.ReadAllBytes(f.FullName));
        Assert.Equal(["given.csv"], _dir.GetFiles().Select(x => x.Name));
    }

    [Fact]
    public void A_shell_script_given_as_the_csv_stops_the_run_before_it_starts_and_stays_a_script()
    {
        var f = File("run.sh");
        System.IO.File.WriteAllText(f.FullName, "#!/bin/sh\necho hi\n");
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--nodes", "5", "--csv", f.FullName]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith("edgevpn-sim: --csv: ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal("#!/bin/sh\necho hi\n", System.IO.File.ReadAllText(f.FullName));
    }

    [Fact]
    public void A_second_vopr_run_appends_to_the_table_the_first_wrote()
    {
        var f = File("vopr.csv");
        foreach (string seed in new[] { "1", "2" })
        {
            var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["vopr", "--seed", seed, "--csv", f.FullName]);
            Assert.True(exit == 0, stdout + stderr);
        }
        var (header, rows) = ReadBack(f);
        Assert.Equal(["1", "2"], rows.Select(r => r[header.IndexOf("seed")]));
    }

    // vopr's rows had no command column at first: such a table is recognised by outcome.ok.
    [Fact]
    public void A_vopr_table_from_before_rows_had_a_command_column_is_extended_and_keeps_its_rows()
    {
        var f = File("vopr.csv");
        System.IO.File.WriteAllText(f.FullName, "seed,nodes,outcome.ok\r\n1,132,true\r\n");
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["vopr", "--seed", "2", "--csv", f.FullName]);
        Assert.True(exit == 0, stdout + stderr);
        var (header, rows) = ReadBack(f);
        Assert.Equal(["seed", "nodes", "outcome.ok"], header.Take(3));
        Assert.Equal(["1", "2"], rows.Select(r => r[header.IndexOf("seed")]));
        Assert.Equal(["", "vopr"], rows.Select(r => r[header.IndexOf("command")]));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [Fact]
    public async Task A_fifo_or_a_device_as_the_table_is_refused_at_once_and_never_opened()
    {
        var fifo = File("pipe.csv");
        Assert.Equal(0, mkfifo(fifo.FullName, 0b110_000_000));
        // Opening a FIFO waits for a writer: a check that opens it never returns.
        var refusal = await Task.Run(() => Record.Exception(() => CsvTable.Check(fifo))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("FIFO", Assert.IsType<UsageException>(refusal).Message);
        Assert.False(await Task.Run(() => new CsvTable.Appender(fifo).TryAppend(Row(("command", "flood")))).WaitAsync(TimeSpan.FromSeconds(30)));
        // Read as empty, /dev/null took the widening path, whose rename would replace it (as root).
        var link = File("null.csv");
        System.IO.File.CreateSymbolicLink(link.FullName, "/dev/null");
        foreach (var device in new[] { new FileInfo("/dev/null"), link })
            Assert.Contains("character device", Assert.Throws<UsageException>(() => CsvTable.Check(device)).Message);
    }

    [Fact]
    public void Widening_a_table_through_a_symbolic_link_writes_the_target_and_the_link_stays_a_link()
    {
        var table = File("t.csv");
        var link = File("l.csv");
        System.IO.File.WriteAllText(table.FullName, "command,note\r\nold,keep me\r\n");
        System.IO.File.CreateSymbolicLink(link.FullName, "t.csv");
        CsvTable.Append(link, Row(("command", "flood"), ("reached", "20")));
        link.Refresh();
        Assert.Equal("t.csv", link.LinkTarget);
        var (header, rows) = ReadBack(table);
        Assert.Equal(["command", "note", "reached"], header);
        Assert.Equal([["old", "keep me", ""], ["flood", "", "20"]], rows);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void Widening_keeps_the_tables_mode_and_leaves_a_users_file_named_like_a_temporary_one_alone()
    {
        var table = File("t.csv");
        System.IO.File.WriteAllText(table.FullName, "command,note\r\nold,keep me\r\n");
        System.IO.File.SetUnixFileMode(table.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var mine = File("t.csv.tmp");
        System.IO.File.WriteAllText(mine.FullName, "mine");
        CsvTable.Append(table, Row(("command", "flood"), ("reached", "20")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(table.FullName));
        Assert.Equal(2, ReadBack(table).Rows.Count);
        Assert.Equal("mine", System.IO.File.ReadAllText(mine.FullName));
        Assert.Equal(["t.csv", "t.csv.tmp"], _dir.GetFiles().Select(x => x.Name).Order());
    }

    [Fact]
    public void A_table_over_the_size_bound_is_refused_by_its_size_without_being_read()
    {
        var f = File("huge.csv");
        using (var s = System.IO.File.Create(f.FullName)) s.SetLength(CsvTable.TableBytesMax + 1);   // sparse: no disk used
        Assert.Contains("over 1 GiB", Assert.Throws<UsageException>(() => CsvTable.Check(f)).Message);
    }

    [Fact]
    public void Checking_a_new_or_an_existing_table_changes_nothing_and_leaves_no_file_behind()
    {
        var fresh = File("new.csv");
        CsvTable.Check(fresh);
        Assert.Empty(_dir.GetFiles());
        var table = File("t.csv");
        System.IO.File.WriteAllText(table.FullName, "command,note\r\nold,keep me\r\n");
        var written = DateTime.UnixEpoch.AddDays(20000);
        System.IO.File.SetLastWriteTimeUtc(table.FullName, written);
        CsvTable.Check(table);
        Assert.Equal("command,note\r\nold,keep me\r\n", System.IO.File.ReadAllText(table.FullName));
        Assert.Equal(written, System.IO.File.GetLastWriteTimeUtc(table.FullName));
        Assert.Equal(["t.csv"], _dir.GetFiles().Select(x => x.Name));
    }
}
