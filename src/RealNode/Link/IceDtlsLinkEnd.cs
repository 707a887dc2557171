// One end of one link on the real network: an IceLink (sockets, STUN/TURN, checks) and, once
// ICE has selected a pair, a DtlsLink over it (PathDatagramTransport adapts the path). Steps,
// run by one dedicated setup thread per end (blocking waits, no thread pool: a starved pool
// delayed wake-ups by seconds under the test host):
//   1. gathering ends -> EndpointPrepared(RFC 8839 text of credentials and candidates);
//   2. the peer's endpoint and fingerprint arrive (Connect) -> given to the ICE agent;
//   3. ICE selects a pair -> the DTLS handshake starts (ICE controlling = DTLS client), the peer
//      certificate must match the fingerprint from signaling;
//   4. DTLS connected -> TransportUp. The setup thread ends here.
// Afterwards frames are frame records (an empty record is a keep-alive); the DTLS link reports
// frames on the path's reader thread. Any failure (gathering, ICE checks, consent lost, DTLS,
// fingerprint mismatch) goes to the owner once, with the reason in words; the owner reports
// TransportDown and closes the end. The known race: the ICE agent drops application data that
// arrives before its own side selected the pair, so a first DTLS flight can be lost; DTLS
// retransmits it.
// Close is idempotent and returns at once: the DTLS link (close_notify), the adapter and the ICE
// link (TURN deallocation) are disposed on a background task the owner can await.
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Ice;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Link;

internal interface ILinkEndOwner
{
    void EndpointReady(IceDtlsLinkEnd end, string endpoint);
    void Up(IceDtlsLinkEnd end);
    void Failed(IceDtlsLinkEnd end, string reason);
    void Received(IceDtlsLinkEnd end, ReadOnlySpan<byte> frame);
}

internal sealed class IceDtlsLinkEnd : IDtlsLinkEvents
{
    private sealed class Stopped : Exception;

    private readonly ILinkEndOwner _owner;
    private readonly IceDtlsTransportOptions _options;
    private readonly DtlsIdentity _identity;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<(IceEndpoint Endpoint, DtlsFingerprint Fingerprint)> _remote = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IceLink _ice;
    private PathDatagramTransport? _path;
    private DtlsLink? _dtls;
    private bool _closed;
    private Task? _disposal;

    public LinkId Link { get; }
    public NodeId Peer { get; }
    public IceRole Role { get; }
    public string Name { get; }

    private IceDtlsLinkEnd(ILinkEndOwner owner, IceDtlsTransportOptions options, DtlsIdentity identity, LinkId link, NodeId peer, IceRole role, IceLink ice, string name)
    {
        _owner = owner;
        _options = options;
        _identity = identity;
        _ice = ice;
        Link = link;
        Peer = peer;
        Role = role;
        Name = name;
    }

    /// <summary>Opens the ICE end (binds sockets, starts gathering); Start runs the rest. Throws IOException/ArgumentException when ICE cannot start.</summary>
    public static IceDtlsLinkEnd Open(ILinkEndOwner owner, IceDtlsTransportOptions options, DtlsIdentity identity, LinkId link, NodeId peer, IceRole role)
    {
        string name = $"link {link}";
        var config = options.Link.Ice with { Role = role };
        if (options.Servers is { } servers) config = servers().ApplyTo(config);   // as resolved now: names change while the node runs
        var iceOptions = options.Link with { Ice = config, Seed = null };
        var log = options.Log;
        var ice = options.Open(iceOptions, options.Time, line => log(XmppLogLevel.Debug, line), name);
        var end = new IceDtlsLinkEnd(owner, options, identity, link, peer, role, ice, name);
        // After setup, ICE can still end (consent lost, a failed refresh): that ends the link.
        return end;
    }

    /// <summary>Starts the setup thread; the owner calls it once the end is in its table (events name only known ends).</summary>
    public void Start()
    {
        // After setup, ICE can still end (consent lost, a failed refresh): that ends the link.
        _ = _ice.Closed.ContinueWith(t => Fail("ICE: " + t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        new Thread(Setup) { IsBackground = true, Name = "setup " + Name }.Start();
    }

    /// <summary>The peer's endpoint and fingerprint from signaling (a second call is ignored).</summary>
    public void Connect(IceEndpoint remote, DtlsFingerprint fingerprint) => _remote.TrySetResult((remote, fingerprint));

    /// <summary>One frame (empty: a keep-alive) as one frame record; false when not connected or too large.</summary>
    public bool Send(ReadOnlySpan<byte> frame) => Volatile.Read(ref _dtls) is { State: DtlsLinkState.Connected } dtls && dtls.TrySendFrame(frame);

    public LinkTransportStats Stats()
    {
        var pair = _ice.SelectedPair;
        var counters = Volatile.Read(ref _dtls)?.Counters;
        var path = pair is null ? LinkPathKind.Unknown : pair.Kind switch
        {
            IcePathKind.Host => LinkPathKind.Host,
            IcePathKind.ServerReflexive => LinkPathKind.ServerReflexive,
            IcePathKind.PeerReflexive => LinkPathKind.PeerReflexive,
            _ => LinkPathKind.Relay,
        };
        return new LinkTransportStats(path, pair is null ? null : Math.Round(pair.Rtt.TotalMilliseconds, 2),
            counters?.BytesReceived ?? 0, counters?.BytesSent ?? 0, counters?.FramesReceived ?? 0, counters?.FramesSent ?? 0);
    }

    public IceSelectedPair? SelectedPair => _ice.SelectedPair;

    private void Setup()
    {
        try
        {
            var local = Wait(_ice.Gathered);
            if (_ice.RelayProblem is { } relay) _options.Log(XmppLogLevel.Warning, $"{Name}: {relay}");
            _owner.EndpointReady(this, IceEndpointCodec.Encode(local));
            var (remote, fingerprint) = Wait(_remote.Task);
            _ice.SetRemote(remote);
            var pair = Wait(_ice.Connected);
            _options.Log(XmppLogLevel.Info, $"{Name}: ICE selected {pair}; DTLS {(Role == IceRole.Controlling ? "client" : "server")} starts");
            DtlsLink dtls;
            lock (_gate)
            {
                if (_closed) return;
                _path = new PathDatagramTransport(_ice, Name);
                dtls = new DtlsLink(Name, DtlsRoles.ForIce(Role == IceRole.Controlling), _identity, fingerprint, _path, this, _options.Dtls);
                Volatile.Write(ref _dtls, dtls);
            }
            dtls.Start();
        }
        catch (Stopped) { }
        catch (IceLinkFailedException e) { Fail("ICE: " + e.Message); }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
            Fail($"link setup failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Blocks this (the setup) thread until the task ends or the end is closed; rethrows the task's own failure.</summary>
    private T Wait<T>(Task<T> task)
    {
        try { task.Wait(_closing.Token); }
        catch (OperationCanceledException) { throw new Stopped(); }
        catch (AggregateException e) when (e.InnerException is { } inner) { throw inner; }
        return task.Result;
    }

    private void Fail(string reason)
    {
        lock (_gate) if (_closed) return;
        _owner.Failed(this, reason);
    }

    // --- IDtlsLinkEvents (the DTLS handshake thread and the path's reader thread) -------------

    void IDtlsLinkEvents.Connected(DtlsLink link) => _owner.Up(this);
    void IDtlsLinkEvents.Down(DtlsLink link, string reason) => Fail(reason);
    void IDtlsLinkEvents.FrameReceived(DtlsLink link, ReadOnlySpan<byte> frame) => _owner.Received(this, frame);
    void IDtlsLinkEvents.Log(DtlsLink link, string line) => _options.Log(XmppLogLevel.Debug, $"{Name}: {line}");

    /// <summary>Stops the end; the returned task completes when DTLS, the adapter and ICE are disposed.</summary>
    public Task Close()
    {
        lock (_gate)
        {
            if (_disposal is not null) return _disposal;
            _closed = true;
            _closing.Cancel();
            var dtls = _dtls;
            var path = _path;
            _disposal = Task.Run(async () =>
            {
                dtls?.Dispose();   // close_notify while the path is still up
                path?.Dispose();
                await _ice.DisposeAsync();
            });
            return _disposal;
        }
    }
}
