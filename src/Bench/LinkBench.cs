// Whole-link throughput: two DtlsLinks (handshake done) over an in-memory DatagramPipe; one
// thread sends frames as fast as TrySendFrame returns, the pipe's delivery thread opens them at
// the other link. Reports delivered payload MB/s and how many frames the bounded pipe queue
// dropped (the sender outrunning the receiver), i.e. the cost of the record layer plus one
// thread hand-off per frame, which is what a real node pays between socket and tap threads.
using System.Diagnostics;
using EdgeVpn.RealNode.Dtls;

namespace EdgeVpn.Bench;

internal static class LinkBench
{
    public sealed record Result(int FrameBytes, int FramesSent, long FramesDelivered, long FramesDropped, double DeliveredMBps, double Seconds);

    private sealed class Counter : IDtlsLinkEvents
    {
        public long Frames;
        public readonly ManualResetEventSlim Up = new();
        public void Connected(DtlsLink link) => Up.Set();
        public void Down(DtlsLink link, string reason) => Console.Error.WriteLine($"link {link.Name} down: {reason}");
        public void FrameReceived(DtlsLink link, ReadOnlySpan<byte> frame) => Interlocked.Increment(ref Frames);
        public void Log(DtlsLink link, string line) { }
    }

    public static Result Run(int frameBytes, int frames)
    {
        var now = DateTimeOffset.UtcNow;
        var a = DtlsIdentity.CreateSelfSigned("bench-a", now);
        var b = DtlsIdentity.CreateSelfSigned("bench-b", now);
        using var pipe = new DatagramPipe(DatagramFaults.None, seed: 1);
        var sender = new Counter();
        var receiver = new Counter();
        using var client = new DtlsLink("a", DtlsRole.Client, a, b.Fingerprint, pipe.A, sender);
        using var server = new DtlsLink("b", DtlsRole.Server, b, a.Fingerprint, pipe.B, receiver);
        server.Start();
        client.Start();
        if (!sender.Up.Wait(TimeSpan.FromSeconds(30)) || !receiver.Up.Wait(TimeSpan.FromSeconds(30)))
            throw new InvalidOperationException("the benchmark links did not connect");

        byte[] frame = Enumerable.Range(0, frameBytes).Select(i => (byte)i).ToArray();
        for (int i = 0; i < 10_000; i++) client.TrySendFrame(frame);  // warm-up
        SpinWait.SpinUntil(() => Interlocked.Read(ref receiver.Frames) + pipe.Dropped >= 10_000, TimeSpan.FromSeconds(30));
        long deliveredBefore = Interlocked.Read(ref receiver.Frames), droppedBefore = pipe.Dropped;

        var clock = Stopwatch.StartNew();
        for (int i = 0; i < frames; i++) client.TrySendFrame(frame);
        SpinWait.SpinUntil(() => Interlocked.Read(ref receiver.Frames) - deliveredBefore + pipe.Dropped - droppedBefore >= frames, TimeSpan.FromSeconds(60));
        double seconds = clock.Elapsed.TotalSeconds;
        long delivered = Interlocked.Read(ref receiver.Frames) - deliveredBefore;
        return new Result(frameBytes, frames, delivered, pipe.Dropped - droppedBefore, (double)delivered * frameBytes / seconds / 1e6, seconds);
    }
}
