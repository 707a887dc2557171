// BouncyCastle's blocking DatagramTransport on top of our push-style IDatagramTransport.
// Sending: BouncyCastle writes each record of a flight separately; we pack consecutive records
// into one datagram (RFC 6347 §4.1.1 allows several records per datagram) and send it when
// BouncyCastle starts waiting for the peer (Receive), when the next record would not fit, or on
// Flush/Close. Why: BouncyCastle 2.7 switches its read epoch as soon as a ChangeCipherSpec
// arrives, so a CCS that overtakes the CertificateVerify of the same flight on a reordering
// path strands the handshake for good (seen in the tests: every retransmission is then
// ignored). One flight in one datagram cannot be reordered within itself; our flights are
// ~600 bytes with a self-signed P-256 certificate, far below any path's datagram size.
// Receiving: handshake/alert datagrams are posted into a bounded queue that BouncyCastle's
// Receive(waitMillis) drains. Stop() makes a pending and every later Receive throw IOException
// (BouncyCastle then aborts a running handshake) and turns sends into no-ops.
using System.Collections.Concurrent;
using Org.BouncyCastle.Tls;

namespace EdgeVpn.RealNode.Dtls;

internal sealed class BcDatagramAdapter(Action<ReadOnlySpan<byte>> send, int datagramBytesMax, int queueDatagramsMax) : DatagramTransport
{
    private readonly BlockingCollection<byte[]> _queue = new(queueDatagramsMax);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _sendGate = new();
    private readonly byte[] _pending = new byte[datagramBytesMax];
    private int _pendingBytes;
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>False (and counted) when the queue is full or the adapter stopped.</summary>
    public bool Post(ReadOnlySpan<byte> datagram)
    {
        if (!_stop.IsCancellationRequested && _queue.TryAdd(datagram.ToArray())) return true;
        Interlocked.Increment(ref _dropped);
        return false;
    }

    public void Stop() => _stop.Cancel();

    public int GetReceiveLimit() => datagramBytesMax;
    public int GetSendLimit() => datagramBytesMax;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    /// <summary>A waitMillis of zero waits for ever (BouncyCastle's convention); -1 on time-out.</summary>
    public int Receive(Span<byte> buffer, int waitMillis)
    {
        Flush();
        byte[]? datagram;
        try
        {
            if (!_queue.TryTake(out datagram, waitMillis == 0 ? Timeout.Infinite : waitMillis, _stop.Token)) return -1;
        }
        catch (OperationCanceledException)
        {
            throw new IOException("the link was closed locally");
        }
        int n = Math.Min(datagram.Length, buffer.Length);  // a truncated datagram fails BouncyCastle's length check
        datagram.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> record)
    {
        lock (_sendGate)
        {
            if (_stop.IsCancellationRequested) return;
            if (_pendingBytes + record.Length > _pending.Length) FlushLocked();
            if (record.Length > _pending.Length) { send(record); return; }  // BouncyCastle fragments to GetSendLimit: not expected
            record.CopyTo(_pending.AsSpan(_pendingBytes));
            _pendingBytes += record.Length;
        }
    }

    public void Flush()
    {
        lock (_sendGate) FlushLocked();
    }

    private void FlushLocked()
    {
        if (_pendingBytes == 0) return;
        if (!_stop.IsCancellationRequested) send(_pending.AsSpan(0, _pendingBytes));
        _pendingBytes = 0;
    }

    /// <summary>BouncyCastle closes its transport after close_notify or a fatal alert: send that first.</summary>
    public void Close()
    {
        Flush();
        Stop();
    }
}
