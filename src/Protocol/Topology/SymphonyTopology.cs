// The Symphony topology machine (EdgeVPN's Topology module): decides which links a node wants.
// Contract:
//  - wants its SuccessorsMin ring successors, k = LongLinksFor(n) long links whose distances are
//    drawn from the configured sampler, and on-demand links to remote nodes whose traffic crosses
//    OnDemandThresholdBytes within OnDemandWindow;
//  - asks the link lifecycle (via OpenLink/CloseLink outputs) to open missing links and to close
//    links it initiated that nothing wants any more, once they are out of their protection window;
//  - never touches links a peer initiated (their initiator trims them);
//  - re-draws all long links when n changed by RedrawRatio since the last draw; with lookup
//    membership the number of slots, too, is fixed at the draw (k for the n drawn for): an
//    estimate wandering ±25% across a power of two would otherwise add and drop a link at a time,
//    and across a million nodes some node is always doing so; a slot whose target
//    refuses or fails is re-drawn, at most LongLinkDrawTriesMax times per draw;
//  - admits incoming requests (ILinkAdmission): refuses a long link when it already holds
//    2k incoming long links, and any link beyond IncomingMax.
// All decisions are made in Reconcile, after every input and on the maintenance tick.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Topology;

public sealed class SymphonyTopology : IStateMachine<TopologyInput, TopologyOutput>, ILinkAdmission
{
    private struct LongSlot
    {
        public NodeId Target;
        public bool HasTarget;
        public byte Tries;
        public bool Resolving;   // lookup membership: a ResolveTarget is out for this slot
        // 32 bits: the slot is then 24 bytes, not 32 (a million nodes hold some 20M slots). The
        // counter would have to wrap (2^32 draws by one node) for a stale answer to match.
        public uint Cookie;
    }

    private struct TrafficEntry
    {
        public NodeId Peer;
        public long BytesInWindow;
        public Instant WindowStart;
        public Instant LastTraffic;
        public bool Wanted;
    }

    private readonly NodeId _self;
    private readonly TopologyConfig _config;
    private readonly ILinkTable _links;
    private readonly DeterministicRandom _random;
    private OutputQueue<TopologyOutput> _outputs;

    private MembershipView _view = MembershipView.Empty;
    private NodeId[] _successors = [];
    private LongSlot[] _slots = [];
    private int _drawnForN;
    private Instant _drawnAt;
    private IReadOnlyList<NodeId>? _ringInput; // the last RingChanged list, by reference
    private bool _redrawPending;   // n changed enough, waiting for the hold-off
    private Instant? _firstViewAt; // long links wait LongLinkDelay after this
    private Instant _redrawDueAt;  // when a pending (re-)draw may happen
    private int _untrimmed;        // links this node initiated that nothing wants, still protected
    private List<TrafficEntry>? _traffic;
    private Instant? _tickAt;
    private NodeId[] _wanted = [];  // Reconcile's trimming pass: every peer a link is wanted to, sorted
    private int _wantedCount;
    // _wanted no longer matches successors and slots. Set wherever they change; Reconcile runs on
    // every link event and rebuilding (and sorting) the set each time was a visible cost.
    private bool _wantedStale = true;
    private bool _leaving;
    private readonly bool _lookup;           // MembershipMode.Lookup
    private NodeId[] _ringSuccessors = [];   // lookup mode: from RingMembership
    private int _sizeEstimate;               // lookup mode: n as estimated from id spacing
    private uint _cookies;
    // False once CheckInvariants has validated the current state; every entry that can change
    // state (Handle, HandleTimeout) sets it. The simulator checks after every event, and most
    // events never reach this machine: re-walking an untouched state would find the same answer.
    private bool _changedSinceCheck = true;
    // The last Reconcile asked for nothing, waits for nothing (no back-off, protection window or
    // re-draw hold-off that time alone could end) and left every wanted peer with a link: another
    // pass does nothing until an input changes this machine's state or the link table's Version
    // moves. A link coming up, the commonest input, then skips the pass (Reconcile was 5-7% of a
    // 30k-100k profile, mostly on link-up; skipping took 2-3% off a 30k run).
    private bool _quiet;
    private long _quietVersion;
    internal bool SkipsQuietPasses { get; init; } = true; // false: every input reconciles (tests compare)
    internal long ReconcilePasses { get; private set; }    // for tests: passes made, skipped ones not counted

    public SymphonyTopology(NodeId self, TopologyConfig config, ILinkTable links, DeterministicRandom random)
    {
        if (config.Validate() is { } problem) throw new ArgumentException(problem, nameof(config));
        _self = self;
        _config = config;
        _links = links;
        _random = random;
        _lookup = config.Membership == MembershipMode.Lookup;
    }

    /// <summary>The overlay size the topology works with: the view's size, or the lookup estimate.</summary>
    public int SizeEstimate => _lookup ? _sizeEstimate : _view.Count;

    public MembershipView View => _view;
    public ReadOnlySpan<NodeId> Successors => _successors;
    public int LongLinkSlots => _slots.Length;

    /// <summary>The long-link targets currently drawn (some may not be connected yet).</summary>
    public IEnumerable<NodeId> LongLinkTargets
    {
        get { foreach (var s in _slots) if (s.HasTarget) yield return s.Target; }
    }

    public void Handle(Instant now, TopologyInput input)
    {
        _changedSinceCheck = true;
        switch (input)
        {
            case TopologyInput.MembershipChanged m:
                if (m.View.Version < _view.Version) return; // an older view arrived late
                _view = m.View;
                _firstViewAt ??= now;
                _successors = ComputeSuccessors();
                _wantedStale = true;
                break;
            case TopologyInput.LinkConnected c:
                HandleLinkConnected(now, c.Peer, c.Initiator); // the same quiet-pass rule as EdgeNode's path
                return;
            case TopologyInput.LinkGone:
                break; // the link table already shows it: Reconcile reads it there
            case TopologyInput.LinkFailed f:
                OnLinkFailed(f.Peer, f.Refusal);
                break;
            case TopologyInput.Traffic t:
                NoteTraffic(now, t.Peer, t.Bytes);
                break;
            case TopologyInput.RingChanged r:
                // A new size estimate comes with the same list object: nothing to rebuild then
                // (estimates change far more often than successor lists).
                if (!ReferenceEquals(r.Successors, _ringInput))
                {
                    _ringInput = r.Successors;
                    _ringSuccessors = WithoutSelf(r.Successors);
                    _successors = ComputeSuccessors();
                    _wantedStale = true;
                }
                _sizeEstimate = Math.Max(1, r.SizeEstimate);
                _firstViewAt ??= now;
                break;
            case TopologyInput.TargetResolved t:
                OnTargetResolved(now, t.Cookie, t.Owner);
                break;
            case TopologyInput.TargetFailed f:
                for (int i = 0; i < _slots.Length; i++)
                    if (_slots[i].Resolving && _slots[i].Cookie == f.Cookie) _slots[i].Resolving = false;
                break;
            case TopologyInput.Leave:
                _leaving = true;
                _tickAt = null;
                return;
        }
        Reconcile(now);
    }

    // Handle(LinkConnected / LinkGone / LinkFailed) without the input record: EdgeNode calls these
    // on every link change, and the simulator makes millions of them.
    internal void HandleLinkConnected(Instant now, NodeId peer, bool initiator)
    {
        _changedSinceCheck = true;
        // Exactly what the pass would find: a peer's link changes nothing the topology decides; a
        // link of its own changes the trimming walk only if nothing wants it. Any other change of
        // the table since the quiet pass moved its Version further.
        if (_quiet && SkipsQuietPasses && _links.Version == _quietVersion + (initiator ? 1 : 0)
            && (!initiator || IsWanted(CollectWanted(), peer)))
        {
            _quietVersion = _links.Version;
            return;
        }
        Reconcile(now);
    }

    internal void HandleLinkGone(Instant now)
    {
        _changedSinceCheck = true;
        Reconcile(now);
    }

    internal void HandleLinkFailed(Instant now, NodeId peer, LinkRefusal refusal)
    {
        _changedSinceCheck = true;
        OnLinkFailed(peer, refusal);
        Reconcile(now);
    }

    private void OnLinkFailed(NodeId peer, LinkRefusal refusal)
    {
        if (refusal != LinkRefusal.Collision) ReleaseSlotOf(peer);
    }

    public void HandleTimeout(Instant now)
    {
        _changedSinceCheck = true;
        if (_tickAt is not { } at || at > now) return;
        _tickAt = null;
        EvaluateTraffic(now);
        Reconcile(now);
    }

    public Instant? PollTimeout() => _tickAt;

    public bool TryPollOutput(out TopologyOutput output) => _outputs.TryDequeue(out output);

    /// <summary>True when every wanted link is connected (or its slot gave up until the next re-draw).</summary>
    public bool IsSatisfied
    {
        get
        {
            if (_leaving) return true;
            if (_redrawPending || _untrimmed > 0) return false;
            foreach (var s in _successors)
                if (_links.StateOf(s) != LinkState.Connected) return false;
            foreach (var slot in _slots)
            {
                if (slot.HasTarget) { if (_links.StateOf(slot.Target) != LinkState.Connected) return false; }
                else if (slot.Resolving || slot.Tries < _config.LongLinkDrawTriesMax) return false;
            }
            return true;
        }
    }

    public LinkRefusal Admit(NodeId peer, LinkKind kind)
    {
        if (_leaving) return LinkRefusal.NotAccepting;
        if (kind == LinkKind.LongDistance)
        {
            int k = Math.Max(1, _config.LongLinksFor(SizeEstimate));
            if (_links.CountIncoming(LinkKind.LongDistance) >= 2 * k) return LinkRefusal.TooManyIncomingLong;
        }
        if (_links.CountIncoming() >= _config.IncomingMax) return LinkRefusal.TooManyIncoming;
        return LinkRefusal.None;
    }

    public void CheckInvariants()
    {
        if (!_changedSinceCheck) return;
        if (_successors.Length > _config.SuccessorsMin) throw new InvariantViolation("more successors than SuccessorsMin");
        foreach (var s in _successors) if (s == _self) throw new InvariantViolation("self among successors");
        // Slot targets are distinct by construction (DrawSlot rejects a drawn successor or target);
        // only O(k) checks here, since this runs after every simulated event.
        foreach (var slot in _slots)
            if (slot.HasTarget && slot.Target == _self) throw new InvariantViolation("self drawn as a long-link target");
        if (_slots.Length > Math.Max(0, _config.LongLinksFor(_lookup ? _drawnForN : SizeEstimate))) throw new InvariantViolation("more long-link slots than LongLinksFor(n)");
        if (_traffic is { Count: var c } && c > _config.TrafficPeersMax) throw new InvariantViolation("traffic table over TrafficPeersMax");
        _changedSinceCheck = false;
    }

    // ---- decisions ----

    private void Reconcile(Instant now)
    {
        if (_leaving) return;
        ReconcilePasses++;
        RedrawIfNeeded(now);
        bool waiting = false; // a pending re-draw arms its own, exact timer below
        _untrimmed = 0;

        foreach (var s in _successors) waiting |= Want(now, s, LinkKind.Successor);
        for (int i = 0; i < _slots.Length; i++)
        {
            if (!_slots[i].HasTarget) DrawSlot(i, now);
            if (_slots[i].HasTarget) waiting |= Want(now, _slots[i].Target, LinkKind.LongDistance);
        }
        if (_traffic is { } traffic)
        {
            int onDemand = 0;
            foreach (var t in traffic)
                if (t.Wanted && onDemand++ < _config.OnDemandLinksMax) waiting |= Want(now, t.Peer, LinkKind.OnDemand);
            if (traffic.Count > 0) waiting = true; // windows and idle trimming need the tick
        }

        // The links this node initiated are the link table's (it holds who initiated each), walked
        // in descending peer order; the wanted set is built only once there is one to judge.
        int wantedCount = -1;
        for (int i = _links.RecordCount - 1; i >= 0; i--)
        {
            if (!_links.IsConnectedInitiator(i, out var peer)) continue;
            if (wantedCount < 0) wantedCount = CollectWanted();
            if (IsWanted(wantedCount, peer)) continue;
            if (_links.IsProtected(peer, now)) { waiting = true; _untrimmed++; continue; }
            _outputs.Enqueue(new TopologyOutput.CloseLink(peer));
        }

        if (waiting) _tickAt ??= now + _random.Jitter(_config.TickInterval, 0.1);
        if (_redrawPending) _tickAt = Instant.Earliest(_tickAt, Instant.Max(now, _redrawDueAt));
        // Unmet wants, slots still drawing and traffic all show as outputs or waiting here.
        _quiet = !waiting && !_redrawPending && _untrimmed == 0 && _outputs.Count == 0;
        _quietVersion = _links.Version;
    }

    /// <summary>Asks for a link to peer if none exists; true when it has to wait (back-off).</summary>
    private bool Want(Instant now, NodeId peer, LinkKind kind)
    {
        if (_links.HasLink(peer)) return false;
        if (_links.IsExcluded(peer, now)) return true;
        _outputs.Enqueue(new TopologyOutput.OpenLink(peer, kind));
        return false;
    }

    /// <summary>Fills _wanted[0..count) with every peer a link is wanted to, sorted; returns count.</summary>
    private int CollectWanted()
    {
        // Traffic entries change with every frame counted; they are rare, so with any present the
        // set is simply rebuilt.
        if (!_wantedStale && _traffic is not { Count: > 0 }) return _wantedCount;
        _wantedCount = BuildWanted();
        _wantedStale = _traffic is { Count: > 0 }; // the next call rebuilds too, even if the entries are gone by then
        return _wantedCount;
    }

    /// <summary>Binary search of the sorted _wanted[0..count).</summary>
    private bool IsWanted(int count, NodeId peer)
    {
        UInt128 key = peer.Value;
        int lo = 0, hi = count - 1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            UInt128 m = _wanted[mid].Value;
            if (m == key) return true;
            if (m < key) lo = mid + 1; else hi = mid - 1;
        }
        return false;
    }

    private int BuildWanted()
    {
        int size = _successors.Length + _slots.Length + (_traffic?.Count ?? 0);
        if (_wanted.Length < size) _wanted = new NodeId[Math.Max(size, 2 * _wanted.Length)];
        int n = 0;
        foreach (var s in _successors) _wanted[n++] = s;
        foreach (var slot in _slots) if (slot.HasTarget) _wanted[n++] = slot.Target;
        if (_traffic is { } traffic) foreach (var t in traffic) if (t.Wanted) _wanted[n++] = t.Peer;
        Array.Sort(_wanted, 0, n);
        return n;
    }

    private NodeId[] ComputeSuccessors()
    {
        if (_lookup) return _ringSuccessors.Length <= _config.SuccessorsMin ? _ringSuccessors : _ringSuccessors[.._config.SuccessorsMin];
        int others = _view.Contains(_self) ? _view.Count - 1 : _view.Count;
        int count = Math.Min(_config.SuccessorsMin, others);
        if (count <= 0) return [];
        var result = new NodeId[count];
        int i = _view.IndexAfter(_self);
        for (int k = 0; k < count; k++) result[k] = _view[(i + k) % _view.Count];
        return result;
    }

    private NodeId[] WithoutSelf(IReadOnlyList<NodeId> list)
    {
        int count = 0;
        for (int i = 0; i < list.Count; i++) if (list[i] != _self) count++;
        var result = new NodeId[count];
        count = 0;
        for (int i = 0; i < list.Count; i++) if (list[i] != _self) result[count++] = list[i];
        return result;
    }

    private void RedrawIfNeeded(Instant now)
    {
        int n = SizeEstimate;
        int k = _config.LongLinksFor(n);
        if (_drawnForN == 0 && k > 0 && (_firstViewAt is not { } first || now - first < _config.LongLinkDelay))
        {
            _redrawPending = true; // the first draw is due once the delay is over
            _redrawDueAt = (_firstViewAt ?? now) + _config.LongLinkDelay;
            return;
        }
        bool ratioChanged = _drawnForN > 0 && (n >= _drawnForN * _config.RedrawRatio || n * _config.RedrawRatio <= _drawnForN);
        _redrawPending = ratioChanged && now - _drawnAt < _config.RedrawHoldoff;
        _redrawDueAt = _drawnAt + _config.RedrawHoldoff;
        if (ratioChanged && !_redrawPending || _drawnForN == 0 && k > 0)
        {
            _slots = new LongSlot[k];
            _wantedStale = true;
            _drawnForN = n;
            _drawnAt = now;
        }
        else if (!_lookup && k != _slots.Length)
        {
            var resized = new LongSlot[k];
            Array.Copy(_slots, resized, Math.Min(k, _slots.Length));
            _slots = resized;
            _wantedStale = true;
        }
    }

    private void DrawSlot(int i, Instant now)
    {
        ref var slot = ref _slots[i];
        if (_lookup)
        {
            // The owner of the drawn point is found by a lookup over the overlay; the answer comes
            // back as TargetResolved (OnTargetResolved checks it like a local draw would).
            if (slot.Resolving || slot.Tries >= _config.LongLinkDrawTriesMax) return;
            slot.Tries++;
            double x = LongLinkDraw.Fraction(_config.Sampler, Math.Max(2, SizeEstimate), _random);
            slot.Resolving = true;
            slot.Cookie = unchecked(++_cookies);
            _outputs.Enqueue(new TopologyOutput.ResolveTarget(_self.Add(NodeId.OffsetOfFraction(x)).Value, slot.Cookie));
            return;
        }
        while (slot.Tries < _config.LongLinkDrawTriesMax)
        {
            slot.Tries++;
            double x = LongLinkDraw.Fraction(_config.Sampler, _view.Count, _random);
            if (LongLinkDraw.Target(_view, _self, x) is not { } target) continue;
            if (IsSuccessorOrTarget(target) || _links.IsExcluded(target, now)) continue;
            slot.Target = target;
            slot.HasTarget = true;
            _wantedStale = true;
            return;
        }
    }

    private void OnTargetResolved(Instant now, ulong cookie, NodeId owner)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            ref var slot = ref _slots[i];
            if (!slot.Resolving || slot.Cookie != cookie) continue;
            slot.Resolving = false;
            // Same rules as a local draw: not self, not a successor or another slot's target, not excluded.
            if (owner == _self || IsSuccessorOrTarget(owner) || _links.IsExcluded(owner, now)) return;
            slot.Target = owner;
            slot.HasTarget = true;
            _wantedStale = true;
            return;
        }
    }

    private bool IsSuccessorOrTarget(NodeId peer)
    {
        foreach (var s in _successors) if (s == peer) return true;
        foreach (var slot in _slots) if (slot.HasTarget && slot.Target == peer) return true;
        return false;
    }

    private void ReleaseSlotOf(NodeId peer)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i].HasTarget && _slots[i].Target == peer) { _slots[i].HasTarget = false; _wantedStale = true; }
    }

    // ---- on-demand traffic ----

    private void NoteTraffic(Instant now, NodeId peer, long bytes)
    {
        if (peer == _self || bytes <= 0) return;
        var traffic = _traffic ??= [];
        int i = traffic.FindIndex(t => t.Peer == peer);
        if (i < 0)
        {
            if (traffic.Count >= _config.TrafficPeersMax)
            {
                int oldest = 0;
                for (int j = 1; j < traffic.Count; j++) if (traffic[j].LastTraffic < traffic[oldest].LastTraffic) oldest = j;
                traffic.RemoveAt(oldest);
            }
            traffic.Add(new TrafficEntry { Peer = peer, WindowStart = now });
            i = traffic.Count - 1;
        }
        var e = traffic[i];
        e.BytesInWindow += bytes;
        e.LastTraffic = now;
        if (e.BytesInWindow >= _config.OnDemandThresholdBytes) e.Wanted = true;
        traffic[i] = e;
    }

    private void EvaluateTraffic(Instant now)
    {
        if (_traffic is not { } traffic) return;
        for (int i = traffic.Count - 1; i >= 0; i--)
        {
            var e = traffic[i];
            if (now - e.LastTraffic >= _config.OnDemandIdleTimeout) { traffic.RemoveAt(i); continue; }
            if (now - e.WindowStart >= _config.OnDemandWindow) { e.WindowStart = now; e.BytesInWindow = 0; }
            traffic[i] = e;
        }
    }
}
