// What a link counts, safe to read from any thread (status output, tests, benchmarks).
namespace EdgeVpn.RealNode.Dtls;

public sealed class DtlsLinkCounters
{
    private long _framesSent, _bytesSent, _framesReceived, _bytesReceived, _sendsRefused;
    private readonly long[] _dropped = new long[Enum.GetValues<FrameDrop>().Length];

    public long FramesSent => Interlocked.Read(ref _framesSent);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long FramesReceived => Interlocked.Read(ref _framesReceived);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    /// <summary>Frames the caller asked to send that were too large or came before/after the link was up.</summary>
    public long SendsRefused => Interlocked.Read(ref _sendsRefused);
    public long Dropped(FrameDrop reason) => Interlocked.Read(ref _dropped[(int)reason]);
    public long DroppedTotal => Enum.GetValues<FrameDrop>().Sum(Dropped);

    internal void Sent(int bytes) { Interlocked.Increment(ref _framesSent); Interlocked.Add(ref _bytesSent, bytes); }
    internal void Received(int bytes) { Interlocked.Increment(ref _framesReceived); Interlocked.Add(ref _bytesReceived, bytes); }
    internal void Refused() => Interlocked.Increment(ref _sendsRefused);
    /// <summary>Returns the new count for that reason.</summary>
    internal long Drop(FrameDrop reason) => Interlocked.Increment(ref _dropped[(int)reason]);

    public override string ToString() =>
        $"sent {FramesSent} frames/{BytesSent} B, received {FramesReceived} frames/{BytesReceived} B, refused {SendsRefused}, dropped "
        + string.Join(", ", Enum.GetValues<FrameDrop>().Where(r => Dropped(r) > 0).Select(r => $"{r} {Dropped(r)}").DefaultIfEmpty("none"));
}
