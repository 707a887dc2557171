// An ICE agent (RFC 8445 full agent, one component, UDP only) with RFC 7675 consent freshness,
// as a pure state machine: it owns no socket and no clock. It gathers host, server-reflexive
// (STUN Binding) and relayed (TURN Allocate) candidates, forms and prunes the checklist, runs
// paced ordinary and triggered checks, learns peer-reflexive candidates, repairs role
// conflicts (487), nominates regularly (controlling: USE-CANDIDATE on the best valid pair),
// reports Connected with the selected pair, then keeps consent with a check every ~5 s and
// reports ConsentLost after 30 s without a response.
// Contract: sans-IO (IStateMachine). Handle/HandleTimeout never throw on any input; malformed or
// unauthenticated datagrams are answered or dropped as the RFCs say and reported as Error
// outputs. Every collection is bounded by IceConfig; no walk depends on hash order, so the same
// seed and inputs give the same outputs. States: New -> Running -> Connected -> ConsentLost, or
// Running -> Failed; any -> Closed. Failed, ConsentLost and Closed are final: nothing is sent
// after them except the release of a TURN allocation.
// The file is split by concern: IceAgent.Gathering (candidates and pairs), IceAgent.Checks
// (checks, nomination, consent), IceAgent.Turn (the TURN client), IceAgent.Transport
// (transactions, datagram routing).
using System.Net;
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

public enum IceAgentState : byte
{
    /// <summary>Waiting for LocalInterfaces.</summary>
    New,
    /// <summary>Gathering and checking.</summary>
    Running,
    Connected,
    Failed,
    ConsentLost,
    Closed,
}

internal enum IceTimer : byte
{
    Pace,
    Gathering,
    Connect,
    Nomination,
    ConsentCheck,
    ConsentExpiry,
    TurnRefresh,
    TurnPermissions,
    TurnChannels,
}

public sealed partial class IceAgent : IStateMachine<IceInput, IceOutput>
{
    private const string MachineName = "IceAgent";
    private const int UfragLength = 8;
    private const int PasswordLength = 24;
    private const string IceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private readonly IceConfig _config;
    private readonly DeterministicRandom _random;
    private readonly TimerTable<IceTimer> _timers = new();
    private readonly byte[] _localKey;
    private OutputQueue<IceOutput> _outputs;

    private string? _remoteUfrag;
    private byte[]? _remoteKey;
    private bool _gatheringComplete;
    private bool _remoteComplete;
    private int _selected = -1;
    private int _nominating = -1;
    private Instant? _firstValidAt;
    private Instant _lastCheckAt = new(long.MinValue);
    private Instant _lastConsentAt;

    public IceAgentState State { get; private set; } = IceAgentState.New;
    public IceRole Role { get; private set; }
    public ulong TieBreaker { get; }
    public string LocalUfrag { get; }
    public string LocalPassword { get; }
    public IceStats Stats { get; } = new();
    public IceSelectedPair? SelectedPair => _selected < 0 ? null : Describe(_selected);
    public IReadOnlyList<IceCandidate> LocalCandidates => [.. _locals.Select(l => l.Candidate)];
    public IReadOnlyList<IceCandidate> RemoteCandidates => _remotes;

    /// <summary>The agent draws its tie-breaker, credentials and transaction ids from random (fork it per agent).</summary>
    public IceAgent(IceConfig config, DeterministicRandom random)
    {
        var problems = config.Validate();
        if (problems.Count > 0) throw new ArgumentException("invalid IceConfig: " + string.Join("; ", problems), nameof(config));
        _config = config;
        _random = random;
        Role = config.Role;
        TieBreaker = random.NextUInt64();
        LocalUfrag = RandomIceString(UfragLength);
        LocalPassword = RandomIceString(PasswordLength);
        _localKey = Encoding.ASCII.GetBytes(LocalPassword);
    }

    public void Handle(Instant now, IceInput input)
    {
        if (State == IceAgentState.Closed) return;
        switch (input)
        {
            case IceInput.Close:
                Close();
                return;
            case IceInput.Datagram when IsFinal:
                Stats.DatagramsDropped++;
                return;
            case IceInput.Datagram d:
                OnDatagram(now, d.Local, d.Remote, d.Bytes);
                break;
            case IceInput.Send s:
                OnSend(s.Bytes);
                break;
            case { } when IsFinal:
                Report(input, "the agent has stopped");
                return;
            case IceInput.LocalInterfaces li:
                OnLocalInterfaces(now, li.HostBases);
                break;
            case IceInput.RemoteCredentials rc:
                OnRemoteCredentials(rc);
                break;
            case IceInput.RemoteCandidate rc:
                OnRemoteCandidate(now, rc.Candidate);
                break;
            case IceInput.RemoteCandidatesComplete:
                _remoteComplete = true;
                break;
            default:
                Report(input, "unknown input");
                break;
        }
        AfterStep(now);
    }

    public void HandleTimeout(Instant now)
    {
        if (IsFinal || State == IceAgentState.New) return;
        OnTransactionsDue(now);
        if (_timers.TakeIfDue(IceTimer.Gathering, now)) CompleteGathering();
        if (_timers.TakeIfDue(IceTimer.Connect, now) && State == IceAgentState.Running)
            Fail($"no pair nominated within {_config.ConnectTimeout.TotalSeconds:0.###} s");
        if (_timers.TakeIfDue(IceTimer.Nomination, now)) EvaluateNomination(now);
        if (_timers.TakeIfDue(IceTimer.Pace, now)) PaceTick(now);
        if (_timers.TakeIfDue(IceTimer.ConsentCheck, now)) SendConsentCheck(now);
        if (_timers.TakeIfDue(IceTimer.ConsentExpiry, now)) CheckConsent(now);
        if (_timers.TakeIfDue(IceTimer.TurnRefresh, now)) RefreshAllocation(now);
        if (_timers.TakeIfDue(IceTimer.TurnPermissions, now)) RefreshPermissions(now);
        if (_timers.TakeIfDue(IceTimer.TurnChannels, now)) RefreshChannels(now);
        AfterStep(now);
    }

    public Instant? PollTimeout()
    {
        if (IsFinal) return null;
        var earliest = _timers.Earliest();
        foreach (var t in _transactions) earliest = Instant.Earliest(earliest, t.Deadline);
        return earliest;
    }

    public bool TryPollOutput(out IceOutput output) => _outputs.TryDequeue(out output);

    private bool IsFinal => State is IceAgentState.Failed or IceAgentState.ConsentLost or IceAgentState.Closed;

    /// <summary>The follow-ups every step ends with, in a fixed order.</summary>
    private void AfterStep(Instant now)
    {
        if (State is not (IceAgentState.Running or IceAgentState.Connected)) return;
        EvaluateNomination(now);
        CheckExhausted();
        UpdatePacing(now);
    }

    // --- the transition table -------------------------------------------------------------

    private static bool Allowed(IceAgentState from, IceAgentState to) => (from, to) switch
    {
        (IceAgentState.New, IceAgentState.Running) => true,
        (IceAgentState.New, IceAgentState.Failed) => true,
        (IceAgentState.Running, IceAgentState.Connected) => true,
        (IceAgentState.Running, IceAgentState.Failed) => true,
        (IceAgentState.Connected, IceAgentState.ConsentLost) => true,
        (not IceAgentState.Closed, IceAgentState.Closed) => true,
        _ => false,
    };

    private void Transition(IceAgentState to)
    {
        if (!Allowed(State, to)) throw new InvalidOperationException($"{MachineName}: transition {State} -> {to} is not in the table");
        State = to;
        if (IsFinal) StopEverything();
    }

    private void Fail(string reason)
    {
        ReleaseAllocation();
        Transition(IceAgentState.Failed);
        Emit(new IceOutput.Failed(reason));
    }

    private void Close()
    {
        ReleaseAllocation();
        Transition(IceAgentState.Closed);
    }

    private void StopEverything()
    {
        foreach (var kind in Enum.GetValues<IceTimer>()) _timers.Stop(kind);
        foreach (var t in _transactions) if (t.Pair >= 0 && _pairs[t.Pair].State == IcePairState.InProgress) _pairs[t.Pair].State = IcePairState.Failed;
        _transactions.Clear();
        while (_triggered.TryDequeue(out int p)) _pairs[p].InTriggeredQueue = false;
        _nominating = -1;
    }

    // --- outputs ----------------------------------------------------------------------------

    private void Emit(IceOutput output) => _outputs.Enqueue(output);

    private void Report(object? input, string reason) =>
        Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), input?.GetType().Name ?? "null", reason)));

    private IceSelectedPair Describe(int p)
    {
        var pair = _pairs[p];
        var local = _locals[pair.ValidLocal >= 0 ? pair.ValidLocal : pair.Local].Candidate;
        var remote = _remotes[pair.Remote];
        var kind = IceCandidate.PathKind((IceCandidateType)Math.Max((int)local.Type, (int)_locals[pair.Local].Candidate.Type), remote.Type);
        return new IceSelectedPair(local, remote, kind, pair.Rtt);
    }

    private string RandomIceString(int length)
    {
        var c = new char[length];
        for (int i = 0; i < length; i++) c[i] = IceChars[_random.NextInt(IceChars.Length)];
        return new string(c);
    }

    private StunTransactionId NewTransactionId() => StunTransactionId.Random(_random);

    // --- invariants -------------------------------------------------------------------------

    public void CheckInvariants()
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new InvariantViolation($"{MachineName} ({State}): {what}");
        }
        Require(_pairs.Count <= _config.ChecklistSizeMax, $"{_pairs.Count} pairs exceed {_config.ChecklistSizeMax}");
        Require(_remotes.Count <= _config.RemoteCandidatesMax, $"{_remotes.Count} remote candidates exceed {_config.RemoteCandidatesMax}");
        Require(_transactions.Count <= _config.TransactionsMax, $"{_transactions.Count} transactions exceed {_config.TransactionsMax}");
        Require(_bases.Count <= _config.LocalInterfacesMax, "too many bases");
        int checksInFlight = 0;
        foreach (var t in _transactions)
        {
            if (t.Kind != IceTransactionKind.Check) continue;
            checksInFlight++;
            Require(t.Pair >= 0 && t.Pair < _pairs.Count && _pairs[t.Pair].State == IcePairState.InProgress, $"check {t.Id} is for pair {t.Pair}, which is not in progress");
            Require(t.Transmits is >= 1 && t.Transmits <= t.TransmitsMax, $"check {t.Id} sent {t.Transmits} times");
        }
        int inProgress = 0, queued = 0;
        for (int i = 0; i < _pairs.Count; i++)
        {
            var p = _pairs[i];
            Require(p.Local >= 0 && p.Local < _locals.Count && _locals[p.Local].Pairs, $"pair {i} has a bad local candidate");
            Require(p.Remote >= 0 && p.Remote < _remotes.Count, $"pair {i} has a bad remote candidate");
            Require(p.Priority == PairPriorityOf(p.Local, p.Remote), $"pair {i} priority is stale for role {Role}");
            Require(p.State != IcePairState.Succeeded || p.ValidLocal >= 0, $"pair {i} succeeded without a valid local candidate");
            if (p.State == IcePairState.InProgress) inProgress++;
            if (p.InTriggeredQueue) queued++;
            for (int j = 0; j < i; j++)
                Require(!(_pairs[j].Local == p.Local && _pairs[j].Remote == p.Remote), $"pairs {j} and {i} are the same");
        }
        Require(inProgress == checksInFlight, $"{inProgress} pairs in progress but {checksInFlight} checks in flight");
        Require(queued == _triggered.Count, $"{queued} pairs flagged but {_triggered.Count} queued");
        foreach (int p in _triggered) Require(_pairs[p].InTriggeredQueue, $"queued pair {p} not flagged");
        Require((State == IceAgentState.Connected) == (_selected >= 0 && !IsFinal && State != IceAgentState.Running && State != IceAgentState.New),
            $"selected pair {_selected} in state {State}");
        if (State == IceAgentState.Connected) Require(_pairs[_selected].State is IcePairState.Succeeded or IcePairState.InProgress, "selected pair has not succeeded");
        if (_nominating >= 0) Require(Role == IceRole.Controlling && _pairs[_nominating].UseCandidate, "nominating while controlled");
        if (IsFinal) Require(_transactions.Count == 0 && _timers.Earliest() is null && _triggered.Count == 0, "a final agent still has work");
        if (State != IceAgentState.New) Require(_bases.Count > 0 || State == IceAgentState.Failed || State == IceAgentState.Closed, "running without a base");
    }
}
