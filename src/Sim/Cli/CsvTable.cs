// `--csv FILE`: one row per run appended to a CSV file (RFC 4180: comma-separated, a header row,
// fields with a comma, quote or line break quoted, quotes doubled), so a sweep of runs (seeds,
// sizes, options) collects into one table for pandas or a spreadsheet. Contract:
//  - a row is the run's report flattened: nested objects become dotted columns
//    (`parameters.seed`, `eventsByKind.Wake`), lists are joined with "; ";
//  - a new or empty file gets the header first; rows of a later run with columns the file lacks
//    widen the file: it is rewritten (to a new file beside it, then renamed over it, keeping its
//    mode and, where allowed, its owner; in place if it has hard links, see below) with the union
//    of the columns in first-seen order, earlier rows getting empty cells. Nothing already in the
//    file is ever lost or reordered;
//  - the path may be a symbolic link: the table is its final target, and the link stays a link;
//  - an existing non-empty file is extended only if it is a table this tool wrote: a regular file
//    of at most TableBytesMax, UTF-8 text without NUL bytes, whose header has a `command` column (every
//    report and bench row has one) or vopr's `outcome.ok`, and whose rows all have the header's
//    number of fields. Anything else is refused with a clear error before the run starts (Check)
//    and never written;
//  - Check also makes sure, before the run, that the table can be written (and that a new file can
//    be created beside it, which widening needs), changing nothing and leaving nothing behind;
//  - runs in parallel may share one table (a shell loop with `&`, bench and vopr together): every
//    read-check-write of it (Check's read, an append, a widening) holds an exclusive flock(2) on
//    the table's file (LockedFile), so each run adds its rows and none is lost or written under a
//    header that has changed. The lock is on the file itself, taken again when a widening renamed
//    a new file over it meanwhile, so no lock file is left beside the table. A run waits for it
//    at most LockWaitSecondsMax, then fails with one line naming the table and writes nothing (the
//    run's report is on stdout either way, as for any other failure to write the table);
//  - an Appender trusts the header it last read or wrote only while the file is as its last write
//    left it (same file, same size, looked at under the lock); otherwise it reads the file again;
//  - a table with more than one name (hard links) is widened in place, so that every name shows
//    the new table: the new content is first written and flushed to a new file beside it, then
//    copied over the table and flushed, and only then removed. Unlike the rename, the copy is not
//    atomic: a crash or an error during it can leave the table damaged; the error then names that
//    file, which holds the whole new table to copy back over it.
// Hand-written: no CSV package is among the served ones, and the format needs only this much.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EdgeVpn.Platform;
using Microsoft.Win32.SafeHandles;

namespace EdgeVpn.Sim.Cli;

public static class CsvTable
{
    /// <summary>The largest table read back (1 GiB): a path naming something huge (a disk image, a
    /// log) is refused instead of filling memory; a sweep's table is far smaller.</summary>
    public const long TableBytesMax = 1L << 30;

    /// <summary>Columns one of which every table this tool writes has in its header: `command`
    /// (converge, flood, route, bench, bench naive-flood, nat-matrix, vopr) and `outcome.ok` (vopr's rows had no `command` at first). A file
    /// without either is not one of our tables, whatever else it is (a script, notes, a JSON file).</summary>
    private static readonly string[] OwnColumns = ["command", "outcome.ok"];

    /// <summary>How long a run waits for another writer's lock on the table: far longer than any
    /// write of a table takes, so only a writer that is stuck (stopped, or a `flock` a user holds)
    /// makes a run give up.</summary>
    public const int LockWaitSecondsMax = 60;

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(LockWaitSecondsMax);

    /// <summary>Refuses, before a run, a file that exists but is not a table this tool can extend,
    /// or a path the table could not be written to.</summary>
    public static void Check(FileInfo? file) => Check(file, LockWait);

    internal static void Check(FileInfo? file, TimeSpan lockWait)
    {
        if (file is null) return;
        string target = Target(file);
        using var locked = Lock(file, target, create: false, lockWait);
        var table = locked is null ? new Table(false, false, true, [], []) : Load(file, locked.Handle);
        ProbeWritable(file, target, table.Exists);
    }

    /// <summary>Appends one row (column, value), widening the file's header when the row brings new columns.</summary>
    public static void Append(FileInfo file, IReadOnlyList<KeyValuePair<string, string>> row) => new Appender(file).Append(row);

    /// <summary>Appends many rows to one file (vopr: one per seed) reading the file only when a row
    /// brings columns it has not seen or another writer changed the file: a long sweep costs one
    /// write per row, not a re-read.</summary>
    public sealed class Appender(FileInfo file)
    {
        /// <summary>How long to wait for another writer's lock (LockWaitSecondsMax; tests shorten it).</summary>
        internal TimeSpan LockWait { get; init; } = CsvTable.LockWait;

        private List<string>? _header;   // the file's header as last read or written by us
        private string _target = "";     // the file that header is in
        private UnixFileStatus _left;    // that file as our last write left it

        public void Append(IReadOnlyList<KeyValuePair<string, string>> row)
        {
            string target = Target(file);
            using var locked = Lock(file, target, create: true, LockWait)!;
            try
            {
                if (_header is { } header && target == _target && Unchanged(UnixFileKinds.Stat(locked.Handle)) && row.All(kv => header.Contains(kv.Key)))
                {
                    var values = row.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                    AppendText(locked.Handle, Line(header.Select(c => values.GetValueOrDefault(c, ""))) + "\r\n");
                    _left = UnixFileKinds.Stat(locked.Handle);
                    return;
                }
                _header = null;   // until the file has been read again
                (_header, _left) = AppendReading(file, target, locked, row);
                _target = target;
            }
            catch (Exception) when (locked.Created)
            {
                locked.DeleteIfCreatedAndEmpty();   // a new table whose first row failed leaves no empty file
                throw;
            }
        }

        // Another writer's append makes the file longer, a widening by rename makes it another file,
        // one in place makes it longer too. Unknown (no statx) is never unchanged.
        private bool Unchanged(UnixFileStatus now) => now.Kind == UnixFileKind.Regular && now.Id == _left.Id && now.Size == _left.Size;

        /// <summary>Append, or say on stderr why the row could not be written (the run's output is
        /// on stdout either way); false then.</summary>
        public bool TryAppend(IReadOnlyList<KeyValuePair<string, string>> row)
        {
            try
            {
                Append(row);
                return true;
            }
            catch (UsageException e)   // a refusal: its message names the option and the file
            {
                Console.Error.WriteLine($"edgevpn-sim: {e.Message}");
                return false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"edgevpn-sim: --csv: could not write {file.FullName}: {e.Message}");
                return false;
            }
        }
    }

    /// <summary>Reads the locked file, widens it when needed, appends the row; gives the header now in
    /// the file and the file as the write left it.</summary>
    private static (List<string> Header, UnixFileStatus Left) AppendReading(FileInfo file, string target, LockedFile locked, IReadOnlyList<KeyValuePair<string, string>> row)
    {
        var table = Load(file, locked.Handle);
        var header = table.Header;
        var known = new HashSet<string>(header, StringComparer.Ordinal);
        bool widened = false;
        foreach (var (column, _) in row)
            if (known.Add(column)) { header.Add(column); widened = true; }
        var values = row.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        string line = Line(header.Select(c => values.GetValueOrDefault(c, "")));
        if (table.Rows.Count == 0 || widened)
        {
            var sb = new StringBuilder();
            sb.Append(Line(header)).Append("\r\n");
            foreach (var r in table.Rows) sb.Append(Line(header.Select((_, i) => i < r.Count ? r[i] : ""))).Append("\r\n");
            sb.Append(line).Append("\r\n");
            return (header, Rewrite(target, locked, table, sb.ToString()));
        }
        AppendText(locked.Handle, (table.EndsWithNewline ? "" : "\r\n") + line + "\r\n");
        return (header, UnixFileKinds.Stat(locked.Handle));
    }

    private static void AppendText(SafeFileHandle handle, string text) => RandomAccess.Write(handle, Encoding.UTF8.GetBytes(text), RandomAccess.GetLength(handle));

    /// <summary>The table's file, locked against the other writers (LockedFile); null when it is
    /// missing and create is false. Failures are one line naming the user's file.</summary>
    private static LockedFile? Lock(FileInfo file, string target, bool create, TimeSpan wait)
    {
        try { return LockedFile.Open(target, create, wait); }
        catch (TimeoutException)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--csv: {file.FullName} stayed locked by another process for {wait.TotalSeconds:0.###} s (another run still writing it, stopped, or a `flock` holding it), so nothing was written to it"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--csv: cannot open {file.FullName} to read and write it: {e.Message}");
        }
    }

    /// <summary>What an existing table holds: its header and rows, whether it began with a UTF-8 byte
    /// order mark (kept on a rewrite: a spreadsheet may need it) and whether it ends a line.</summary>
    private sealed record Table(bool Exists, bool Bom, bool EndsWithNewline, List<string> Header, List<List<string>> Rows);

    /// <summary>Where the table is: the path with every link followed, refused unless it is (or can
    /// become) a regular file in an existing directory.</summary>
    private static string Target(FileInfo file)
    {
        string target = RealPath(file, "--csv");
        string shown = target == Path.TrimEndingDirectorySeparator(file.FullName) ? file.FullName : $"{file.FullName} (a link to {target})";
        UsageErrors.CheckOutputPath("--csv", target, shown);
        // Before any open: opening a FIFO waits for a writer for ever, a device reads without end
        // (/dev/zero) or is replaced by the rename of a widening (/dev/null, as root).
        // No public .NET API tells a FIFO or a device from a file (UnixFileKinds asks statx).
        if (UnixFileKinds.Stat(target, followLinks: true).Kind is not (UnixFileKind.Regular or UnixFileKind.Missing or UnixFileKind.Unknown) and var kind)
            throw new UsageException($"--csv: {shown} is {UnixFileKinds.Describe(kind)}, not a regular file: a table can only be a regular file");
        return target;
    }

    /// <summary>Reads an existing table (at most TableBytesMax) through its locked handle, refusing
    /// what this tool did not write.</summary>
    private static Table Load(FileInfo file, SafeFileHandle handle)
    {
        ArraySegment<byte> bytes;
        try
        {
            bytes = ReadAtMost(handle, TableBytesMax) ?? throw new UsageException(
                string.Create(CultureInfo.InvariantCulture, $"--csv: {file.FullName} is over {TableBytesMax >> 30} GiB, more than a table of runs this tool would write; give a new file"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"--csv: cannot read {file.FullName}: {e.Message}"); }

        var content = bytes.AsSpan();
        bool bom = content.StartsWith(Encoding.UTF8.Preamble);
        if (bom) content = content[Encoding.UTF8.Preamble.Length..];
        if (content.IsEmpty) return new(true, bom, true, [], []);
        string Refused(string why) => $"--csv: {file.FullName} is not a CSV table this tool wrote, so it is left as it is: {why}";
        if (content.Contains((byte)0)) throw new UsageException(Refused("it holds NUL bytes (a binary file?)"));
        string text;
        try { text = StrictUtf8.GetString(content); }
        catch (DecoderFallbackException) { throw new UsageException(Refused("it is not UTF-8 text (a binary or compressed file?)")); }
        var (header, rows, error) = Read(text);
        if (error is not null) throw new UsageException(Refused(error));
        if (!OwnColumns.Any(header.Contains))
            throw new UsageException(Refused("its first line has no command column (nor vopr's outcome.ok), which every table this tool writes has"));
        return new(true, bom, text.EndsWith('\n'), header, rows);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The whole file, or null when it holds more than limit bytes: refused by its size
    /// when it has one, else after reading at most limit bytes (some regular files, in /proc,
    /// report a size of 0 and hold text).</summary>
    private static ArraySegment<byte>? ReadAtMost(SafeFileHandle handle, long limit)
    {
        long length = RandomAccess.GetLength(handle);
        if (length > limit) return null;
        var buffer = new MemoryStream((int)length + 1);
        var chunk = new byte[1 << 16];
        for (int n; (n = RandomAccess.Read(handle, chunk, buffer.Length)) > 0;)
        {
            if (buffer.Length + n > limit) return null;
            buffer.Write(chunk, 0, n);
        }
        return buffer.TryGetBuffer(out var bytes) ? bytes : buffer.ToArray();
    }

    /// <summary>Before the run, tries what writing the table after it needs: an existing table was
    /// opened for writing already, to lock it (nothing is written, so its content and time stamps
    /// stay); this creates a new file beside it (how a run bringing new columns widens a table; the
    /// file is removed at once). Errors name the user's file, never the probe's.</summary>
    private static void ProbeWritable(FileInfo file, string target, bool exists)
    {
        string dir = Path.GetDirectoryName(target)!;
        try { CreateBeside(target, FileOptions.DeleteOnClose, exists ? dir : target).Stream.Dispose(); }
        catch (IOException e)
        {
            throw new UsageException(exists
                ? $"--csv: cannot create a file in {dir}, which a run bringing new columns needs (the widened table is written beside {file.FullName}, then renamed over it): {e.Message}"
                : $"--csv: cannot create {file.FullName}: {e.Message}");
        }
    }

    /// <summary>Replaces the locked table's content; gives the table as left. The new content is
    /// written to a new file beside it that takes the table's mode (a private 0600 table stays
    /// private) and, where allowed, its owner, and flushed to disk. That file is then renamed over
    /// the table, so a crash leaves the old table or the new one, never half of one; or, when the
    /// table has other names (hard links), which a rename would leave with the old table, copied
    /// over it in place and removed once the copy is flushed.</summary>
    private static UnixFileStatus Rewrite(string target, LockedFile locked, Table old, string content)
    {
        byte[] bytes = [.. old.Bom ? Encoding.UTF8.Preamble : [], .. Encoding.UTF8.GetBytes(content)];
        var table = UnixFileKinds.Stat(locked.Handle);
        var (stream, temp) = CreateBeside(target, FileOptions.None, Path.GetDirectoryName(target)!);
        UnixFileStatus written;
        try
        {
            using (stream)
            {
                if (!OperatingSystem.IsWindows())
                {
                    // Owner first: chown clears the set-user-id bits the mode may then restore. Only
                    // root may give a file to another user; anyone else keeps the file as theirs.
                    if (table.Kind == UnixFileKind.Regular) _ = chown(temp, table.Uid, table.Gid);
                    File.SetUnixFileMode(stream.SafeFileHandle, File.GetUnixFileMode(locked.Handle));
                }
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
                written = UnixFileKinds.Stat(stream.SafeFileHandle);
            }
            if (table.Links <= 1)
            {
                File.Move(temp, target, overwrite: true);
                return written;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);   // ours: CreateBeside made it
            throw new IOException(Hide(e, temp, target), e);
        }
        try
        {
            // Longer than the old content (a widening only adds), so it covers all of it; the
            // truncation is for the file, not this caller, to never depend on that.
            RandomAccess.Write(locked.Handle, bytes, 0);
            RandomAccess.SetLength(locked.Handle, bytes.Length);
            RandomAccess.FlushToDisk(locked.Handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{e.Message}; the table, which has {table.Links} hard links and so is rewritten in place, may be damaged: {temp} holds the whole new table, copy it over {target} (cp keeps the links)", e);
        }
        File.Delete(temp);
        return UnixFileKinds.Stat(locked.Handle);
    }

    /// <summary>Creates a file of a name no other file has, in the target's directory (a rename
    /// within one file system is atomic). CreateNew never replaces a file, nor follows a link, that
    /// happens to have the name: another name is drawn. A failure's message shows `shown` where it
    /// would name the new file, which the user never asked for.</summary>
    private static (FileStream Stream, string Path) CreateBeside(string target, FileOptions options, string shown)
    {
        string dir = Path.GetDirectoryName(target)!, name = Path.GetFileName(target);
        for (int attempt = 1; ; attempt++)
        {
            string path = Path.Join(dir, $"{name}.{Path.GetFileNameWithoutExtension(Path.GetRandomFileName())}.tmp");
            try { return (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, options), path); }
            catch (IOException) when (attempt < 10 && Path.Exists(path)) { }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException(Hide(e, path, shown), e); }
        }
    }

    private static string Hide(Exception e, string temp, string shown) => e.Message.Replace(temp, shown, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link in it followed, like the kernel does (the file need
    /// not exist): where a table is written (a link's final target, so the link stays a link), and
    /// what output options are compared by (RunHost).</summary>
    internal static string RealPath(FileInfo file, string option)
    {
        try { return RealPath(file.FullName); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"{option}: cannot follow the links in {file.FullName}: {e.Message}"); }
    }

    private static string RealPath(string path)
    {
        string full = Path.GetFullPath(path), current = Path.GetPathRoot(full)!;
        var rest = new Stack<string>(Components(full[current.Length..]).Reverse());
        for (int links = 0; rest.TryPop(out var part);)
        {
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            string next = Path.Join(current, part);
            if (new FileInfo(next).LinkTarget is not { } link) { current = next; continue; }
            if (++links > 40) throw new IOException($"too many levels of symbolic links at {next}");   // Linux's MAXSYMLINKS
            // The link's text takes its place: an absolute one starts again from the root, a
            // relative one from the link's directory.
            if (Path.GetPathRoot(link) is { Length: > 0 } root) { current = root; link = link[root.Length..]; }
            foreach (var p in Components(link).Reverse()) rest.Push(p);
        }
        return current;
    }

    private static string[] Components(string path) => path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);

    [DllImport("libc", SetLastError = true)]
    private static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    /// <summary>A JSON object (a report) as one row: nested objects dotted, arrays joined.</summary>
    public static List<KeyValuePair<string, string>> Flatten(string json)
    {
        var row = new List<KeyValuePair<string, string>>();
        using var doc = JsonDocument.Parse(json);
        Flatten(doc.RootElement, "", row);
        return row;
    }

    private static void Flatten(JsonElement e, string prefix, List<KeyValuePair<string, string>> row)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + "." + p.Name, row);
                break;
            case JsonValueKind.Array:
                row.Add(new(prefix, string.Join("; ", e.EnumerateArray().Select(Scalar))));
                break;
            default:
                row.Add(new(prefix, Scalar(e)));
                break;
        }
    }

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Null => "",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => e.GetRawText(),
        _ => e.GetRawText(),
    };

    // A lone empty field is written quoted: an empty line would read as a blank line.
    private static string Line(IEnumerable<string> fields)
    {
        var list = fields.ToList();
        return list is [""] ? "\"\"" : string.Join(",", list.Select(Quote));
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Parses a whole CSV text: header, rows, or the first problem.</summary>
    internal static (List<string> Header, List<List<string>> Rows, string? Error) Read(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else { if (c == '\n') line++; field.Append(c); }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; any = true; break;
                case '"': return ([], [], string.Create(CultureInfo.InvariantCulture, $"a quote inside an unquoted field on line {line}"));
                case ',': record.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    if (any || record.Count > 0)   // else a blank line
                    {
                        record.Add(field.ToString()); field.Clear();
                        records.Add(record); record = [];
                    }
                    any = false; line++;
                    break;
                default: field.Append(c); any = true; break;
            }
        }
        if (quoted) return ([], [], "a quoted field is not closed at the end of the file");
        if (any) { record.Add(field.ToString()); records.Add(record); }
        if (records.Count == 0) return ([], [], null);
        var header = records[0];
        if (header.Distinct(StringComparer.Ordinal).Count() != header.Count) return ([], [], "the header names a column twice");
        for (int r = 1; r < records.Count; r++)
            if (records[r].Count != header.Count)   // this tool writes every row as wide as the header
                return ([], [], string.Create(CultureInfo.InvariantCulture, $"row {r + 1} has {records[r].Count} fields, the header {header.Count}"));
        return (header, records.GetRange(1, records.Count - 1), null);
    }
}
