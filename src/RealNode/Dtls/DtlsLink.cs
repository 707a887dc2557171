// One encrypted link over one datagram path: a DTLS 1.2 handshake (BouncyCastle) that
// authenticates the peer by the certificate fingerprint received over signaling, then Ethernet
// frames as AES-128-GCM frame records (FrameRecord) keyed from the handshake's exporter.
// Lifecycle: new -> Start() -> Handshaking -> Connected -> Down (or Closed by Dispose).
//   - The handshake runs on its own thread (BouncyCastle is blocking), retransmits with back-off
//     and gives up after DtlsConfig.HandshakeTimeout; a failure reaches IDtlsLinkEvents.Down once,
//     with a reason in words ("fingerprint mismatch: ...", "no handshake within 20 s", ...).
//   - After the handshake the same thread keeps servicing BouncyCastle's records (a retransmitted
//     final flight when ours was lost, alerts, the peer's close_notify).
//   - Received datagrams (transport thread) are split by first byte: frame records are opened
//     inline and delivered; other DTLS records go to BouncyCastle's queue; anything else is
//     dropped. Drops are counted per reason and logged when a reason's count reaches a power of
//     two (1, 2, 4, ...), so a flood of forgeries cannot flood the log. Nothing here throws on
//     received bytes.
//   - TrySendFrame may be called from any thread once Connected.
// Dispose sends close_notify when connected, aborts a running handshake, and joins the thread.
using System.Buffers;
using Org.BouncyCastle.Tls;

namespace EdgeVpn.RealNode.Dtls;

public enum DtlsLinkState { New, Handshaking, Connected, Down, Closed }

public sealed class DtlsLink : IDisposable
{
    private readonly IDatagramTransport _transport;
    private readonly IDtlsLinkEvents _events;
    private readonly DtlsPeerPolicy _policy;
    private readonly BcDatagramAdapter _adapter;
    private readonly byte[] _received = new byte[FrameRecord.FrameBytesMax];
    private readonly Lock _gate = new();
    private Thread? _thread;
    private DtlsTransport? _dtls;
    private FrameSealer? _sealer;
    private FrameOpener? _opener;
    private volatile DtlsLinkState _state = DtlsLinkState.New;
    private string? _downReason;

    public string Name { get; }
    public DtlsRole Role { get; }
    public DtlsFingerprint LocalFingerprint { get; }
    public DtlsFingerprint ExpectedPeerFingerprint { get; }
    public DtlsLinkCounters Counters { get; } = new();
    public DtlsLinkState State => _state;
    public string? DownReason { get { lock (_gate) return _downReason; } }
    /// <summary>The largest frame this link carries over its path.</summary>
    public int FrameBytesMax => Math.Min(FrameRecord.FrameBytesMax, _transport.DatagramBytesMax - FrameRecord.OverheadBytes);

    public DtlsLink(string name, DtlsRole role, DtlsIdentity local, DtlsFingerprint expectedPeer,
        IDatagramTransport transport, IDtlsLinkEvents events, DtlsConfig? config = null)
    {
        config ??= DtlsConfig.Default;
        config.Validate();
        if (transport.DatagramBytesMax < 256) throw new ArgumentException($"a path of {transport.DatagramBytesMax}-byte datagrams is too small for DTLS", nameof(transport));
        Name = name;
        Role = role;
        LocalFingerprint = local.Fingerprint;
        ExpectedPeerFingerprint = expectedPeer;
        _transport = transport;
        _events = events;
        _policy = new DtlsPeerPolicy(local, expectedPeer, config, role == DtlsRole.Client);
        _adapter = new BcDatagramAdapter(transport.Send, transport.DatagramBytesMax, config.HandshakeQueueDatagramsMax);
    }

    public void Start()
    {
        lock (_gate)
        {
            if (_state != DtlsLinkState.New) throw new InvalidOperationException($"link {Name} was already started");
            _state = DtlsLinkState.Handshaking;
        }
        _transport.SetReceiver(OnDatagram);
        _thread = new Thread(Run) { IsBackground = true, Name = "dtls-" + Name };
        _thread.Start();
    }

    /// <summary>Encrypts and sends one frame; false (counted) when not connected or too large.</summary>
    public bool TrySendFrame(ReadOnlySpan<byte> frame)
    {
        var sealer = Volatile.Read(ref _sealer);
        if (sealer is null || _state != DtlsLinkState.Connected || frame.Length > FrameBytesMax)
        {
            Counters.Refused();
            return false;
        }
        byte[] record = ArrayPool<byte>.Shared.Rent(frame.Length + FrameRecord.OverheadBytes);
        try
        {
            int length = sealer.Seal(frame, record);
            _transport.Send(record.AsSpan(0, length));
        }
        catch (ObjectDisposedException)
        {
            Counters.Refused();  // closed while sending
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
        Counters.Sent(frame.Length);
        return true;
    }

    private void Run()
    {
        DtlsTransport dtls;
        try
        {
            dtls = DtlsHandshake.Run(Role, _policy, _adapter);
            _adapter.Flush();  // the server's last flight (ChangeCipherSpec, Finished)
            var keys = FrameKeys.FromExporter(_policy.ExportedKeys ?? throw new TlsFatalAlert(AlertDescription.internal_error), Role == DtlsRole.Client);
            lock (_gate)
            {
                if (_state != DtlsLinkState.Handshaking) { dtls.Close(); return; }
                _dtls = dtls;
                _opener = new FrameOpener(keys.OpenKey, keys.OpenSalt);
                Volatile.Write(ref _sealer, new FrameSealer(keys.SealKey, keys.SealSalt));
                _state = DtlsLinkState.Connected;
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException)
        {
            GoDown(HandshakeFailure(e));
            return;
        }
        _events.Log(this, $"DTLS {Role.ToString().ToLowerInvariant()} connected; peer {_policy.PeerFingerprint}");
        _events.Connected(this);
        Service(dtls);
    }

    // Keeps BouncyCastle's record layer running: it answers a retransmitted final flight and
    // notices the peer's close_notify. It returns no application data in normal operation.
    private void Service(DtlsTransport dtls)
    {
        var buffer = new byte[FrameRecord.FrameBytesMax];
        try
        {
            while (_state == DtlsLinkState.Connected && !_policy.PeerClosed)
            {
                if (dtls.Receive(buffer, 0, buffer.Length, 1000) >= 0)
                    Dropped(FrameDrop.NotFrameRecord, "DTLS application data outside a frame record");
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) { }
        if (_state == DtlsLinkState.Connected)
            GoDown(_policy.PeerClosed ? "the peer closed the link" : _policy.Failure ?? "the DTLS session failed");
    }

    private string HandshakeFailure(Exception e)
    {
        if (_state == DtlsLinkState.Closed) return "closed locally during the handshake";
        if (e is TlsTimeoutException)
            return $"no DTLS handshake within {_policy.Config.HandshakeTimeout.TotalSeconds:0.#} s (retransmitted from {_policy.Config.RetransmitInitial.TotalMilliseconds:0} ms)";
        string? recorded = _policy.Failure;
        if (recorded is not null && recorded.Contains("bad_certificate", StringComparison.Ordinal) && e is TlsFatalAlertReceived)
            return "the peer refused our certificate (bad_certificate): the fingerprint it received over signaling is not ours";
        return recorded ?? $"DTLS handshake failed: {e.Message}";
    }

    private void GoDown(string reason)
    {
        lock (_gate)
        {
            if (_state is DtlsLinkState.Down or DtlsLinkState.Closed) return;
            _state = DtlsLinkState.Down;
            _downReason = reason;
        }
        _adapter.Stop();
        _events.Log(this, "link down: " + reason);
        _events.Down(this, reason);
    }

    private void OnDatagram(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length == 0) { Dropped(FrameDrop.Truncated, "empty datagram"); return; }
        byte first = datagram[0];
        if (first == FrameRecord.ContentType)
        {
            var opener = _opener;
            if (opener is null || _state != DtlsLinkState.Connected) { Dropped(FrameDrop.NotConnected, "frame record before the link is up or after it is down"); return; }
            int length;
            FrameDrop? drop;
            try { length = opener.Open(datagram, _received, out drop); }
            catch (ObjectDisposedException) { Dropped(FrameDrop.NotConnected, "frame record while closing"); return; }
            if (drop is { } reason) { Dropped(reason, null); return; }
            Counters.Received(length);
            _events.FrameReceived(this, _received.AsSpan(0, length));
        }
        else if (first is >= 20 and <= 63)
        {
            if (!_adapter.Post(datagram) && _state == DtlsLinkState.Handshaking)
                Dropped(FrameDrop.QueueFull, "handshake queue full");
        }
        else Dropped(FrameDrop.NotFrameRecord, $"first byte {first} is not a DTLS record (RFC 7983 range 20..63)");
    }

    private void Dropped(FrameDrop reason, string? detail)
    {
        long count = Counters.Drop(reason);
        if ((count & (count - 1)) == 0)
            _events.Log(this, $"dropped a received record: {reason}{(detail is null ? "" : " (" + detail + ")")}; {count} so far");
    }

    public void Dispose()
    {
        DtlsTransport? dtls;
        lock (_gate)
        {
            if (_state == DtlsLinkState.Closed) return;
            _state = DtlsLinkState.Closed;
            dtls = _dtls;
        }
        try { dtls?.Close(); } catch (IOException) { }  // sends close_notify, then closes the adapter
        _adapter.Stop();
        if (_thread is not null && _thread != Thread.CurrentThread) _thread.Join();
        _sealer?.Dispose();
        _opener?.Dispose();
    }
}
