// Symphony's scalable membership for one node, as a pure machine: join through any member, greedy
// lookup over the overlay (bidirectional, as in the Symphony paper), Chord-style stabilization,
// and an estimate of n from the spacing of nearby ids (SizeEstimator). It reads the linked peers
// from the node's neighbour view when given one (IPeerView), else keeps its own list. It replaces
// presence to every member (O(n²) messages) by O(log² n / k)-hop lookups and a constant
// stabilization cost per node.
//
// Contract (inputs and outputs in MembershipIO.cs, messages in MembershipMessage.cs):
//  - Join(bootstrap): Joining; a FindSuccessor for the node's own id goes to the bootstrap through
//    signaling; the answer (the owner, the node just before the id and the owner's successors) is
//    adopted: Member, Joined, SuccessorsChanged. Retried LookupRetriesMax times, then JoinFailed
//    and back to Idle; a bootstrap that answers it is not in a ring (NotJoined) fails the join at
//    once, as asking it again cannot help: the host picks another bootstrap (BootstrapChoice).
//    JoinAsFirst: a ring of one (Joined(self)); it owns every key.
//  - Ownership: this node owns key when key is in (predecessor, self]; a node whose successor is s
//    answers for keys in (self, s] on s's behalf (Chord), which saves the last hop. A join is
//    answered only in the second way (the successor pointer is what stabilization verifies; a
//    stale predecessor claims too wide a range, and joiners placed by it formed second loops).
//  - Routing: a plain lookup it does not answer goes to the known node (neighbours, successor
//    list, predecessor) nearest the key on either side, if nearer than itself: every such hop
//    shortens the ring distance to the key. Otherwise, and always for joins and self-checks, it
//    goes to the known node closest before the key, strictly inside (self, key), and the lookup's
//    Nearest flag is cleared for good: every such hop shortens the clockwise distance. So a lookup
//    never loops even on inconsistent views. At LookupHopsMax it fails (FindFailed to the origin).
//    Answers go straight to the origin, through signaling unless the origin is a neighbour; every
//    Send is ViaSignaling exactly when the target is not a neighbour.
//  - Lookups: LookupTimeout per attempt (jittered), LookupRetriesMax retries (a FindFailed is
//    retried after LookupRetryDelay), at most PendingLookupsMax in flight; then LookupFailed.
//  - Stabilization: Stabilize (notify included) to the first successor; the reply's predecessor,
//    when closer, becomes the first successor, else the reply's list becomes the tail. The period
//    starts at StabilizeIntervalMin and doubles per quiet round up to StabilizeIntervalMax; it
//    resets when the FIRST successor changes (the only pointer stabilization verifies: a changed
//    tail or predecessor needs no faster rounds, and resetting on them would multiply a join's
//    cost by the L nodes whose tails it touches). A node whose list changed pushes it to its
//    predecessor (a StabilizeReply with nonce 0), so a join reaches the L tails in L messages
//    instead of L slow rounds. Likewise a node whose smoothed spacing moved by more than
//    EstimatePushChangeMin since it last told its predecessor pushes it: the estimate filter runs
//    along the ring at message speed instead of one hop per (backed-off) round, so after a mass
//    join every estimate is right in seconds, not the minutes that (1-w)^rounds takes. Pushes end:
//    each needs a further change of that size, and a change shrinks by (1-w) per hop.
//  - Failure: NeighbourDown of the first successor, a Leaving from a successor, or
//    StabilizeMissesMax unanswered Stabilize requests remove it (the next one moves up; an empty
//    list falls back on the closest known node clockwise, or a ring of one). NeighbourDown of a
//    later successor removes nothing: the topology closes links it stopped wanting, and a dead
//    one is purged when the first successor's list replaces the tail. The predecessor is
//    forgotten on Leaving or after PredecessorTimeout of silence; NeighbourDown only makes it
//    suspect (the next claimant replaces it, a message from it clears the suspicion).
//  - Learning: every live sender and every new neighbour is offered as predecessor (when inside
//    (predecessor, self)) and as successor (when closer than the L-th), pointers only move closer.
//  - State per node: the successor list, the predecessor, the neighbour ids, a few scalars and
//    the pending lookups (none when idle): a few hundred bytes beyond the lists.
//  - Self-check: every SelfCheckInterval a lookup of self + 1 goes out through a random member
//    the signaling server names (IntroducerWanted, answered by Introducer), and the node that
//    answers is introduced to this one. On a single ring it finds the first successor; when
//    concurrent joins or a partition left two loops that each look consistent (stabilization cannot
//    see that), it finds a node of the other loop and the two merge. A random member of the whole
//    overlay is what finds the other loop after a partition: by then no link crosses between the
//    loops. When no introducer came since the last check (signaling down), the check goes through
//    the farthest neighbour instead.
//  - Leave: Leaving to predecessor and first successor; pending lookups fail; then inert.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Ring;
using static EdgeVpn.Protocol.Membership.MembershipMessage;

namespace EdgeVpn.Protocol.Membership;

public enum MembershipPhase : byte { Idle, Joining, Member, Left }

public sealed class RingMembership : IStateMachine<MembershipInput, MembershipOutput>
{
    private enum Timer { Stabilize, StabilizeReply, Predecessor, Lookups, SelfCheck }
    private enum LookupKind : byte { Lookup, Join, SelfCheck }

    private struct Pending
    {
        public ulong RequestId;
        public ulong Cookie;
        public UInt128 Key;
        public Instant Deadline;
        public byte Attempts;
        public LookupKind Kind;
        public FindFailure LastFailure; // 0: none (the attempt timed out)
    }

    /// <summary>Names the successor list and timers for a host's cache hints (see ICacheWarmer); changes nothing.</summary>
    public void NameHotState<T>(ref T warmer) where T : struct, ICacheWarmer
    {
        warmer.Warm(_successors, 16 + 16 * _successors.Length);
        warmer.Warm(_timers, 64);
        warmer.Warm(_outputs.Buffer, 64);
    }

    private readonly NodeId _self;
    private readonly MembershipConfig _config;
    private readonly DeterministicRandom _random;
    private readonly TimerTable<Timer> _timers = new();
    private OutputQueue<MembershipOutput> _outputs;

    private MembershipPhase _phase;
    private NodeId _bootstrap;
    private NodeId[] _successors = [];      // replaced, never written, once published
    private NodeId _predecessor;
    private bool _hasPredecessor;
    private bool _predecessorSuspect;       // its link went down: any claimant replaces it
    // The peers with a connected link: the node's own table when it shares one (EdgeNode does),
    // else this machine's list (sorted by id), kept from NeighbourUp and NeighbourDown.
    private readonly IPeerView? _sharedNeighbours;
    // The shared table when it is sorted clockwise from this node (LinkManager's is): lookups then
    // bisect it for the nearest hop instead of scanning it.
    private readonly INeighbourView? _clockwiseNeighbours;
    private NodeId[] _neighbours = [];
    private int _neighbourCount;

    private TimeSpan _stabilizeInterval;
    private ulong _stabilizeNonce;          // of the Stabilize awaiting its reply; 0: none
    private NodeId _stabilizeTarget;
    private int _stabilizeMisses;
    private bool _firstSuccessorChanged;    // during the current round: reset the period

    private ulong _successorSpacing;        // the successor's last reported spacing (0.64 fixed point)
    private double _spacing = 1.0;
    private int _reportedSize;
    private bool _introducerWanted;         // IntroducerWanted is out and not answered yet
    private bool _stabilizedOnce;           // a solicited StabilizeReply has come back since the join
    private double _toldSpacing;            // the spacing last sent to the predecessor (0: none)

    private List<Pending>? _pending;

    /// <param name="neighbours">The node's table of linked peers, updated before each NeighbourUp
    /// and NeighbourDown it gives this machine; null: the machine keeps its own list.</param>
    public RingMembership(NodeId self, MembershipConfig config, DeterministicRandom random, IPeerView? neighbours = null)
    {
        if (config.Validate() is { } problem) throw new ArgumentException(problem, nameof(config));
        _sharedNeighbours = neighbours;
        if (neighbours is INeighbourView view && view.Self == self) _clockwiseNeighbours = view;
        _self = self;
        _config = config;
        _random = random;
        _stabilizeInterval = config.StabilizeIntervalMin;
    }

    public NodeId Self => _self;
    public MembershipPhase Phase => _phase;
    /// <summary>Clockwise from this node; the same instance as the last SuccessorsChanged.</summary>
    public IReadOnlyList<NodeId> Successors => _successors;
    public NodeId? Predecessor => _hasPredecessor ? _predecessor : null;
    /// <summary>The current estimate of n (1 until the node knows a successor).</summary>
    public int EstimatedSize => SizeEstimator.SizeOf(_spacing);
    /// <summary>The smoothed mean spacing of ids, as a fraction of the ring.</summary>
    public double Spacing => _spacing;
    public TimeSpan StabilizeInterval => _stabilizeInterval;
    public int PendingLookups => _pending?.Count ?? 0;

    // ---- the five members of the contract ----

    /// <summary>The same transition as Handle(now, new MembershipInput.Received(from, message)),
    /// without the input record: a lookup hop is the simulator's most frequent event.</summary>
    public void HandleMessage(Instant now, NodeId from, MembershipMessage message)
    {
        if (_phase == MembershipPhase.Left || from == _self) return;
        OnReceived(now, from, message);
    }

    public void Handle(Instant now, MembershipInput input)
    {
        if (_phase == MembershipPhase.Left) return;
        switch (input)
        {
            case MembershipInput.Join j:
                if (_phase != MembershipPhase.Idle || j.Bootstrap == _self) return;
                _phase = MembershipPhase.Joining;
                _stabilizedOnce = false;
                _introducerWanted = false;
                _bootstrap = j.Bootstrap;
                StartLookup(now, _self.Value, 0, LookupKind.Join);
                break;
            case MembershipInput.JoinAsFirst:
                if (_phase != MembershipPhase.Idle) return;
                _phase = MembershipPhase.Member;
                ArmSelfCheck(now);
                _outputs.Enqueue(new MembershipOutput.Joined(_self));
                UpdateEstimate();
                break;
            case MembershipInput.Introducer i:
                if (_phase != MembershipPhase.Member || !_introducerWanted || i.Member == _self) return;
                _introducerWanted = false;
                SendSelfCheck(now, i.Member);
                break;
            case MembershipInput.NeighbourUp u:
                if (u.Peer == _self) return;
                AddNeighbour(u.Peer);
                Learn(now, u.Peer);
                break;
            case MembershipInput.NeighbourDown d:
                RemoveNeighbour(d.Peer);
                LinkGone(now, d.Peer);
                break;
            case MembershipInput.Received r:
                HandleMessage(now, r.From, r.Message);
                break;
            case MembershipInput.Lookup l:
                OnLookup(now, l.Key, l.Cookie);
                break;
            case MembershipInput.Leave:
                DoLeave(now);
                break;
        }
    }

    public void HandleTimeout(Instant now)
    {
        if (_phase == MembershipPhase.Left) return;
        if (_timers.TakeIfDue(Timer.StabilizeReply, now)) OnStabilizeReplyTimeout(now);
        if (_timers.TakeIfDue(Timer.Stabilize, now)) SendStabilize(now);
        if (_timers.TakeIfDue(Timer.Predecessor, now)) ClearPredecessor();
        if (_timers.TakeIfDue(Timer.Lookups, now)) OnLookupDeadlines(now);
        if (_timers.TakeIfDue(Timer.SelfCheck, now)) SelfCheck(now);
    }

    public Instant? PollTimeout() => _timers.Earliest();

    public bool TryPollOutput(out MembershipOutput output) => _outputs.TryDequeue(out output);

    public void CheckInvariants()
    {
        int l = _successors.Length;
        if (l > _config.SuccessorListLength) throw new InvariantViolation($"{l} successors, more than SuccessorListLength {_config.SuccessorListLength}");
        UInt128 previous = 0;
        foreach (var s in _successors)
        {
            UInt128 d = NodeId.ClockwiseDistance(_self, s);
            if (d == 0) throw new InvariantViolation("self among successors");
            if (d <= previous) throw new InvariantViolation("successors not strictly sorted clockwise from self (or duplicated)");
            previous = d;
        }
        if (_phase != MembershipPhase.Member && _phase != MembershipPhase.Left && l > 0) throw new InvariantViolation($"successors while {_phase}");
        if (_hasPredecessor && _predecessor == _self) throw new InvariantViolation("self as predecessor");
        if (_hasPredecessor != _timers.IsArmed(Timer.Predecessor) && _phase != MembershipPhase.Left) throw new InvariantViolation("predecessor expiry timer out of step with the predecessor");
        for (int i = 0; i < _neighbourCount; i++) // a shared table checks itself
        {
            if (_neighbours[i] == _self) throw new InvariantViolation("self among neighbours");
            if (i > 0 && _neighbours[i - 1] >= _neighbours[i]) throw new InvariantViolation("neighbours not strictly sorted");
        }
        bool awaiting = _stabilizeNonce != 0;
        if (awaiting != _timers.IsArmed(Timer.StabilizeReply)) throw new InvariantViolation("stabilize reply timer out of step with the request in flight");
        if (awaiting && _timers.IsArmed(Timer.Stabilize)) throw new InvariantViolation("stabilize scheduled while a request is in flight");
        if (_phase == MembershipPhase.Member && l > 0 && !awaiting && !_timers.IsArmed(Timer.Stabilize)) throw new InvariantViolation("member with successors and no stabilize scheduled");
        if ((_phase != MembershipPhase.Member || l == 0) && (awaiting || _timers.IsArmed(Timer.Stabilize))) throw new InvariantViolation($"stabilizing while {_phase} with {l} successors");
        if (_stabilizeInterval < _config.StabilizeIntervalMin || _stabilizeInterval > _config.StabilizeIntervalMax) throw new InvariantViolation("stabilize interval out of bounds");
        int pending = _pending?.Count ?? 0;
        if (pending > _config.PendingLookupsMax + 1) throw new InvariantViolation("more pending lookups than PendingLookupsMax (+ the join)");
        Instant? earliest = null;
        if (_pending is { } list) foreach (var p in list) earliest = Instant.Earliest(earliest, p.Deadline);
        if (earliest != _timers.Get(Timer.Lookups)) throw new InvariantViolation("lookup timer is not the earliest pending deadline");
        if ((_phase == MembershipPhase.Member) != _timers.IsArmed(Timer.SelfCheck)) throw new InvariantViolation($"self-check timer armed is not the same as being a member ({_phase})");
        if (_phase == MembershipPhase.Left && _timers.Earliest() is not null) throw new InvariantViolation("timers armed after leaving");
    }

    // ---- messages ----

    private void OnReceived(Instant now, NodeId from, MembershipMessage message)
    {
        if (_hasPredecessor && from == _predecessor)
        {
            _timers.Set(Timer.Predecessor, now + _config.PredecessorTimeout);
            _predecessorSuspect = message is Leaving;
        }
        // A leaving sender is not offered; a lookup's sender is offered after the answer, so that a
        // joiner asking through us is not its own answer.
        if (message is not (Leaving or FindSuccessor)) Learn(now, from, notify: message is Stabilize);
        switch (message)
        {
            case FindSuccessor f: OnFindSuccessor(now, f); Learn(now, from); break;
            case FoundOwner o: OnFoundOwner(now, o); break;
            case FindFailed x: OnFindFailed(now, x); break;
            case Stabilize s:
                // A node that is not joining must not look alive to a ring that learned of it.
                if (_phase != MembershipPhase.Idle) Send(now, from, new StabilizeReply(s.Nonce, TellSpacing(from), Predecessor, _successors));
                break;
            case StabilizeReply r: OnStabilizeReply(now, from, r); break;
            case Leaving l: OnLeaving(now, from, l); break;
        }
    }

    private void OnFindSuccessor(Instant now, FindSuccessor m)
    {
        if (_phase != MembershipPhase.Member)
        {
            Send(now, m.Origin, new FindFailed(m.RequestId, m.Hops, FindFailure.NotJoined));
            return;
        }
        // A join is answered only on the strength of the successor pointer, which stabilization
        // verifies; a predecessor may be stale (or a suspect's stand-in) and claim too wide a range,
        // and a joiner placed by such a claim can end up in a second loop of the ring.
        var owner = Resolve(m.Key);
        if (m.ForJoin && owner == Owner.Self && _successors.Length > 0) owner = Owner.Unknown;
        if (owner != Owner.Unknown)
        {
            Send(now, m.Origin, m.ForJoin ? JoinAnswer(m.RequestId, m.Hops, owner, m.Origin) : LookupAnswer(m.RequestId, m.Hops, owner));
            // The joiner is alive and about to sit next to the node that answered: learning it now
            // lets the answerer (its predecessor) link to it without waiting for a stabilize round.
            if (m.ForJoin || m.Introduce) Learn(now, m.Origin);
            return;
        }
        if (m.Hops >= _config.LookupHopsMax)
        {
            Send(now, m.Origin, new FindFailed(m.RequestId, m.Hops, FindFailure.HopsExceeded));
            return;
        }
        var (hop, nearest) = Route(m.Key, m.Nearest && !m.ForJoin);
        if (hop is not { } next)
        {
            Send(now, m.Origin, new FindFailed(m.RequestId, m.Hops, FindFailure.NoRoute));
            return;
        }
        Send(now, next, m with { Hops = (byte)(m.Hops + 1), Nearest = nearest });
    }

    private enum Owner : byte { Unknown, Self, FirstSuccessor }

    /// <summary>Who owns key as far as this member can tell without asking anyone.</summary>
    private Owner Resolve(UInt128 key)
    {
        var k = new NodeId(key);
        if (_successors.Length == 0) return Owner.Self; // a ring of one owns everything
        if (_hasPredecessor && NodeId.IsInHalfOpen(k, _predecessor, _self)) return Owner.Self;
        if (NodeId.IsInHalfOpen(k, _self, _successors[0])) return Owner.FirstSuccessor;
        return Owner.Unknown;
    }

    private FoundOwner LookupAnswer(ulong requestId, byte hops, Owner owner) =>
        new(requestId, owner == Owner.Self ? _self : _successors[0], hops, null, []);

    /// <summary>The ring around the joiner's id: the node before it and the nodes from its owner on.
    /// The joiner itself is left out (it may be known already, e.g. re-joining after a crash).</summary>
    private FoundOwner JoinAnswer(ulong requestId, byte hops, Owner owner, NodeId joiner)
    {
        var succ = new List<NodeId>(_config.SuccessorListLength);
        if (owner == Owner.Self) succ.Add(_self);
        foreach (var s in _successors) if (s != joiner && succ.Count < _config.SuccessorListLength) succ.Add(s);
        // Alone (or alone but for the joiner), this node is both the owner and the one before the key.
        if (succ.Count == 0) succ.Add(_self);
        NodeId? before = owner == Owner.FirstSuccessor || _successors.Length == 0 ? _self : Predecessor;
        if (before == joiner) before = null;
        return new FoundOwner(requestId, succ[0], hops, before, succ.ToArray());
    }

    /// <summary>Where a lookup goes next, and whether it may still go to the nearest node.
    /// Symphony's bidirectional routing: a plain lookup goes to the known node nearest the key on
    /// either side, so long links serve in both directions (100k nodes: 9.04 -> 6.8 mean hops, 10%
    /// fewer events, while every node draws its long links at once). Each such hop strictly shrinks
    /// the ring distance to the key. A node nearest the key itself that cannot resolve it (it lies
    /// past the key and knows no predecessor) sends it on clockwise and clears the flag; clockwise
    /// hops strictly shrink the clockwise distance. One switch between two shrinking measures: no
    /// cycle. Joins and self-checks stay clockwise, so that their answer comes from a successor
    /// pointer, which stabilization verifies.</summary>
    private (NodeId? Next, bool Nearest) Route(UInt128 key, bool nearest) =>
        nearest && NearestHop(key) is { } n ? (n, true) : (NextHop(key), false);

    /// <summary>The known node strictly nearer key than this one, on either side; null if none.</summary>
    private NodeId? NearestHop(UInt128 key)
    {
        var k = new NodeId(key);
        UInt128 bestDistance = NodeId.RingDistance(_self, k);
        NodeId? best = null;
        void Consider(NodeId c, ref NodeId? best, ref UInt128 bestDistance)
        {
            UInt128 d = NodeId.RingDistance(c, k);
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        if (_clockwiseNeighbours is { } view)
        {
            // The scan below, in O(log n): same answer, ties included (NearestOnRing's contract).
            int at = NearestOnRing.IndexOf(view, _self, k);
            if (at >= 0) Consider(view.IdAt(at), ref best, ref bestDistance);
        }
        else for (int i = 0, n = NeighbourCount; i < n; i++) Consider(NeighbourAt(i), ref best, ref bestDistance);
        foreach (var s in _successors) Consider(s, ref best, ref bestDistance);
        if (_hasPredecessor) Consider(_predecessor, ref best, ref bestDistance);
        return best;
    }

    /// <summary>The known node closest before key, strictly inside (self, key); null if none.</summary>
    private NodeId? NextHop(UInt128 key)
    {
        var k = new NodeId(key);
        NodeId? best = null;
        UInt128 bestDistance = 0;
        void Consider(NodeId c, ref NodeId? best, ref UInt128 bestDistance)
        {
            if (!NodeId.IsInOpen(c, _self, k)) return;
            UInt128 d = NodeId.ClockwiseDistance(_self, c);
            if (d > bestDistance) { bestDistance = d; best = c; }
        }
        for (int i = 0, n = NeighbourCount; i < n; i++) Consider(NeighbourAt(i), ref best, ref bestDistance);
        foreach (var s in _successors) Consider(s, ref best, ref bestDistance);
        return best;
    }

    private void OnFoundOwner(Instant now, FoundOwner m)
    {
        int i = IndexOfPending(m.RequestId);
        if (i < 0) return; // late answer to a finished lookup
        var p = _pending![i];
        if (p.Kind == LookupKind.Join)
        {
            if (!AdoptJoinAnswer(now, m)) { FailAttempt(now, i, FindFailure.NoRoute); return; }
        }
        else if (p.Kind == LookupKind.SelfCheck)
        {
            if (_phase == MembershipPhase.Member && m.Owner != _self) Offer(now, m.Owner);
        }
        else
        {
            _outputs.Enqueue(new MembershipOutput.LookupResolved(p.Cookie, m.Owner, m.Hops));
        }
        RemovePending(i);
    }

    private bool AdoptJoinAnswer(Instant now, FoundOwner m)
    {
        if (_phase != MembershipPhase.Joining) return false;
        var list = Sanitize(m.KeySuccessors, m.Owner);
        if (list.Length == 0) return false;
        _phase = MembershipPhase.Member;
        ArmSelfCheck(now);
        _outputs.Enqueue(new MembershipOutput.Joined(list[0]));
        if (m.KeyPredecessor is { } p && p != _self) SetPredecessor(now, p, estimate: false);
        SetSuccessors(now, list);
        return true;
    }

    // The first self-check comes at a random point of the first period, so that nodes that joined
    // together do not check together.
    private void ArmSelfCheck(Instant now) =>
        _timers.Set(Timer.SelfCheck, now + _config.SelfCheckInterval * (0.5 + _random.NextDouble()));

    private void OnFindFailed(Instant now, FindFailed m)
    {
        int i = IndexOfPending(m.RequestId);
        if (i < 0) return;
        if (m.Reason == FindFailure.NotJoined && _pending![i].Kind == LookupKind.Join)
        {
            // Three nodes that came up together used to spend three retries each, 1 s apart, on
            // bootstraps that could not answer (21 s to a ring of two on the testbed).
            RemovePending(i);
            FailJoin($"{FindFailure.NotJoined}: the bootstrap is not in a ring", bootstrapNotMember: true);
            return;
        }
        FailAttempt(now, i, m.Reason);
    }

    private void FailJoin(string reason, bool bootstrapNotMember)
    {
        _phase = MembershipPhase.Idle;
        _outputs.Enqueue(new MembershipOutput.JoinFailed(reason, bootstrapNotMember));
    }

    private void OnStabilizeReply(Instant now, NodeId from, StabilizeReply m)
    {
        if (m.Nonce == 0)
        {
            // An unsolicited push from a successor whose list changed.
            if (_successors.Length > 0 && from == _successors[0]) ApplySuccessorState(now, m);
            return;
        }
        if (m.Nonce != _stabilizeNonce || from != _stabilizeTarget) return;
        _stabilizeNonce = 0;
        _timers.Stop(Timer.StabilizeReply);
        _stabilizeMisses = 0;
        _stabilizedOnce = true;
        ApplySuccessorState(now, m);
        _stabilizeInterval = _firstSuccessorChanged
            ? _config.StabilizeIntervalMin
            : Min(_stabilizeInterval * 2, _config.StabilizeIntervalMax);
        _firstSuccessorChanged = false;
        ScheduleStabilize(now + _random.Jitter(_stabilizeInterval, _config.JitterSpread));
    }

    /// <summary>Adopts what the first successor reports: a closer successor, or its list as our tail.</summary>
    private void ApplySuccessorState(Instant now, StabilizeReply m)
    {
        if (_successors.Length == 0) return;
        // "No estimate" (a joiner without its successor's report yet) keeps the last one: the
        // previous successor's report describes the same stretch of ring.
        if (m.Spacing != 0) _successorSpacing = m.Spacing;
        NodeId first = _successors[0];
        if (m.Predecessor is { } p && p != _self && NodeId.IsInOpen(p, _self, first))
            Offer(now, p);
        else if (m.Successors.Length > 0)
        {
            // Only up to self: past it the list has wrapped around a small ring, and what follows
            // would sort in before the first successor, dead nodes included.
            int upToSelf = Array.IndexOf(m.Successors, _self);
            var list = Sanitize(upToSelf < 0 ? m.Successors : m.Successors[..upToSelf], first);
            if (!SameList(list, _successors)) SetSuccessors(now, list);
        }
        UpdateEstimate();
        PushSpacingIfMoved(now);
    }

    /// <summary>The spacing report for a StabilizeReply to `to`, remembered when `to` is the predecessor.</summary>
    private ulong TellSpacing(NodeId to)
    {
        ulong report = SpacingReport();
        if (report != 0 && _hasPredecessor && to == _predecessor) _toldSpacing = _spacing;
        return report;
    }

    private void PushSpacingIfMoved(Instant now)
    {
        if (!_hasPredecessor || SpacingReport() == 0) return;
        if (_toldSpacing > 0 && Math.Abs(_spacing - _toldSpacing) <= _config.EstimatePushChangeMin * _toldSpacing) return;
        // Spacing only: no list, no predecessor. A list here would re-teach a tail the receiver
        // just purged (two survivors of a small ring re-infected each other with a dead member).
        Send(now, _predecessor, new StabilizeReply(0, TellSpacing(_predecessor), null, []));
    }

    private void OnLeaving(Instant now, NodeId from, Leaving m)
    {
        if (_hasPredecessor && _predecessor == from)
        {
            ClearPredecessor();
            if (m.Predecessor is { } p && p != _self && p != from) SetPredecessor(now, p);
        }
        int at = Array.IndexOf(_successors, from);
        if (at < 0) return;
        var rest = new List<NodeId>(_successors.Length + m.Successors.Length);
        foreach (var s in _successors) if (s != from) rest.Add(s);
        foreach (var s in m.Successors) if (s != from) rest.Add(s);
        SetSuccessorsOrFallBack(now, Sanitize(rest), from);
    }

    // ---- stabilization ----

    private void SendStabilize(Instant now)
    {
        if (_phase != MembershipPhase.Member || _successors.Length == 0) return;
        _stabilizeTarget = _successors[0];
        do _stabilizeNonce = _random.NextUInt64(); while (_stabilizeNonce == 0);
        _timers.Stop(Timer.Stabilize);
        _timers.Set(Timer.StabilizeReply, now + _random.Jitter(_config.StabilizeReplyTimeout, _config.JitterSpread));
        Send(now, _stabilizeTarget, new Stabilize(_stabilizeNonce));
    }

    private void OnStabilizeReplyTimeout(Instant now)
    {
        _stabilizeNonce = 0;
        if (++_stabilizeMisses < _config.StabilizeMissesMax) { SendStabilize(now); return; }
        _stabilizeMisses = 0;
        PeerGone(now, _stabilizeTarget);
        if (!_timers.IsArmed(Timer.Stabilize) && _stabilizeNonce == 0 && _successors.Length > 0)
            ScheduleStabilize(now);
    }

    /// <summary>Stabilize at the given instant, or earlier if already scheduled earlier.</summary>
    private void ScheduleStabilize(Instant at)
    {
        if (_stabilizeNonce != 0 || _phase != MembershipPhase.Member || _successors.Length == 0) return;
        _timers.Set(Timer.Stabilize, Instant.Earliest(_timers.Get(Timer.Stabilize), at)!.Value);
    }

    // ---- the successor list and the predecessor ----

    /// <summary>A live node was seen: a candidate predecessor and (once a member) successor. Only a
    /// node that says it may be our predecessor (notify) replaces a suspect one.</summary>
    private void Learn(Instant now, NodeId peer, bool notify = false)
    {
        if (peer == _self || _phase == MembershipPhase.Left) return;
        if (!_hasPredecessor || (notify && _predecessorSuspect && peer != _predecessor) || NodeId.IsInOpen(peer, _predecessor, _self)) SetPredecessor(now, peer);
        if (_phase == MembershipPhase.Member) Offer(now, peer);
    }

    /// <summary>Inserts peer into the successor list when it belongs among the first L.</summary>
    private void Offer(Instant now, NodeId peer)
    {
        UInt128 d = NodeId.ClockwiseDistance(_self, peer);
        if (d == 0) return;
        int at = 0;
        while (at < _successors.Length)
        {
            UInt128 ds = NodeId.ClockwiseDistance(_self, _successors[at]);
            if (ds == d) return; // known already
            if (ds > d) break;
            at++;
        }
        if (at >= _config.SuccessorListLength) return;
        int length = Math.Min(_successors.Length + 1, _config.SuccessorListLength);
        var list = new NodeId[length];
        Array.Copy(_successors, list, at);
        list[at] = peer;
        Array.Copy(_successors, at, list, at + 1, length - at - 1);
        SetSuccessors(now, list);
    }

    private void SetSuccessors(Instant now, NodeId[] list)
    {
        NodeId? oldFirst = _successors.Length > 0 ? _successors[0] : null;
        _successors = list;
        _outputs.Enqueue(new MembershipOutput.SuccessorsChanged(list));
        NodeId? newFirst = list.Length > 0 ? list[0] : null;
        if (oldFirst != newFirst)
        {
            _firstSuccessorChanged = true;
            _stabilizeInterval = _config.StabilizeIntervalMin;
            _stabilizeMisses = 0;
            if (_stabilizeNonce != 0) { _stabilizeNonce = 0; _timers.Stop(Timer.StabilizeReply); }
            if (newFirst is null) _timers.Stop(Timer.Stabilize);
            // A new first successor is told at once that we may be its predecessor.
            else ScheduleStabilize(now);
        }
        if (_hasPredecessor && list.Length > 0 && _predecessor != list[0])
            Send(now, _predecessor, new StabilizeReply(0, TellSpacing(_predecessor), Predecessor, list));
        UpdateEstimate();
    }

    private void SetSuccessorsOrFallBack(Instant now, NodeId[] list, NodeId gone)
    {
        if (list.Length == 0)
        {
            // The whole list is gone: the closest known node clockwise stands in; stabilization
            // walks from there to the true successor.
            NodeId? best = null;
            UInt128 bestDistance = UInt128.MaxValue;
            for (int i = 0, n = NeighbourCount; i < n; i++) Closer(NeighbourAt(i));
            if (_hasPredecessor) Closer(_predecessor);
            void Closer(NodeId c)
            {
                if (c == gone || c == _self) return;
                UInt128 d = NodeId.ClockwiseDistance(_self, c);
                if (d < bestDistance) { bestDistance = d; best = c; }
            }
            if (best is { } b) list = [b];
        }
        if (!SameList(list, _successors)) SetSuccessors(now, list);
    }

    /// <summary>A link went down. The topology also closes links it no longer wants, so only the
    /// first successor (always linked while it is first) is taken for dead; a predecessor is only
    /// suspected: the next node that claims the place replaces it, a message from it clears it.</summary>
    private void LinkGone(Instant now, NodeId peer)
    {
        if (_hasPredecessor && _predecessor == peer) _predecessorSuspect = true;
        if (_successors.Length > 0 && _successors[0] == peer) PeerGone(now, peer);
    }

    /// <summary>A peer is gone (first successor's link down, leave, silence): drop it from the successors and as predecessor.</summary>
    private void PeerGone(Instant now, NodeId peer)
    {
        if (_hasPredecessor && _predecessor == peer) ClearPredecessor();
        if (Array.IndexOf(_successors, peer) < 0) return;
        var rest = new List<NodeId>(_successors.Length);
        foreach (var s in _successors) if (s != peer) rest.Add(s);
        SetSuccessorsOrFallBack(now, rest.ToArray(), peer);
    }

    private void SetPredecessor(Instant now, NodeId peer, bool estimate = true)
    {
        _predecessor = peer;
        _hasPredecessor = true;
        _predecessorSuspect = false;
        _timers.Set(Timer.Predecessor, now + _config.PredecessorTimeout);
        if (estimate) UpdateEstimate();
    }

    private void ClearPredecessor()
    {
        _hasPredecessor = false;
        _predecessorSuspect = false;
        _timers.Stop(Timer.Predecessor);
        UpdateEstimate();
    }

    /// <summary>The candidates without self, sorted clockwise from self, de-duplicated, at most L.</summary>
    private NodeId[] Sanitize(IEnumerable<NodeId> candidates, NodeId? also = null)
    {
        var list = new List<NodeId>();
        if (also is { } a && a != _self) list.Add(a);
        foreach (var c in candidates) if (c != _self) list.Add(c);
        list.Sort((x, y) => NodeId.ClockwiseDistance(_self, x).CompareTo(NodeId.ClockwiseDistance(_self, y)));
        var result = new List<NodeId>(Math.Min(list.Count, _config.SuccessorListLength));
        foreach (var c in list)
        {
            if (result.Count == _config.SuccessorListLength) break;
            if (result.Count == 0 || result[^1] != c) result.Add(c);
        }
        return result.ToArray();
    }

    private static bool SameList(NodeId[] a, NodeId[] b) => a.AsSpan().SequenceEqual(b);

    private void UpdateEstimate()
    {
        double raw = SizeEstimator.RawSpacing(_self, Predecessor, _successors, _config.SuccessorListLength);
        _spacing = _successors.Length == 0 ? raw : SizeEstimator.Smooth(raw, _successorSpacing, _config.EstimateOwnWeight);
        if (_phase != MembershipPhase.Member) return;
        int n = SizeEstimator.SizeOf(_spacing);
        if (_reportedSize == 0 || Math.Abs(n - _reportedSize) > _config.EstimateReportChangeMin * _reportedSize)
        {
            _reportedSize = n;
            _outputs.Enqueue(new MembershipOutput.SizeEstimate(n));
        }
    }

    // A member reports once its estimate has a successor's report in it, is exact (a list shorter
    // than L is the whole ring), or its first stabilize round is done (a successor with no report
    // of its own must not keep a stretch of ring silent, each node on raw ±45% spacings). A
    // joiner's raw spacing alone would send a correction wave a dozen nodes back with every join.
    private ulong SpacingReport() =>
        _phase == MembershipPhase.Member && (_successorSpacing != 0 || _successors.Length < _config.SuccessorListLength || _stabilizedOnce)
            ? SizeEstimator.ToWire(_spacing) : 0;

    // ---- lookups ----

    private void OnLookup(Instant now, UInt128 key, ulong cookie)
    {
        if (_phase != MembershipPhase.Member)
        {
            _outputs.Enqueue(new MembershipOutput.LookupFailed(cookie, $"not a member of the ring ({_phase})"));
            return;
        }
        switch (Resolve(key))
        {
            case Owner.Self: _outputs.Enqueue(new MembershipOutput.LookupResolved(cookie, _self, 0)); return;
            case Owner.FirstSuccessor: _outputs.Enqueue(new MembershipOutput.LookupResolved(cookie, _successors[0], 0)); return;
        }
        if (PendingLookups >= _config.PendingLookupsMax)
        {
            _outputs.Enqueue(new MembershipOutput.LookupFailed(cookie, $"{_config.PendingLookupsMax} lookups already pending (PendingLookupsMax)"));
            return;
        }
        StartLookup(now, key, cookie, LookupKind.Lookup);
    }

    private void StartLookup(Instant now, UInt128 key, ulong cookie, LookupKind kind)
    {
        ulong id;
        do id = _random.NextUInt64(); while (id == 0 || IndexOfPending(id) >= 0);
        (_pending ??= []).Add(new Pending { RequestId = id, Cookie = cookie, Key = key, Kind = kind });
        Attempt(now, _pending.Count - 1);
    }

    /// <summary>Asks the signaling server for a random member to look up self + 1 through (see
    /// the contract); when the previous request went unanswered, checks through the farthest
    /// neighbour now.</summary>
    private void SelfCheck(Instant now)
    {
        _timers.Set(Timer.SelfCheck, now + _random.Jitter(_config.SelfCheckInterval, _config.JitterSpread));
        // A ring of one checks too: it is what a node cut off by a partition believes it is.
        if (_phase != MembershipPhase.Member) return;
        if (_introducerWanted && _successors.Length > 0)
        {
            NodeId? via = null;
            UInt128 farthest = 0;
            for (int i = 0, n = NeighbourCount; i < n; i++)
            {
                var c = NeighbourAt(i);
                UInt128 d = NodeId.ClockwiseDistance(_self, c);
                if (d > farthest && c != _successors[0]) { farthest = d; via = c; }
            }
            if (via is { } v) SendSelfCheck(now, v);
        }
        _introducerWanted = true;
        _outputs.Enqueue(new MembershipOutput.IntroducerWanted());
    }

    /// <summary>One lookup of self + 1 through `via` that introduces this node to the answerer; one
    /// attempt, never reported: on one ring it finds the first successor, across two loops a node
    /// of the other.</summary>
    private void SendSelfCheck(Instant now, NodeId via)
    {
        if (PendingLookups >= _config.PendingLookupsMax) return;
        ulong id;
        do id = _random.NextUInt64(); while (id == 0 || IndexOfPending(id) >= 0);
        (_pending ??= []).Add(new Pending
        {
            RequestId = id, Key = unchecked(_self.Value + 1), Kind = LookupKind.SelfCheck,
            Attempts = (byte)_config.LookupRetriesMax, Deadline = now + _random.Jitter(_config.LookupTimeout, _config.JitterSpread),
        });
        RefreshLookupTimer();
        Send(now, via, new FindSuccessor(id, _self, unchecked(_self.Value + 1), 1, ForJoin: false, Introduce: true));
    }

    /// <summary>Sends (or resends) pending lookup i and arms its deadline.</summary>
    private void Attempt(Instant now, int i)
    {
        var p = _pending![i];
        p.Deadline = now + _random.Jitter(_config.LookupTimeout, _config.JitterSpread);
        _pending[i] = p;
        RefreshLookupTimer();
        if (p.Kind == LookupKind.Join)
        {
            Send(now, _bootstrap, new FindSuccessor(p.RequestId, _self, p.Key, 1, ForJoin: true), forceSignaling: true);
            return;
        }
        var owner = Resolve(p.Key); // the ring may have changed since the lookup started
        if (owner != Owner.Unknown)
        {
            _outputs.Enqueue(new MembershipOutput.LookupResolved(p.Cookie, owner == Owner.Self ? _self : _successors[0], 0));
            RemovePending(i);
            return;
        }
        var (hop, nearest) = Route(p.Key, p.Kind == LookupKind.Lookup);
        if (hop is { } next) Send(now, next, new FindSuccessor(p.RequestId, _self, p.Key, 1, ForJoin: false, Nearest: nearest));
        else FailAttempt(now, i, FindFailure.NoRoute);
    }

    /// <summary>An attempt failed: retry after LookupRetryDelay, or give up when the retries are spent.</summary>
    private void FailAttempt(Instant now, int i, FindFailure reason)
    {
        var p = _pending![i];
        p.LastFailure = reason;
        p.Deadline = now + _random.Jitter(_config.LookupRetryDelay, _config.JitterSpread);
        _pending[i] = p;
        RefreshLookupTimer();
    }

    private void OnLookupDeadlines(Instant now)
    {
        // Deadlines at or before now, oldest index first; Attempt may resolve and remove entries.
        for (int i = 0; _pending is { } list && i < list.Count;)
        {
            var p = list[i];
            if (p.Deadline > now) { i++; continue; }
            if (p.Attempts >= _config.LookupRetriesMax)
            {
                string reason = p.LastFailure == 0
                    ? $"no answer after {p.Attempts + 1} attempts of {_config.LookupTimeout.TotalSeconds:0.###} s"
                    : $"{p.LastFailure} after {p.Attempts + 1} attempts";
                RemovePending(i);
                if (p.Kind == LookupKind.SelfCheck) continue;
                if (p.Kind == LookupKind.Join) FailJoin(reason, bootstrapNotMember: false);   // NotJoined failed it at once
                else _outputs.Enqueue(new MembershipOutput.LookupFailed(p.Cookie, reason));
                continue;
            }
            p.Attempts++;
            p.LastFailure = 0;
            list[i] = p;
            int before = list.Count;
            Attempt(now, i);
            if (list.Count == before) i++;
        }
        RefreshLookupTimer();
    }

    private int IndexOfPending(ulong requestId)
    {
        if (_pending is not { } list) return -1;
        for (int i = 0; i < list.Count; i++) if (list[i].RequestId == requestId) return i;
        return -1;
    }

    private void RemovePending(int i)
    {
        _pending!.RemoveAt(i);
        if (_pending.Count == 0) _pending = null;
        RefreshLookupTimer();
    }

    private void RefreshLookupTimer()
    {
        Instant? earliest = null;
        if (_pending is { } list) foreach (var p in list) earliest = Instant.Earliest(earliest, p.Deadline);
        if (earliest is { } e) _timers.Set(Timer.Lookups, e); else _timers.Stop(Timer.Lookups);
    }

    // ---- leaving, neighbours, sending ----

    private void DoLeave(Instant now)
    {
        if (_phase == MembershipPhase.Member && _successors.Length > 0)
        {
            var bye = new Leaving(Predecessor, _successors);
            Send(now, _successors[0], bye);
            if (_hasPredecessor && _predecessor != _successors[0]) Send(now, _predecessor, bye);
        }
        if (_pending is { } list)
            foreach (var p in list)
                if (p.Kind != LookupKind.SelfCheck)
                    _outputs.Enqueue(p.Kind == LookupKind.Join
                        ? new MembershipOutput.JoinFailed("left before joining")
                        : new MembershipOutput.LookupFailed(p.Cookie, "the node left the ring"));
        _pending = null;
        _stabilizeNonce = 0;
        foreach (var t in Enum.GetValues<Timer>()) _timers.Stop(t);
        _phase = MembershipPhase.Left;
    }

    private int NeighbourCount => _sharedNeighbours?.Count ?? _neighbourCount;
    private NodeId NeighbourAt(int i) => _sharedNeighbours is { } shared ? shared.IdAt(i) : _neighbours[i];

    private void AddNeighbour(NodeId peer)
    {
        if (_sharedNeighbours is not null) return;
        int i = Array.BinarySearch(_neighbours, 0, _neighbourCount, peer);
        if (i >= 0) return;
        i = ~i;
        if (_neighbourCount == _neighbours.Length) Array.Resize(ref _neighbours, Growth.Next(_neighbours.Length));
        Array.Copy(_neighbours, i, _neighbours, i + 1, _neighbourCount - i);
        _neighbours[i] = peer;
        _neighbourCount++;
    }

    private void RemoveNeighbour(NodeId peer)
    {
        if (_sharedNeighbours is not null) return;
        int i = Array.BinarySearch(_neighbours, 0, _neighbourCount, peer);
        if (i < 0) return;
        Array.Copy(_neighbours, i + 1, _neighbours, i, _neighbourCount - i - 1);
        _neighbourCount--;
    }

    private bool IsNeighbour(NodeId peer) =>
        _sharedNeighbours?.Contains(peer) ?? Array.BinarySearch(_neighbours, 0, _neighbourCount, peer) >= 0;

    private void Send(Instant now, NodeId to, MembershipMessage message, bool forceSignaling = false)
    {
        if (to == _self) { OnReceived(now, _self, message); return; } // cannot happen on a consistent ring; kept total
        _outputs.Enqueue(new MembershipOutput.Send(to, message, forceSignaling || !IsNeighbour(to)));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a <= b ? a : b;
}
