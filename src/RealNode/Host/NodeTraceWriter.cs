// Writes a node trace (format: NodeTrace) to a TextWriter, bounded: after BytesMax characters it
// writes "# truncated" and stops, so a long-running node cannot fill the disk. A truncated trace
// is still a valid prefix and replays as far as it goes. Lines are flushed at every timeout
// entry and on Dispose (a crash loses at most the inputs since the last timer).
// Called on the host's loop thread only.
namespace EdgeVpn.RealNode.Host;

public sealed class NodeTraceWriter(TextWriter writer, long bytesMax) : IDisposable
{
    private long _written;
    private bool _truncated;

    public bool Truncated => _truncated;

    public void WriteHeader(TraceHeader header) => Line(NodeTrace.FormatHeader(header));

    public void Write(TraceEntry entry)
    {
        if (_truncated) return;
        Line(NodeTrace.Format(entry));
        if (entry.Input is null) writer.Flush();
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

    public void Dispose()
    {
        writer.Flush();
        writer.Dispose();
    }
}
