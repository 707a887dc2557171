// The link lifecycle of one node (EdgeVPN's LinkManager): negotiates links over signaling
// (request -> response with the responder's endpoint -> completion with the initiator's),
// asks the host to prepare and connect the transport, keeps connected links alive, removes dead
// ones, and excludes failing peers for a growing, jittered back-off.
// Contract: sans-IO (see IStateMachine). Handle/HandleTimeout never throw on any input; inputs the
// transition table (LinkTransitions) does not allow come out as Error outputs and change nothing.
// Inputs naming a link this machine no longer knows are normal races and are ignored silently.
// Sized for a million instances per process: records live in one array sorted by peer id, all
// collections are allocated on first use, and no iteration depends on hash order.
using System.Runtime.CompilerServices;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

public sealed partial class LinkManager : IStateMachine<LinkInput, LinkOutput>, ILinkTable
{
    private const string MachineName = "LinkManager";
    private const string NoRecord = "NoLink";

    private struct Record : IPeerKeyed
    {
        public NodeId Peer { readonly get; set; }
        public LinkKind Kind;
        public LinkState State;
        public bool Initiator;
        public Instant CreatedAt;
        public Instant ConnectedAt;
        public Instant LastActivity;
        // No reference fields: a record is 48 bytes, and an array of them is one block the GC
        // never has to scan; a million nodes hold tens of millions of records. The remote offer
        // an initiator holds for a moment lives in _remotes, and the link id only in _linkIds.
    }

    private sealed record RemoteOffer(string Endpoint, string Fingerprint);

    /// <summary>What a classified input carries into a transition besides the event itself.</summary>
    private readonly struct EventData(LinkId requestLink = default, LinkRefusal refusal = LinkRefusal.None, string? endpoint = null, string? fingerprint = null)
    {
        public LinkId RequestLink { get; } = requestLink;
        public LinkRefusal Refusal { get; } = refusal;
        public string? Endpoint { get; } = endpoint;
        public string? Fingerprint { get; } = fingerprint;
    }

    private enum StepResult : byte { Rejected, Stayed, Deleted }

    private const int RecordsFirstCapacity = 16;

    /// <summary>Names the records, their id column and the neighbour index for a host's cache
    /// hints (see ICacheWarmer); changes nothing.</summary>
    public void NameHotState<T>(ref T warmer) where T : struct, ICacheWarmer
    {
        warmer.Warm(_linkIds, 16 + 8 * _count);
        warmer.Warm(_connected, 16 + 2 * _connectedCount);
        warmer.Warm(_records, 16 + Unsafe.SizeOf<Record>() * _count);
        warmer.Warm(_outputs.Buffer, 64);
    }

    private readonly string _fingerprint;
    private readonly LinkConfig _config;
    private readonly DeterministicRandom _random;
    private readonly ILinkAdmission _admission;

    private Record[]? _records;
    // The responder's endpoint and fingerprint, held by an initiator between the accepted response
    // and its own EndpointPrepared (LinkState.Preparing), by link id. A few at a time.
    private List<(ulong Link, RemoteOffer Offer)>? _remotes;
    private ulong[]? _linkIds;      // each record's link id, same order: FindLink scans this compact column
    private int _count;
    private LinkBackoff _backoff;
    private OutputQueue<LinkOutput> _outputs;

    // Keep-alive and dead-link sweep; armed only while there are records.
    private Instant? _maintenanceAt;
    private Instant? _nextTimeout;
    private bool _timeoutDirty;

    // What changed since CheckInvariants last passed, so that it re-validates only that: the
    // simulator checks after every event, and a typical event steps one record of one manager.
    // _checkAll: records were inserted or removed (order, column, pending count), the maintenance
    // timer moved, or more than one record was stepped; otherwise _touched is the one record
    // stepped (or -1) and _touchedWasPending whether it was not Connected before. An unchanged
    // part was valid at the last check and holds the same values, so checking it again cannot
    // find anything new; the pending count and the cached timeout are checked against the one
    // change (see CheckInvariants).
    private bool _checkAll = true;
    private int _touched = -1;
    private bool _touchedWasPending;
    private int _pendingAtCheck;     // _pending as validated by the last check
    // Records not (yet) Connected: HasPendingSetups and the setup-deadline part of the next
    // timeout need a walk of the records only when some are, and after convergence none are.
    private int _pending;
    // Records the peer initiated, in all and by kind: every incoming request asks the topology's
    // admission for these counts, which were two walks of the records. Kind and Initiator never
    // change after Insert, so only Insert and RemoveAt move them; the full check recounts.
    private int _incoming;
    private KindCounts _incomingByKind;

    [System.Runtime.CompilerServices.InlineArray(3)]
    private struct KindCounts { private int _first; }

    public LinkManager(NodeId self, string fingerprint, LinkConfig config, DeterministicRandom random, ILinkAdmission admission)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(admission);
        if (config.SetupTimeout <= TimeSpan.Zero) throw new ArgumentException("SetupTimeout must be positive", nameof(config));
        if (config.KeepAliveInterval <= TimeSpan.Zero) throw new ArgumentException("KeepAliveInterval must be positive", nameof(config));
        if (config.DeadLinkTimeout <= TimeSpan.Zero) throw new ArgumentException("DeadLinkTimeout must be positive", nameof(config));
        if (config.BackoffBase < TimeSpan.Zero || config.BackoffMax < config.BackoffBase) throw new ArgumentException("need 0 <= BackoffBase <= BackoffMax", nameof(config));
        if (!(config.BackoffJitter >= 0 && config.BackoffJitter <= 1)) throw new ArgumentException("BackoffJitter must be in [0, 1]", nameof(config));
        if (config.LinksMax < 1) throw new ArgumentException("LinksMax must be at least 1", nameof(config));
        // The neighbour view indexes records with 16 bits (LinkManager.Neighbours.cs).
        if (config.LinksMax > ushort.MaxValue + 1) throw new ArgumentException($"LinksMax must be at most {ushort.MaxValue + 1}", nameof(config));
        if (config.BackoffPeersMax < 1) throw new ArgumentException("BackoffPeersMax must be at least 1", nameof(config));
        if (config.EndpointLengthMax < 0) throw new ArgumentException("EndpointLengthMax must not be negative", nameof(config));
        Self = self;
        _fingerprint = fingerprint;
        _config = config;
        _random = random;
        _admission = admission;
    }

    public NodeId Self { get; }

    public int Count => _count;

    public bool HasPendingSetups => _pending > 0;

    public bool HasLink(NodeId peer) => FindPeer(peer) >= 0;

    public LinkState? StateOf(NodeId peer)
    {
        int i = FindPeer(peer);
        return i >= 0 ? _records![i].State : null;
    }

    public LinkId? LinkIdOf(NodeId peer)
    {
        int i = FindPeer(peer);
        return i >= 0 ? LinkOf(i) : null;
    }

    public bool TryGetPeer(LinkId link, out NodeId peer)
    {
        int i = FindLink(link);
        peer = i >= 0 ? _records![i].Peer : default;
        return i >= 0;
    }

    public bool IsExcluded(NodeId peer, Instant now) => _backoff.IsExcluded(peer, now);

    public bool IsProtected(NodeId peer, Instant now)
    {
        int i = FindPeer(peer);
        if (i < 0) return false;
        ref readonly Record r = ref _records![i];
        return r.State == LinkState.Connected && now < r.ConnectedAt + _config.ProtectionWindow;
    }

    public int CountIncoming(LinkKind kind) => (uint)kind < 3 ? _incomingByKind[(int)kind] : 0;

    public int CountIncoming() => _incoming;

    int ILinkTable.RecordCount => _count;

    // ILinkTable.Version: bumped in RemoveAt, and where an initiated record joins or leaves the
    // neighbour view (AddConnected, DropConnected).
    private long _version;

    long ILinkTable.Version => _version;

    bool ILinkTable.IsConnectedInitiator(int index, out NodeId peer)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        ref readonly Record r = ref _records![index];
        peer = r.Peer;
        return r.Initiator && r.State == LinkState.Connected;
    }

    /// <summary>When the peer's back-off ends, or null when it is not excluded at now.</summary>
    public Instant? ExcludedUntil(NodeId peer, Instant now) => _backoff.ExcludedUntil(peer, now);

    /// <summary>Consecutive failures remembered for the peer (0 when none): for tests and traces.</summary>
    public int FailuresOf(NodeId peer) => _backoff.FailuresOf(peer);

    public IReadOnlyList<LinkSnapshot> Snapshot()
    {
        if (_count == 0) return Array.Empty<LinkSnapshot>();
        var result = new LinkSnapshot[_count];
        for (int i = 0; i < _count; i++)
        {
            ref readonly Record r = ref _records![i];
            result[i] = new LinkSnapshot(LinkOf(i), r.Peer, r.Kind, r.State, r.Initiator, r.CreatedAt,
                r.State == LinkState.Connected ? r.ConnectedAt : null);
        }
        return result;
    }

    public bool TryPollOutput(out LinkOutput output) => _outputs.TryDequeue(out output);

    public Instant? PollTimeout()
    {
        if (_timeoutDirty)
        {
            // Fresh by construction: CheckInvariants compares the cache again only once something
            // it depends on changes while it is clean (the staleness the check exists to catch).
            _nextTimeout = ComputeNextTimeout();
            _timeoutDirty = false;
        }
        return _nextTimeout;
    }

    public void Handle(Instant now, LinkInput input)
    {
        switch (input)
        {
            case LinkInput.Open open: HandleOpen(now, open.Peer, open.Kind); break;
            case LinkInput.Close close: HandleClose(now, close.Peer); break;
            case LinkInput.SignalReceived received: HandleSignal(now, received.From, received.Signal); break;
            case LinkInput.EndpointPrepared prepared: HandleEndpointPrepared(now, prepared.Link, prepared.Endpoint); break;
            case LinkInput.TransportUp up: HandleTransportUp(now, up.Link); break;
            case LinkInput.TransportDown down: HandleTransportDown(now, down.Link); break;
            case LinkInput.Activity activity: HandleActivity(now, activity.Link); break;
            default:
                Error(NoRecord, input?.GetType().Name ?? "null", "unknown input");
                break;
        }
    }

    // One method per input, each exactly what Handle does for that input: EdgeNode calls them
    // directly so that the simulator's hottest paths allocate no LinkInput record per event.
    internal void HandleOpen(Instant now, NodeId peer, LinkKind kind) => OnOpen(now, peer, kind);

    internal void HandleClose(Instant now, NodeId peer)
    {
        int i = FindPeer(peer);
        if (i >= 0) Step(i, LinkEvent.Close, now, "Close", default);
    }

    internal void HandleSignal(Instant now, NodeId from, LinkSignal? signal) => OnSignal(now, from, signal);

    internal void HandleEndpointPrepared(Instant now, LinkId link, string? endpoint)
    {
        if (!EndpointIsValid(endpoint, "EndpointPrepared", "endpoint")) return;
        int i = FindLink(link);
        if (i >= 0) Step(i, LinkEvent.EndpointPrepared, now, "EndpointPrepared", new EventData(endpoint: endpoint));
    }

    internal void HandleTransportUp(Instant now, LinkId link) => StepByLink(now, link, LinkEvent.TransportUp, "TransportUp");
    internal void HandleTransportDown(Instant now, LinkId link) => StepByLink(now, link, LinkEvent.TransportDown, "TransportDown");
    internal void HandleActivity(Instant now, LinkId link) => StepByLink(now, link, LinkEvent.Activity, "Activity");

    public void HandleTimeout(Instant now)
    {
        // Setup deadlines, then the keep-alive sweep; both walk records in peer order so the outputs are reproducible.
        for (int i = 0; i < _count;)
        {
            ref readonly Record r = ref _records![i];
            if (r.State != LinkState.Connected && r.CreatedAt + _config.SetupTimeout <= now
                && Step(i, LinkEvent.SetupExpired, now, "SetupTimeout", default) == StepResult.Deleted)
                continue;
            i++;
        }

        if (_maintenanceAt is not { } at || at > now) return;
        for (int i = 0; i < _count;)
        {
            ref readonly Record r = ref _records![i];
            if (r.State == LinkState.Connected)
            {
                TimeSpan idle = now - r.LastActivity;
                if (idle >= _config.DeadLinkTimeout)
                {
                    if (Step(i, LinkEvent.IdleDead, now, "Maintenance", default) == StepResult.Deleted) continue;
                }
                else
                {
                    // Sent whatever this side last heard: the peer judges liveness by what it
                    // receives, and a side that only answered when idle would fall silent as soon
                    // as the other's keep-alives kept it busy (found by seed 1 at 30k nodes: the
                    // quiet side declared every such link dead 45 s after it connected).
                    Step(i, LinkEvent.KeepAliveDue, now, "Maintenance", default);
                }
            }
            i++;
        }
        if (_count > 0)
        {
            // Keep the seeded phase: the next firing is the first period boundary after now.
            long interval = _config.KeepAliveInterval.Ticks;
            long periods = (now - at).Ticks / interval + 1;
            _maintenanceAt = at + TimeSpan.FromTicks(interval * periods);
            _timeoutDirty = true;
            _checkAll = true;
        }
    }

    public void CheckInvariants()
    {
        if (_count < 0 || _count > _config.LinksMax) throw new InvariantViolation($"{_count} link records, limit {_config.LinksMax}");
        if ((_count > 0) != (_maintenanceAt is not null)) throw new InvariantViolation($"maintenance timer armed={_maintenanceAt is not null} with {_count} records");
        // Link ids are unique by construction (NewLinkId draws until unused; OnRequest refuses an id
        // another record holds), so no per-step check here: this runs after every simulated event.
        // While the timeout cache is dirty there is nothing to compare; recomputing makes it fresh.
        if (_checkAll)
        {
            int pending = 0, incoming = 0, holding = 0;
            KindCounts byKind = default;
            for (int i = 0; i < _count; i++)
            {
                CheckRecord(i);
                ref readonly Record r = ref _records![i];
                if (r.State != LinkState.Connected) pending++;
                if (!r.Initiator) { incoming++; byKind[(int)r.Kind]++; }
                else if (r.State == LinkState.Preparing) holding++;
            }
            if (pending != _pending) throw new InvariantViolation($"{pending} link records are not connected, counted {_pending}");
            // CheckRecord matched each holding record to its offer; more offers than that are orphans.
            if ((_remotes?.Count ?? 0) != holding) throw new InvariantViolation($"{_remotes?.Count ?? 0} remote offers held for {holding} preparing links");
            if (incoming != _incoming) throw new InvariantViolation($"{incoming} link records are incoming, counted {_incoming}");
            for (int k = 0; k < 3; k++)
                if (byKind[k] != _incomingByKind[k]) throw new InvariantViolation($"{byKind[k]} incoming links of kind {(LinkKind)k}, counted {_incomingByKind[k]}");
            if (!_timeoutDirty && _nextTimeout != ComputeNextTimeout()) throw new InvariantViolation("cached next timeout is stale");
            CheckConnected(all: true, touched: -1);
        }
        else if (_touched >= 0)
        {
            if (_touched >= _count) throw new InvariantViolation($"stepped record {_touched} is beyond the {_count} records");
            CheckRecord(_touched);
            CheckConnected(all: false, _touched);
            // Only this record changed since the last check: the count moves by its own change,
            // and the deadlines the cached timeout is made of changed only if it entered or left
            // Connected (CreatedAt never changes).
            bool isPending = _records![_touched].State != LinkState.Connected;
            int expected = _pendingAtCheck + (isPending ? 1 : 0) - (_touchedWasPending ? 1 : 0);
            if (_pending != expected) throw new InvariantViolation($"{expected} link records are not connected, counted {_pending}");
            if (isPending != _touchedWasPending && !_timeoutDirty && _nextTimeout != ComputeNextTimeout()) throw new InvariantViolation("cached next timeout is stale");
        }
        _backoff.CheckInvariants(_config.BackoffPeersMax);
        _checkAll = false;
        _touched = -1;
        _pendingAtCheck = _pending;
    }

    /// <summary>Record i on its own and against its neighbours in the order (all that Step can disturb).</summary>
    private void CheckRecord(int i)
    {
        ref readonly Record r = ref _records![i];
        if (r.Peer == Self) throw new InvariantViolation("a link record names this node itself");
        if (i > 0 && _records[i - 1].Peer >= r.Peer) throw new InvariantViolation("link records are not strictly sorted by peer");
        if (i + 1 < _count && r.Peer >= _records[i + 1].Peer) throw new InvariantViolation("link records are not strictly sorted by peer");
        LinkId link = LinkOf(i);
        if (r.Kind > LinkKind.OnDemand) throw new InvariantViolation($"link {link} has undefined kind {r.Kind}");
        if (!LinkTransitions.IsReachable(r.Initiator, r.State)) throw new InvariantViolation($"link {link} is in {r.State}, unreachable for initiator={r.Initiator}");
        bool holdsRemote = r.Initiator && r.State == LinkState.Preparing;
        if ((IndexOfRemote(link.Value) >= 0) != holdsRemote)
            throw new InvariantViolation($"link {link} in {r.State} holds remote endpoint data={!holdsRemote}");
        if (r.State == LinkState.Connected && (r.ConnectedAt < r.CreatedAt || r.LastActivity < r.ConnectedAt))
            throw new InvariantViolation($"link {link}: created {r.CreatedAt}, connected {r.ConnectedAt}, last activity {r.LastActivity}");
    }

    /// <summary>Notes that record i may have changed, for CheckInvariants.</summary>
    private void MarkTouched(int i)
    {
        if (_checkAll) return;
        if (_touched < 0) { _touched = i; _touchedWasPending = _records![i].State != LinkState.Connected; }
        else if (_touched != i) _checkAll = true;
    }

    // ---- input classification ------------------------------------------------------------

    private void OnOpen(Instant now, NodeId peer, LinkKind kind)
    {
        if (peer == Self) { Error(NoRecord, "Open", "cannot link to self"); return; }
        if (!Enum.IsDefined(kind)) { Error(NoRecord, "Open", $"undefined link kind {(byte)kind}"); return; }
        if (FindPeer(peer) >= 0) return;
        if (_backoff.IsExcluded(peer, now))
        {
            _outputs.Enqueue(new LinkOutput.Failed(peer, LinkFailure.PeerExcluded, LinkRefusal.None));
            return;
        }
        if (_count >= _config.LinksMax)
        {
            // Our own limit, not the peer's answer: Abandoned, with the code a responder would use.
            _outputs.Enqueue(new LinkOutput.Failed(peer, LinkFailure.Abandoned, LinkRefusal.TooManyIncoming));
            return;
        }
        LinkId link = NewLinkId();
        Insert(new Record
        {
            Peer = peer, Kind = kind, State = LinkState.Requested, Initiator = true,
            CreatedAt = now, LastActivity = now,
        }, link, now);
        _outputs.Enqueue(new LinkOutput.SendSignal(peer, new LinkRequest(link, kind)));
    }

    private void OnSignal(Instant now, NodeId from, LinkSignal? signal)
    {
        switch (signal)
        {
            case LinkRequest request:
                OnRequest(now, from, request);
                break;
            case LinkResponse response:
                {
                    const string name = "SignalReceived(LinkResponse)";
                    if (!Enum.IsDefined(response.Refusal)) { Error(NoRecord, name, $"undefined refusal code {(byte)response.Refusal}"); return; }
                    if (!EndpointIsValid(response.Endpoint, name, "endpoint") || !EndpointIsValid(response.Fingerprint, name, "fingerprint")) return;
                    int i = FindLinkOf(from, response.Link, name);
                    if (i < 0) return;
                    var ev = response.Refusal == LinkRefusal.None ? LinkEvent.ResponseAccepted : LinkEvent.ResponseRefused;
                    Step(i, ev, now, name, new EventData(refusal: response.Refusal, endpoint: response.Endpoint, fingerprint: response.Fingerprint));
                    break;
                }
            case LinkComplete complete:
                {
                    const string name = "SignalReceived(LinkComplete)";
                    if (!EndpointIsValid(complete.Endpoint, name, "endpoint") || !EndpointIsValid(complete.Fingerprint, name, "fingerprint")) return;
                    int i = FindLinkOf(from, complete.Link, name);
                    if (i < 0) return;
                    Step(i, LinkEvent.PeerCompleted, now, name, new EventData(endpoint: complete.Endpoint, fingerprint: complete.Fingerprint));
                    break;
                }
            default:
                Error(NoRecord, "SignalReceived", signal is null ? "no signal" : $"unknown signal {signal.GetType().Name}");
                break;
        }
    }

    private void OnRequest(Instant now, NodeId from, LinkRequest request)
    {
        const string name = "SignalReceived(LinkRequest)";
        if (from == Self) { Error(NoRecord, name, "request from this node itself"); return; }
        if (!Enum.IsDefined(request.Kind)) { Error(NoRecord, name, $"undefined link kind {(byte)request.Kind}"); return; }

        int byLink = FindLink(request.Link);
        if (byLink >= 0)
        {
            if (_records![byLink].Peer != from) { Error(_records[byLink].State.ToString(), name, $"link {request.Link} belongs to another peer"); return; }
            Step(byLink, LinkEvent.RequestRepeated, now, name, default);
            return;
        }

        int existing = FindPeer(from);
        if (existing >= 0)
        {
            // An initiator with the lower id keeps its own attempt, in any state: a request that
            // arrives later is the other half of a simultaneous open (possibly delayed past our
            // own response), and accepting it would tear down the link both sides agreed on.
            // Otherwise the request wins: a collision we lose, or the peer restarted or retried.
            var ev = _records![existing].Initiator && Self < from ? LinkEvent.RequestLosesCollision : LinkEvent.RequestSupersedes;
            StepResult result = Step(existing, ev, now, name, new EventData(requestLink: request.Link));
            if (result != StepResult.Deleted) return;
        }

        LinkRefusal refusal =
            _backoff.IsExcluded(from, now) ? LinkRefusal.Excluded :
            _count >= _config.LinksMax ? LinkRefusal.TooManyIncoming :
            _admission.Admit(from, request.Kind);
        if (refusal != LinkRefusal.None)
        {
            _outputs.Enqueue(new LinkOutput.SendSignal(from, new LinkResponse(request.Link, refusal, "", "")));
            return;
        }
        Insert(new Record
        {
            Peer = from, Kind = request.Kind, State = LinkState.Preparing, Initiator = false,
            CreatedAt = now, LastActivity = now,
        }, request.Link, now);
        _outputs.Enqueue(new LinkOutput.PrepareEndpoint(request.Link, from, IceRole.Controlled));
    }

    private void StepByLink(Instant now, LinkId link, LinkEvent ev, string name)
    {
        int i = FindLink(link);
        if (i >= 0) Step(i, ev, now, name, default);
    }

    /// <summary>The record for a signal's link id: -1 when unknown (a race, ignored) or when it belongs to another peer (an error).</summary>
    private int FindLinkOf(NodeId from, LinkId link, string name)
    {
        int i = FindLink(link);
        if (i >= 0 && _records![i].Peer != from)
        {
            Error(_records[i].State.ToString(), name, $"link {link} belongs to another peer");
            return -1;
        }
        return i;
    }

    private bool EndpointIsValid(string? value, string name, string what)
    {
        if (value is null) { Error(NoRecord, name, $"{what} is missing"); return false; }
        if (value.Length > _config.EndpointLengthMax) { Error(NoRecord, name, $"{what} has {value.Length} characters, limit {_config.EndpointLengthMax}"); return false; }
        return true;
    }

    // ---- the one place where records change ----------------------------------------------

    private StepResult Step(int index, LinkEvent ev, Instant now, string inputName, in EventData data)
    {
        ref Record r = ref _records![index];
        LinkId link = LinkOf(index);
        if (!LinkTransitions.TryGet(r.Initiator, r.State, ev, out LinkTransition t))
        {
            Error(r.State.ToString(), inputName, $"{ev} not allowed for {(r.Initiator ? "initiator" : "responder")} of link {link}");
            return StepResult.Rejected;
        }
        MarkTouched(index);

        switch (t.Action)
        {
            case LinkAction.Ignore:
                break;
            case LinkAction.PrepareControlling:
                (_remotes ??= []).Add((link.Value, new RemoteOffer(data.Endpoint ?? "", data.Fingerprint ?? "")));
                _outputs.Enqueue(new LinkOutput.PrepareEndpoint(link, r.Peer, IceRole.Controlling));
                break;
            case LinkAction.FailRefused:
                if (data.Refusal != LinkRefusal.Collision) _backoff.RecordFailure(r.Peer, now, _config, _random);
                _outputs.Enqueue(new LinkOutput.Failed(r.Peer, LinkFailure.Refused, data.Refusal));
                break;
            case LinkAction.SendResponse:
                _outputs.Enqueue(new LinkOutput.SendSignal(r.Peer, new LinkResponse(link, LinkRefusal.None, data.Endpoint ?? "", _fingerprint)));
                break;
            case LinkAction.SendCompleteAndConnect:
                _outputs.Enqueue(new LinkOutput.SendSignal(r.Peer, new LinkComplete(link, data.Endpoint ?? "", _fingerprint)));
                var remote = TakeRemote(link.Value);
                _outputs.Enqueue(new LinkOutput.ConnectTransport(link, r.Peer, IceRole.Controlling, remote?.Endpoint ?? "", remote?.Fingerprint ?? ""));
                break;
            case LinkAction.ConnectControlled:
                _outputs.Enqueue(new LinkOutput.ConnectTransport(link, r.Peer, IceRole.Controlled, data.Endpoint ?? "", data.Fingerprint ?? ""));
                break;
            case LinkAction.RefuseCollision:
                _outputs.Enqueue(new LinkOutput.SendSignal(r.Peer, new LinkResponse(data.RequestLink, LinkRefusal.Collision, "", "")));
                break;
            case LinkAction.MarkConnected:
                // Clamped so that a host whose clock stepped back cannot break the record's own ordering.
                r.ConnectedAt = Instant.Max(now, r.CreatedAt);
                r.LastActivity = Instant.Max(r.ConnectedAt, r.LastActivity);
                _backoff.Reset(r.Peer);
                _timeoutDirty = true;
                _outputs.Enqueue(new LinkOutput.Connected(link, r.Peer, r.Kind, r.Initiator));
                break;
            case LinkAction.Touch:
                if (now > r.LastActivity) r.LastActivity = now;
                break;
            case LinkAction.SendKeepAlive:
                _outputs.Enqueue(new LinkOutput.SendKeepAlive(link, r.Peer));
                break;
            case LinkAction.Fail:
            case LinkAction.CloseAndFail:
                {
                    if (t.Action == LinkAction.CloseAndFail) _outputs.Enqueue(new LinkOutput.CloseTransport(link, r.Peer));
                    LinkFailure reason = FailureFor(ev);
                    if (reason is LinkFailure.SetupTimeout or LinkFailure.TransportFailed) _backoff.RecordFailure(r.Peer, now, _config, _random);
                    _outputs.Enqueue(new LinkOutput.Failed(r.Peer, reason, LinkRefusal.None));
                    break;
                }
            case LinkAction.CloseAndRemove:
            case LinkAction.Remove:
                if (t.Action == LinkAction.CloseAndRemove) _outputs.Enqueue(new LinkOutput.CloseTransport(link, r.Peer));
                _outputs.Enqueue(new LinkOutput.Removed(link, r.Peer, RemovalFor(ev)));
                break;
        }

        if (t.Next is not { } next)
        {
            RemoveAt(index);
            return StepResult.Deleted;
        }
        if (r.State != next)
        {
            if (next == LinkState.Connected) { _pending--; AddConnected(index); }
            else if (r.State == LinkState.Connected) { _pending++; DropConnected(index); }
        }
        r.State = next;
        return StepResult.Stayed;
    }

    private static LinkFailure FailureFor(LinkEvent ev) => ev switch
    {
        LinkEvent.SetupExpired => LinkFailure.SetupTimeout,
        LinkEvent.TransportDown => LinkFailure.TransportFailed,
        _ => LinkFailure.Abandoned, // Close, or superseded by the peer's request
    };

    private static LinkRemoval RemovalFor(LinkEvent ev) => ev switch
    {
        LinkEvent.TransportDown => LinkRemoval.ClosedByPeer,
        LinkEvent.IdleDead => LinkRemoval.Dead,
        LinkEvent.RequestSupersedes => LinkRemoval.Replaced,
        _ => LinkRemoval.ClosedLocally,
    };

    private void Error(string state, string input, string reason) =>
        _outputs.Enqueue(new LinkOutput.Error(new ProtocolError(MachineName, state, input, reason)));

    // ---- storage ---------------------------------------------------------------------------

    private LinkId NewLinkId()
    {
        // 64 random bits collide with one of ~50 live ids about never; the loop keeps ids unique anyway.
        LinkId id;
        do id = new LinkId(_random.NextUInt64());
        while (FindLink(id) >= 0);
        return id;
    }

    private int FindPeer(NodeId peer) => _records is null ? -1 : PeerSearch.Find(new ReadOnlySpan<Record>(_records, 0, _count), peer);

    private int FindLink(LinkId link)
    {
        // A scan of the compact id column (8 bytes a record), not of the records themselves:
        // in a simulation with a million managers this array is usually cold in the cache.
        if (_linkIds is null) return -1;
        return Array.IndexOf(_linkIds, link.Value, 0, _count);
    }

    private LinkId LinkOf(int index) => new(_linkIds![index]);

    private void Insert(in Record record, LinkId link, Instant now)
    {
        int at = ~FindPeer(record.Peer);
        if (_records is null || _count == _records.Length)
        {
            // From 16 (a node's first links come in a burst: successors, then k long links), then
            // 1.5x: 16, 24, 36, 54 fits the usual 30-45 links more tightly than 4, 6, 9, 13, 19,
            // 28, 42, 63 or doubling: for 43 links, 54 slots held instead of 63 and 130 allocated
            // instead of 184 (56 bytes a slot with its id: at a million nodes about 0.5 GB less
            // held and 3 GB less allocated).
            int size = Math.Min(Growth.Next(_count, RecordsFirstCapacity), Math.Max(_config.LinksMax, 4));
            Array.Resize(ref _records, size);
            Array.Resize(ref _linkIds, size);
        }
        Array.Copy(_records, at, _records, at + 1, _count - at);
        Array.Copy(_linkIds!, at, _linkIds!, at + 1, _count - at);
        ShiftConnectedUp(at);
        _records[at] = record;
        _linkIds![at] = link.Value;
        _count++;
        if (record.State != LinkState.Connected) _pending++;
        else AddConnected(at);
        if (!record.Initiator) { _incoming++; _incomingByKind[(int)record.Kind]++; }
        if (_maintenanceAt is null)
        {
            // A seeded phase within one interval, so that nodes started together do not sweep in lock-step.
            _maintenanceAt = now + TimeSpan.FromTicks((long)_random.NextUInt64Below((ulong)_config.KeepAliveInterval.Ticks));
        }
        _timeoutDirty = true;
        _checkAll = true;
    }

    private int IndexOfRemote(ulong link)
    {
        if (_remotes is not { } list) return -1;
        for (int i = 0; i < list.Count; i++) if (list[i].Link == link) return i;
        return -1;
    }

    private RemoteOffer? TakeRemote(ulong link)
    {
        int i = IndexOfRemote(link);
        if (i < 0) return null;
        var offer = _remotes![i].Offer;
        _remotes.RemoveAt(i);
        if (_remotes.Count == 0) _remotes = null;
        return offer;
    }

    private void RemoveAt(int index)
    {
        _version++;
        TakeRemote(_linkIds![index]);
        if (_records![index].State != LinkState.Connected) _pending--;
        if (!_records[index].Initiator) { _incoming--; _incomingByKind[(int)_records[index].Kind]--; }
        RemoveConnected(index);
        _count--;
        Array.Copy(_records!, index + 1, _records!, index, _count - index);
        Array.Copy(_linkIds!, index + 1, _linkIds!, index, _count - index);
        _records![_count] = default;
        if (_count == 0)
        {
            _records = null;
            _linkIds = null;
            _maintenanceAt = null;
        }
        _timeoutDirty = true;
        _checkAll = true;
    }

    private Instant? ComputeNextTimeout()
    {
        Instant? next = _maintenanceAt;
        if (_pending == 0) return next;
        for (int i = 0; i < _count; i++)
        {
            ref readonly Record r = ref _records![i];
            if (r.State != LinkState.Connected) next = Instant.Earliest(next, r.CreatedAt + _config.SetupTimeout);
        }
        return next;
    }
}
