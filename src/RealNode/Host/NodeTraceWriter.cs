// Writes a node trace (format: NodeTrace) to a TextWriter, bounded: after BytesMax characters it
// writes "# truncated" and stops, so a long-running node cannot fill the disk. A truncated trace
// is still a valid prefix and replays as far as it goes. Lines are flushed at every timeout
// entry and on Dispose (a crash loses at most the inputs since the last timer).
// The trace is a debugging aid, so it never takes the node down: the first write or flush error
// (a full disk) logs one warning and ends tracing; later writes and Dispose do nothing more.
// Open creates the file owner-only (0600): it holds every frame after DTLS decryption and the
// ICE credentials of the signals, which are not for every local user.
// Called on the host's loop thread only.
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.Platform;

namespace EdgeVpn.RealNode.Host;

public sealed class NodeTraceWriter(TextWriter writer, long bytesMax, HostLog? log = null) : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private long _written;
    private bool _truncated, _failed, _disposed;

    public bool Truncated => _truncated;
    /// <summary>A write failed: tracing has stopped (the warning was logged).</summary>
    public bool Failed => _failed;

    /// <summary>Creates (or truncates) the file at path, owner-only; IOException or
    /// UnauthorizedAccessException when it cannot be opened.</summary>
    public static NodeTraceWriter Open(string path, long bytesMax, HostLog? log)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        bool existed = UnixFileKinds.Of(path) == UnixFileKind.Regular;
        var stream = new FileStream(path, options);
        // UnixCreateMode applies to a new file only; an old trace keeps its mode unless tightened.
        // Only a regular file: Trace.Path may name a device (/dev/null), whose mode is not ours.
        if (existed && !OperatingSystem.IsWindows())
        {
            try { File.SetUnixFileMode(stream.SafeFileHandle, OwnerOnly); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log?.Invoke(XmppLogLevel.Warning, $"trace: cannot make {path} owner-only ({e.Message}); other users may read it");
            }
        }
        return new NodeTraceWriter(new StreamWriter(stream), bytesMax, log);
    }

    public void WriteHeader(TraceHeader header) => Guarded(() => Line(NodeTrace.FormatHeader(header)));

    public void Write(TraceEntry entry)
    {
        if (_truncated) return;
        Guarded(() =>
        {
            Line(NodeTrace.Format(entry));
            if (entry.Input is null) writer.Flush();
        });
    }

    private void Guarded(Action write)
    {
        if (_failed || _disposed) return;
        try { write(); }
        catch (IOException e) { Fail(e); }
    }

    private void Fail(IOException e)
    {
        _failed = true;
        log?.Invoke(XmppLogLevel.Warning, $"trace: write failed ({e.Message}); tracing stops here, the node keeps running");
        Close();
    }

    private void Line(string line)
    {
        if (_written + line.Length + 1 > bytesMax)
        {
            writer.WriteLine($"# truncated at {_written} characters");
            writer.Flush();
            _truncated = true;
            return;
        }
        writer.WriteLine(line);
        _written += line.Length + 1;
    }

    /// <summary>Disposes the writer; what is still buffered after a failure cannot be written, and
    /// disposing tries again (and throws again): that second error says nothing new.</summary>
    private void Close()
    {
        try { writer.Dispose(); }
        catch (IOException) { }
    }

    public void Dispose()
    {
        if (_disposed) return;
        Guarded(writer.Flush);
        _disposed = true;
        if (!_failed) Close();
    }
}
