// The synchronous heart of the real node: owns the pure EdgeNode and turns host events into its
// inputs and its outputs into adapter calls. Everything happens in Handle(now, event), called by
// one thread (NodeHost's loop, or a test directly); nothing here reads a clock or waits.
//   - Every node input and every HandleTimeout is written to the trace (when one is given)
//     before the node sees it, so the trace replays into a fresh EdgeNode with the same id, seed,
//     fingerprint and config to the same outputs (NodeTraceReplay).
//   - Presence: XMPP presences update the PresenceRoster; each change gives the node one
//     NodeInput.Presence with the whole view (our own id included).
//   - Signals: a payload is accepted only from an address whose presence announced a node id;
//     the id comes from the presence, never from the payload.
//   - After each input: outputs drained to the adapters, invariants checked.
// Lookup membership (Topology.Membership = "lookup"): the node bootstraps ResyncDelay after it is
// first online or first hears of a member (by then the server has announced who is online),
// through the member BootstrapChoice names (alone when nobody is online); again JoinRetryDelay
// (jittered) after a JoinFailed; and at once, through a random member, when its ring's self-check
// asks for an introducer. Membership messages travel through the signaling server (not over links yet).
// Signaling outage: the roster is kept (links may still be up); presences after a reconnect
// update it, and a peer not announced again within ResyncDelay of being online again left while
// we were offline: it is dropped from the view (XmppNodeBinding's resync), else the topology would
// want a link to it for ever.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.RealNode.Host;

/// <summary>Where the node's signals go (the XMPP client, or an in-memory relay in tests).</summary>
public interface ISignalingPort
{
    void Send(Jid to, string json);
}

public delegate void HostLog(XmppLogLevel level, string text);

public sealed class NodeDriver
{
    private readonly EdgeNode _node;
    private readonly EdgeNodeConfig _config;
    private readonly ILinkTransport _transport;
    private readonly ILocalPort _local;
    private readonly ISignalingPort _signalingPort;
    private readonly XmppNodeBinding _signaling;
    private readonly NodeTraceWriter? _trace;
    private readonly HostLog _log;
    private readonly string _overlayId;
    private readonly string _account;
    private readonly Instant _startedAt;
    private string _signalingState = "connecting";
    private bool _bootstrapNeeded;
    private Instant? _bootstrapDue;
    private int _notJoinedFailures;
    private readonly DeterministicRandom _bootstrapRandom;
    private Instant? _resyncDue;
    private long _linksUp, _linkFailures, _signalsSent, _signalsReceived;
    private string? _lastLinkFailure, _lastTransportError;
    private string? _downReason;   // the transport's reason for the TransportDown being handled now

    public NodeDriver(NodeId id, ulong seed, EdgeNodeConfig config, string overlayId, string account,
        ILinkTransport transport, ILocalPort local, ISignalingPort signaling, NodeTraceWriter? trace, HostLog log, Instant now)
    {
        Id = id;
        Seed = seed;
        _config = config;
        _overlayId = overlayId;
        _account = account;
        _transport = transport;
        _local = local;
        _signalingPort = signaling;
        _trace = trace;
        _log = log;
        _startedAt = now;
        _signaling = new XmppNodeBinding(id, overlayId);
        _node = new EdgeNode(id, config, new DeterministicRandom(seed), transport.LocalFingerprint);
        _bootstrapNeeded = config.Topology.Membership == MembershipMode.Lookup;
        _bootstrapRandom = new DeterministicRandom(seed).Fork("bootstrap");
        trace?.WriteHeader(new TraceHeader(id, seed, transport.LocalFingerprint));
    }

    public NodeId Id { get; }
    public ulong Seed { get; }

    /// <summary>Sees every output the node produces, before it is carried out (tests, logs).</summary>
    public Action<NodeOutput>? OutputObserver { get; set; }

    /// <summary>When the node wants HandleTimeout, or the roster's resync is due, next (null: neither).</summary>
    public Instant? NextWake => Instant.Earliest(Instant.Earliest(_node.PollTimeout(), _resyncDue), _bootstrapDue);

    public bool IsConnectedTo(NodeId peer) => _node.IsConnectedTo(peer);

    public void Handle(Instant now, HostEvent e)
    {
        switch (e)
        {
            case HostEvent.Wake:
                if (_resyncDue is { } resync && resync <= now)
                {
                    _resyncDue = null;
                    if (_signaling.EndResync()) Input(now, new NodeInput.Presence(_signaling.Roster.View()));
                }
                if (_bootstrapDue is { } bootstrap && bootstrap <= now) Bootstrap(now);
                if (_node.PollTimeout() is { } due && due <= now) Timeout(now);
                break;
            case HostEvent.Link l: OnLink(now, l.Event); break;
            case HostEvent.LocalFrame f: Input(now, new NodeInput.LocalFrame(f.Frame)); break;
            case HostEvent.Xmpp x: OnXmpp(now, x.Event); break;
            case HostEvent.Leave:
                // Logged here, on the loop, so that it follows every event handled before it.
                _log(XmppLogLevel.Info, "leaving: closing links");
                Input(now, new NodeInput.Leave());
                break;
            case HostEvent.StatusRequest r: r.Reply.TrySetResult(Status(now)); break;
            case HostEvent.Stop: break;
        }
    }

    private void OnLink(Instant now, LinkEvent e)
    {
        switch (e)
        {
            case LinkEvent.EndpointPrepared p: Input(now, new NodeInput.EndpointPrepared(p.Link, p.Endpoint)); break;
            case LinkEvent.TransportUp u: Input(now, new NodeInput.TransportUp(u.Link)); break;
            case LinkEvent.TransportDown d:
                _log(XmppLogLevel.Info, $"link {d.Link}: transport down: {d.Reason}");
                _lastTransportError = d.Reason;
                _downReason = d.Reason;   // LinkFailed follows in the same drain and quotes it
                Input(now, new NodeInput.TransportDown(d.Link));
                _downReason = null;
                break;
            case LinkEvent.Frame f: Input(now, new NodeInput.LinkFrame(f.Link, f.Bytes)); break;
            case LinkEvent.KeepAlive k: Input(now, new NodeInput.KeepAlive(k.Link)); break;
        }
    }

    private void OnXmpp(Instant now, XmppOutput e)
    {
        switch (e)
        {
            case XmppOutput.Online o:
                _signalingState = "online";
                _signaling.BeginResync();
                _resyncDue = now + ResyncDelay;
                if (_bootstrapNeeded && _bootstrapDue is null) _bootstrapDue = now + ResyncDelay;
                _log(XmppLogLevel.Info, $"signaling online as {o.BoundJid}");
                break;
            case XmppOutput.Offline o:
                _signalingState = "offline: " + o.Reason;
                _log(XmppLogLevel.Warning, $"signaling offline: {o.Reason}");
                break;
            case XmppOutput.Stopped s:
                _signalingState = "stopped: " + s.Reason;
                break;
            case XmppOutput.PeerPresence p:
                bool changed = _signaling.OnPresence(p, out string? refusal);
                if (refusal is not null) _log(XmppLogLevel.Warning, "presence refused: " + refusal);
                if (changed) Input(now, new NodeInput.Presence(_signaling.Roster.View()));
                if (_bootstrapNeeded && _bootstrapDue is null) _bootstrapDue = now + ResyncDelay;
                break;
            case XmppOutput.Signal s:
                OnSignal(now, s.From, s.Json);
                break;
            case XmppOutput.Log l:
                _log(l.Level, "xmpp: " + l.Text);
                break;
        }
    }

    private void OnSignal(Instant now, Jid from, string json)
    {
        if (_signaling.OnSignal(from, json, out string? drop) is not { } input)
        {
            _log(XmppLogLevel.Info, drop!);
            return;
        }
        _signalsReceived++;
        Input(now, input);
    }

    /// <summary>Joins (or, as a member, asks for an introducer) through the member BootstrapChoice names.</summary>
    private void Bootstrap(Instant now)
    {
        _bootstrapDue = null;
        if (!_bootstrapNeeded) return;
        _bootstrapNeeded = false;
        Input(now, new NodeInput.Bootstrap(BootstrapChoice.Choose(Id, _signaling.Roster.Members(), _notJoinedFailures, _bootstrapRandom)));
    }

    /// <summary>Lookup membership: a bootstrap at `at` unless one is due sooner.</summary>
    private void BootstrapAt(Instant at)
    {
        _bootstrapNeeded = true;
        if (_bootstrapDue is not { } due || at < due) _bootstrapDue = at;
    }

    private void Timeout(Instant now)
    {
        _trace?.Write(new TraceEntry(now, null));
        _node.HandleTimeout(now);
        AfterInput(now);
    }

    private void Input(Instant now, NodeInput input)
    {
        _trace?.Write(new TraceEntry(now, input));
        _node.Handle(now, input);
        AfterInput(now);
    }

    private void AfterInput(Instant now)
    {
        while (_node.TryPollOutput(out var output))
        {
            OutputObserver?.Invoke(output);
            Dispatch(now, output);
        }
        _node.CheckInvariants();
    }

    private void Dispatch(Instant now, NodeOutput output)
    {
        switch (output)
        {
            case NodeOutput.SendSignal or NodeOutput.SendMembership: SendSignal(output); break;
            case NodeOutput.PrepareEndpoint p: _transport.Prepare(p.Link, p.Peer, p.Role); break;
            case NodeOutput.ConnectTransport c: _transport.Connect(c.Link, c.Peer, c.Role, c.RemoteEndpoint, c.RemoteFingerprint); break;
            case NodeOutput.CloseTransport c: _transport.Close(c.Link); break;
            case NodeOutput.SendKeepAlive k: _transport.SendKeepAlive(k.Link); break;
            case NodeOutput.SendOnLink f: _transport.Send(f.Link, f.Frame); break;
            case NodeOutput.DeliverLocal d: _local.Deliver(d.Frame); break;
            case NodeOutput.Observed o: Observe(now, o.Event); break;
        }
    }

    private void SendSignal(NodeOutput output)
    {
        if (_signaling.ToSession(output, out string? drop) is not { } send)
        {
            _log(XmppLogLevel.Debug, drop!);
            return;
        }
        _signalsSent++;
        _signalingPort.Send(send.To, send.Json);
    }

    private void Observe(Instant now, NodeEvent e)
    {
        switch (e)
        {
            case NodeEvent.LinkUp u:
                _linksUp++;
                _log(XmppLogLevel.Info, $"link {u.Link} to {u.Peer.Short} up ({u.Kind}, {(u.Initiator ? "initiator" : "responder")})");
                break;
            case NodeEvent.LinkDown d:
                _log(XmppLogLevel.Info, $"link {d.Link} to {d.Peer.Short} down ({d.Reason})");
                break;
            case NodeEvent.LinkFailed f:
                _linkFailures++;
                _lastLinkFailure = $"{f.Peer.Short}: {f.Reason}" + (f.Refusal != LinkRefusal.None ? $" ({f.Refusal})" : "")
                    + (f.Reason == LinkFailure.TransportFailed && _downReason is { } why ? $": {why}" : "");
                _log(XmppLogLevel.Info, "link failed: " + _lastLinkFailure);
                break;
            case NodeEvent.JoinFailed j:
                _log(XmppLogLevel.Warning, "join failed: " + j.Reason);
                _notJoinedFailures = j.BootstrapNotMember ? _notJoinedFailures + 1 : 0;
                BootstrapAt(now + JoinRetryDelay * (0.5 + _bootstrapRandom.NextDouble()));
                break;
            case NodeEvent.IntroducerWanted:
                _notJoinedFailures = 0;   // a member: its failed joins must not make it "start alone"
                BootstrapAt(now);   // on the next wake: never re-enter the node while draining it
                break;
            case NodeEvent.Error err:
                _log(XmppLogLevel.Warning, "protocol error: " + err.Problem);
                break;
            case NodeEvent.Dropped d:
                _log(XmppLogLevel.Debug, "dropped: " + d.Reason);
                break;
        }
    }

    public NodeStatus Status(Instant now)
    {
        var links = new List<LinkStatus>();
        foreach (var s in _node.Links.Snapshot().OrderBy(s => s.Peer).ThenBy(s => s.Link.Value))
        {
            var t = _transport.Stats(s.Link);
            links.Add(new LinkStatus(s.Peer.ToString(), s.Link.ToString(), KindWord(s.Kind), s.State.ToString().ToLowerInvariant(), s.Initiator,
                Math.Round((now - s.CreatedAt).TotalSeconds, 3), PathWord(t.Path), t.RttMs, t.BytesIn, t.BytesOut,
                s.ConnectedAt is { } up ? Math.Round((up - s.CreatedAt).TotalMilliseconds, 1) : null));
        }
        var members = _signaling.Roster.Members();
        var peers = new List<PeerStatus>();
        foreach (var m in members)
            if (m != Id) peers.Add(new PeerStatus(m.ToString(), _signaling.Roster.AddressOf(m)?.ToString() ?? "?"));
        return new NodeStatus(Id.ToString(), _overlayId, _account, _signalingState, members.Count, peers, links,
            _linksUp, _linkFailures, _lastLinkFailure, _lastTransportError, _signalsSent, _signalsReceived, Math.Round((now - _startedAt).TotalSeconds, 3));
    }

    /// <summary>After a reconnect, how long the server's presences of the members online may take to
    /// arrive (it sends them all at once, one round trip after our own presence).</summary>
    public static readonly TimeSpan ResyncDelay = TimeSpan.FromSeconds(5);

    /// <summary>Lookup membership: the mean wait before joining again after a failed join.</summary>
    public static readonly TimeSpan JoinRetryDelay = TimeSpan.FromSeconds(1);

    public static string KindWord(LinkKind k) => k switch
    {
        LinkKind.Successor => "successor",
        LinkKind.LongDistance => "long",
        _ => "ondemand",
    };

    public static string PathWord(LinkPathKind p) => p switch
    {
        LinkPathKind.Host => "host",
        LinkPathKind.ServerReflexive => "srflx",
        LinkPathKind.PeerReflexive => "prflx",
        LinkPathKind.Relay => "relay",
        LinkPathKind.Loopback => "loopback",
        _ => "unknown",
    };
}
