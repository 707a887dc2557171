// The deployable node's link transport (ILinkTransport): each link is ICE on real UDP sockets
// (STUN server-reflexive and TURN relayed candidates) with DTLS 1.2 on the selected pair, one
// IceDtlsLinkEnd per link; each end's agent starts from the servers as resolved when the link is
// prepared (IceDtlsTransportOptions.Servers) and keeps them for its life. Signaling carries, as the node's endpoint strings, the RFC 8839
// attribute lines of IceEndpointCodec (ufrag, pwd, candidates, end-of-candidates), and the
// certificate fingerprint in RFC 8122 form; a malformed endpoint or fingerprint from the peer
// fails the link at once with the reason, and a certificate that does not match the announced
// fingerprint is refused by the DTLS handshake (both ends report why).
// The node's identity: one self-signed certificate per transport (per node start); its
// fingerprint is LocalFingerprint. Frames travel as DTLS frame records; a keep-alive is an empty
// record. Stats: the selected pair's path kind and check RTT (from the ICE connectivity check
// that selected it), and the frame counters of the DTLS link.
// Threading: ILinkTransport methods run on the host loop and never block (sockets are bound in
// Prepare, which is quick; everything that waits runs on the end's own threads). Events reach
// ILinkEvents from those threads. After TransportDown or Close no state event is reported for the
// link (the end is removed from the table first and a removed end's events are dropped); a frame
// already on its way may still arrive, which the node ignores (unknown link).
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Link;

public sealed class IceDtlsLinkTransport : ILinkTransport, ILinkEndOwner
{
    private readonly ILinkEvents _events;
    private readonly IceDtlsTransportOptions _options;
    private readonly DtlsIdentity _identity;
    private readonly Lock _gate = new();
    private readonly Dictionary<LinkId, IceDtlsLinkEnd> _ends = [];
    private readonly List<Task> _closing = [];
    private bool _disposed;

    public IceDtlsLinkTransport(ILinkEvents events, IceDtlsTransportOptions options, DtlsIdentity identity)
    {
        var problems = options.Link.Validate();
        if (problems.Count > 0) throw new ArgumentException("invalid ICE link options: " + string.Join("; ", problems), nameof(options));
        options.Dtls.Validate();
        _events = events;
        _options = options;
        _identity = identity;
    }

    public string LocalFingerprint => _identity.Fingerprint.ToString();

    /// <summary>Links with an end (any state), for tests and diagnosis.</summary>
    public int Count { get { lock (_gate) return _ends.Count; } }

    public void Prepare(LinkId link, NodeId peer, IceRole role)
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (_ends.ContainsKey(link))
            {
                _options.Log(XmppLogLevel.Warning, $"link {link}: prepared twice; the second request is ignored");
                return;
            }
        }
        IceDtlsLinkEnd end;
        try { end = IceDtlsLinkEnd.Open(this, _options, _identity, link, peer, role); }
        catch (Exception e) when (e is IOException or ArgumentException or System.Net.Sockets.SocketException)
        {
            _events.Report(new LinkEvent.TransportDown(link, "ICE could not start: " + e.Message));
            return;
        }
        bool disposed;
        lock (_gate)
        {
            disposed = _disposed;
            if (!disposed) _ends[link] = end;
        }
        if (disposed) Track(end.Close());
        else end.Start();
    }

    public void Connect(LinkId link, NodeId peer, IceRole role, string remoteEndpoint, string remoteFingerprint)
    {
        var end = Find(link);
        if (end is null) return;
        var fingerprint = DtlsFingerprint.Parse(remoteFingerprint);
        if (!fingerprint.Ok) { Fail(end, "the peer's certificate fingerprint from signaling is malformed: " + fingerprint.Error); return; }
        var endpoint = IceEndpointCodec.Parse(remoteEndpoint);
        if (!endpoint.Ok) { Fail(end, "the peer's ICE endpoint from signaling is malformed: " + endpoint.Error); return; }
        end.Connect(endpoint.Value, fingerprint.Value);
    }

    public void Send(LinkId link, byte[] frame) => Find(link)?.Send(frame);

    public void SendKeepAlive(LinkId link) => Find(link)?.Send([]);

    public void Close(LinkId link)
    {
        IceDtlsLinkEnd? end;
        lock (_gate) _ends.Remove(link, out end);
        if (end is not null) Track(end.Close());
    }

    public LinkTransportStats Stats(LinkId link) => Find(link)?.Stats() ?? default;

    private IceDtlsLinkEnd? Find(LinkId link)
    {
        lock (_gate) return _ends.GetValueOrDefault(link);
    }

    /// <summary>True (and the end removed) when the end is still the table's: exactly one final event per link.</summary>
    private bool Remove(IceDtlsLinkEnd end)
    {
        lock (_gate)
        {
            if (!_ends.TryGetValue(end.Link, out var current) || current != end) return false;
            _ends.Remove(end.Link);
            return true;
        }
    }

    private bool IsCurrent(IceDtlsLinkEnd end)
    {
        lock (_gate) return _ends.TryGetValue(end.Link, out var current) && current == end;
    }

    private void Track(Task closing)
    {
        lock (_gate)
        {
            _closing.RemoveAll(t => t.IsCompleted);
            _closing.Add(closing);
        }
    }

    // --- ILinkEndOwner (the ends' threads) ---------------------------------------------------

    void ILinkEndOwner.EndpointReady(IceDtlsLinkEnd end, string endpoint)
    {
        if (IsCurrent(end)) _events.Report(new LinkEvent.EndpointPrepared(end.Link, endpoint));
    }

    void ILinkEndOwner.Up(IceDtlsLinkEnd end)
    {
        if (!IsCurrent(end)) return;
        _options.Log(XmppLogLevel.Info, $"{end.Name}: up over {end.SelectedPair}");
        _events.Report(new LinkEvent.TransportUp(end.Link));
    }

    void ILinkEndOwner.Failed(IceDtlsLinkEnd end, string reason) => Fail(end, reason);

    private void Fail(IceDtlsLinkEnd end, string reason)
    {
        if (!Remove(end)) return;
        _options.Log(XmppLogLevel.Info, $"{end.Name}: down: {reason}");
        _events.Report(new LinkEvent.TransportDown(end.Link, reason));
        Track(end.Close());
    }

    void ILinkEndOwner.Received(IceDtlsLinkEnd end, ReadOnlySpan<byte> frame) =>
        _events.Report(frame.IsEmpty ? new LinkEvent.KeepAlive(end.Link) : new LinkEvent.Frame(end.Link, frame.ToArray()));

    /// <summary>Closes every link and waits (at most DisposeBound) for their TURN allocations and DTLS sessions to close.</summary>
    public void Dispose()
    {
        List<IceDtlsLinkEnd> ends;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            ends = [.. _ends.Values];
            _ends.Clear();
        }
        foreach (var end in ends) Track(end.Close());
        Task[] closing;
        lock (_gate) closing = [.. _closing];
        if (!Task.WhenAll(closing).Wait(_options.DisposeBound))
            _options.Log(XmppLogLevel.Warning, $"link transport: {closing.Count(t => !t.IsCompleted)} link ends still closing after {_options.DisposeBound.TotalSeconds} s");
    }
}
