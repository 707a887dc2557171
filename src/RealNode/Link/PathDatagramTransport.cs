// Adapts ICE's IDatagramPath to the push-style IDatagramTransport a DtlsLink runs on. When the
// path pushes (TryDeliverTo: IceLink calls the receiver on its loop thread) the receiver is
// handed over and no thread is added: one hand-off less per datagram. Otherwise SetReceiver
// starts one dedicated reader thread that drains the path's Received channel and hands every
// datagram to the receiver, one at a time, in arrival order; a thread of its own rather than an
// async loop because a starved thread pool (seen under the test host: wake-ups late by seconds)
// would stall the DTLS handshake and every frame.
// Send never blocks: IDatagramPath.Send queues for the ICE loop or refuses (path not up yet, queue
// full, too large); a refusal is a lost datagram (DTLS retransmits its handshake, frames are
// datagrams) and is counted. The thread ends when the path closes (the channel completes) or on
// Dispose; Dispose joins it unless called from it.
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.RealNode.Link;

public sealed class PathDatagramTransport(IDatagramPath path, string name) : IDatagramTransport, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _reader;
    private bool _pushed;
    private long _sendsRefused;

    public int DatagramBytesMax => path.DatagramBytesMax;

    /// <summary>Datagrams the path refused to queue (not up, queue full, too large).</summary>
    public long SendsRefused => Interlocked.Read(ref _sendsRefused);

    public void Send(ReadOnlySpan<byte> datagram)
    {
        if (!path.Send(datagram)) Interlocked.Increment(ref _sendsRefused);
    }

    public void SetReceiver(DatagramReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (_reader is not null || _pushed) throw new InvalidOperationException("SetReceiver is called once");
        if (path.TryDeliverTo(datagram => { if (!_stop.IsCancellationRequested) receiver(datagram); }))
        {
            _pushed = true;
            return;
        }
        _reader = new Thread(() => Read(receiver)) { IsBackground = true, Name = "path " + name };
        _reader.Start();
    }

    private void Read(DatagramReceiver receiver)
    {
        var reader = path.Received;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                while (reader.TryRead(out var datagram))
                {
                    receiver(datagram);
                    if (_stop.IsCancellationRequested) return;
                }
                var wait = reader.WaitToReadAsync(_stop.Token);
                if (!(wait.IsCompleted ? wait.Result : wait.AsTask().GetAwaiter().GetResult())) return;   // the path closed
            }
        }
        catch (OperationCanceledException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_reader is not null && _reader != Thread.CurrentThread) _reader.Join();
        // _stop is not disposed: the reader may still look at it when Dispose runs on its own thread.
    }
}
