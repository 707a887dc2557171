// Frame protection throughput: BouncyCastle's DTLS record layer (AES-128-GCM, negotiated by a
// real handshake) versus our AES-128-GCM frame records on .NET's AesGcm (keys from the same
// handshake's RFC 5705 exporter). Each iteration protects one frame on the sending side and
// authenticates/decrypts it on the receiving side, on one thread, through a one-slot in-memory
// transport, so the figure is pure record-layer cost (both directions of work on one core).
// Prints frame payload MB/s (10^6 bytes per second) for each: median of the timed rounds.
using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeVpn.RealNode.Dtls;
using Org.BouncyCastle.Tls;

namespace EdgeVpn.Bench;

internal static class RecordBench
{
    public sealed record Result(string Name, int FrameBytes, int Frames, double[] RoundsMBps)
    {
        public double MedianMBps => RoundsMBps.Order().ElementAt(RoundsMBps.Length / 2);
    }

    public static (Result BouncyCastle, Result AesGcm) Run(int frameBytes, int frames, int rounds)
    {
        var now = DateTimeOffset.UtcNow;
        var clientId = DtlsIdentity.CreateSelfSigned("bench-client", now);
        var serverId = DtlsIdentity.CreateSelfSigned("bench-server", now);
        var clientPolicy = new DtlsPeerPolicy(clientId, serverId.Fingerprint, DtlsConfig.Default, isClient: true);
        var serverPolicy = new DtlsPeerPolicy(serverId, clientId.Fingerprint, DtlsConfig.Default, isClient: false);
        var clientWire = new SlotTransport();
        var serverWire = new SlotTransport();
        clientWire.Peer = serverWire;
        serverWire.Peer = clientWire;

        DtlsTransport? server = null;
        var serverThread = new Thread(() => server = DtlsHandshake.Run(DtlsRole.Server, serverPolicy, serverWire));
        serverThread.Start();
        var client = DtlsHandshake.Run(DtlsRole.Client, clientPolicy, clientWire);
        serverThread.Join();
        if (server is null) throw new InvalidOperationException("the benchmark handshake failed: " + serverPolicy.Failure);
        clientWire.Direct = serverWire.Direct = true;

        byte[] frame = Enumerable.Range(0, frameBytes).Select(i => (byte)i).ToArray();
        byte[] received = new byte[FrameRecord.FrameBytesMax];

        void BouncyCastleOnce()
        {
            client.Send(frame, 0, frame.Length);
            if (server.Receive(received, 0, received.Length, 1) != frame.Length) throw new InvalidOperationException("BouncyCastle lost a record");
        }

        var clientKeys = FrameKeys.FromExporter(clientPolicy.ExportedKeys!, isClient: true);
        var serverKeys = FrameKeys.FromExporter(serverPolicy.ExportedKeys!, isClient: false);
        using var sealer = new FrameSealer(clientKeys.SealKey, clientKeys.SealSalt);
        using var opener = new FrameOpener(serverKeys.OpenKey, serverKeys.OpenSalt);
        byte[] record = new byte[frameBytes + FrameRecord.OverheadBytes];
        void AesGcmOnce()
        {
            int length = sealer.Seal(frame, record);
            if (opener.Open(record.AsSpan(0, length), received, out _) != frame.Length) throw new InvalidOperationException("a frame record did not open");
        }

        // Warm-up (JIT tiers, caches), then rounds alternate between the two so that a change in
        // the shared machine's load falls on both alike.
        for (int i = 0; i < Math.Max(1000, frames / 10); i++) { BouncyCastleOnce(); AesGcmOnce(); }
        var bc = new double[rounds];
        var aes = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            bc[r] = Round(frameBytes, frames, BouncyCastleOnce);
            aes[r] = Round(frameBytes, frames, AesGcmOnce);
        }
        return (new Result("BouncyCastle DTLS record layer", frameBytes, frames, bc), new Result(".NET AesGcm frame records", frameBytes, frames, aes));
    }

    private static double Round(int frameBytes, int frames, Action once)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < frames; i++) once();
        return (double)frameBytes * frames / clock.Elapsed.TotalSeconds / 1e6;
    }

    // One datagram in flight per direction once Direct (the benchmark alternates send/receive);
    // a blocking queue while the handshake runs on two threads.
    private sealed class SlotTransport : DatagramTransport
    {
        private readonly BlockingCollection<byte[]> _queue = new(64);
        private readonly byte[] _slot = new byte[2048];
        private int _slotBytes = -1;
        public SlotTransport? Peer;
        public volatile bool Direct;

        public int GetReceiveLimit() => 1500;
        public int GetSendLimit() => 1500;
        public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

        public int Receive(Span<byte> buffer, int waitMillis)
        {
            if (Direct)
            {
                int n = _slotBytes;
                if (n < 0) return -1;
                _slot.AsSpan(0, n).CopyTo(buffer);
                _slotBytes = -1;
                return n;
            }
            if (!_queue.TryTake(out var datagram, waitMillis == 0 ? Timeout.Infinite : waitMillis)) return -1;
            datagram.CopyTo(buffer);
            return datagram.Length;
        }

        public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

        public void Send(ReadOnlySpan<byte> buffer)
        {
            if (Peer!.Direct) { buffer.CopyTo(Peer._slot); Peer._slotBytes = buffer.Length; }
            else Peer._queue.Add(buffer.ToArray());
        }

        public void Close() { }
    }
}
