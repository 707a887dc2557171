// Shared pieces of the DTLS tests: an event recorder with bounded waits (liveness bounds, never
// timing assertions) and a pair of links over a DatagramPipe.
using System.Collections.Concurrent;
using EdgeVpn.RealNode.Dtls;

namespace EdgeVpn.Tests.Dtls;

internal sealed class LinkRecorder : IDtlsLinkEvents
{
    public static readonly TimeSpan EventBound = TimeSpan.FromSeconds(60);

    private readonly object _gate = new();  // Monitor.Wait/PulseAll need a plain object
    public ConcurrentQueue<byte[]> Frames { get; } = new();
    public ConcurrentQueue<string> Logs { get; } = new();
    public bool IsConnected { get; private set; }
    public string? DownReason { get; private set; }

    public void Connected(DtlsLink link) { lock (_gate) { IsConnected = true; Monitor.PulseAll(_gate); } }
    public void Down(DtlsLink link, string reason) { lock (_gate) { DownReason = reason; Monitor.PulseAll(_gate); } }
    public void FrameReceived(DtlsLink link, ReadOnlySpan<byte> frame)
    {
        Frames.Enqueue(frame.ToArray());
        lock (_gate) Monitor.PulseAll(_gate);
    }
    public void Log(DtlsLink link, string line)
    {
        Logs.Enqueue(line);
        lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>Waits until condition holds (re-checked on every event); throws naming what after the bound.</summary>
    public void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + EventBound;
        lock (_gate)
        {
            while (!condition())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new TimeoutException($"not within {EventBound.TotalSeconds} s: {what}; logs: {string.Join(" | ", Logs)}");
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 200)));
            }
        }
    }
}

/// <summary>Records every datagram sent through it (to replay or tamper with later).</summary>
internal sealed class TappedTransport(IDatagramTransport inner) : IDatagramTransport
{
    public ConcurrentQueue<byte[]> Sent { get; } = new();
    public int DatagramBytesMax => inner.DatagramBytesMax;
    public void Send(ReadOnlySpan<byte> datagram) { Sent.Enqueue(datagram.ToArray()); inner.Send(datagram); }
    public ConcurrentQueue<byte[]> Received { get; } = new();
    public void SetReceiver(DatagramReceiver receiver) => inner.SetReceiver(d => { Received.Enqueue(d.ToArray()); receiver(d); });
    /// <summary>Sends raw bytes past the link, as an attacker on the path would.</summary>
    public void Inject(ReadOnlySpan<byte> datagram) => inner.Send(datagram);
}

internal sealed class LinkPair : IDisposable
{
    public static readonly DtlsConfig FastRetransmit = new() { RetransmitInitial = TimeSpan.FromMilliseconds(50), HandshakeTimeout = TimeSpan.FromSeconds(30) };
    private static readonly Lazy<DtlsIdentity> SharedClientIdentity = new(() => DtlsIdentity.CreateSelfSigned("client", DateTimeOffset.UtcNow));
    private static readonly Lazy<DtlsIdentity> SharedServerIdentity = new(() => DtlsIdentity.CreateSelfSigned("server", DateTimeOffset.UtcNow));

    public DatagramPipe Pipe { get; }
    public TappedTransport ClientWire { get; }
    public TappedTransport ServerWire { get; }
    public DtlsLink Client { get; }
    public DtlsLink Server { get; }
    public LinkRecorder ClientEvents { get; } = new();
    public LinkRecorder ServerEvents { get; } = new();

    public static DtlsIdentity ClientIdentity => SharedClientIdentity.Value;
    public static DtlsIdentity ServerIdentity => SharedServerIdentity.Value;

    /// <param name="clientExpects">The fingerprint the client received over signaling (default: the server's).</param>
    public LinkPair(DatagramFaults faults, ulong seed, DtlsConfig? config = null, DtlsFingerprint? clientExpects = null, DtlsFingerprint? serverExpects = null)
    {
        Pipe = new DatagramPipe(faults, seed);
        ClientWire = new TappedTransport(Pipe.A);
        ServerWire = new TappedTransport(Pipe.B);
        config ??= FastRetransmit;
        Client = new DtlsLink("client", DtlsRole.Client, ClientIdentity, clientExpects ?? ServerIdentity.Fingerprint, ClientWire, ClientEvents, config);
        Server = new DtlsLink("server", DtlsRole.Server, ServerIdentity, serverExpects ?? ClientIdentity.Fingerprint, ServerWire, ServerEvents, config);
        Server.Start();
        Client.Start();
    }

    public void WaitConnected()
    {
        ClientEvents.WaitUntil(() => ClientEvents.IsConnected || ClientEvents.DownReason is not null, "client connected");
        ServerEvents.WaitUntil(() => ServerEvents.IsConnected || ServerEvents.DownReason is not null, "server connected");
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        Pipe.Dispose();
    }
}
