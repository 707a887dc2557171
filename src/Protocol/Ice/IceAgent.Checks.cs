// Connectivity checks (RFC 8445 §6.1.4, §7) and consent (RFC 7675).
// Sending: one new check per Ta, a triggered one first (FIFO), else the highest-priority Waiting
// pair, else the highest-priority Frozen pair is unfrozen. Requests carry USERNAME
// "remote:local", PRIORITY (as a peer-reflexive candidate), ICE-CONTROLLING/-CONTROLLED with the
// tie-breaker, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY with the remote password and
// FINGERPRINT. Answers carry XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with the local password and
// FINGERPRINT. Receiving a request: no valid FINGERPRINT -> dropped; unknown comprehension-
// required attributes -> 420; no USERNAME or MESSAGE-INTEGRITY -> 400; wrong ufrag or integrity
// -> 401; role conflict -> 487 or switch (§7.3.1.1); otherwise answered, the source learned as
// peer-reflexive if new, and a triggered check queued for its pair. A success response must come
// from where the request went (else the pair fails) and pass integrity (else it is dropped).
// Nomination (controlling, regular): once the best valid pair cannot be beaten by a pending
// higher-priority pair, or NominationWait after the first success, that pair is checked again
// with USE-CANDIDATE and selected when the check succeeds. Controlled: a pair is selected when
// it has succeeded and the peer has sent USE-CANDIDATE on it, in either order; the latest
// nomination supersedes earlier ones. Which is latest: nominating checks carry a NOMINATION number
// (draft-thatcher-ice-renomination; peers that do not know the attribute ignore it), and the
// controlled agent follows the highest, so a copy of an earlier nomination delayed past a later one
// moves nothing; from a peer that sends no number, the latest received, except that a copy of an
// earlier nominating request seen again (same transaction id) moves nothing.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

public sealed partial class IceAgent
{
    private readonly Queue<int> _triggered = new();
    /// <summary>Nominations remembered to tell a stale copy from a new one: the controlling agent
    /// nominates again only after a nominating check failed, so a handful covers any session.</summary>
    private const int NominationsRememberedMax = 16;
    private readonly List<StunTransactionId> _nominationIds = new(4);
    private uint _nominationsSent;        // controlling: the NOMINATION number of the last nominating check
    private uint _highestNominationSeen;  // controlled: the highest NOMINATION number followed

    private bool CanCheck => _remoteKey is not null && State is IceAgentState.Running or IceAgentState.Connected;

    private void UpdatePacing(Instant now)
    {
        bool work = CanCheck && (_triggered.Count > 0 || (State == IceAgentState.Running && NextOrdinary(peek: true) >= 0));
        if (!work) _timers.Stop(IceTimer.Pace);
        else if (!_timers.IsArmed(IceTimer.Pace)) _timers.Set(IceTimer.Pace, Instant.Max(now, _lastCheckAt + _config.Ta));
    }

    private void PaceTick(Instant now)
    {
        if (!CanCheck) return;
        if (now < _lastCheckAt + _config.Ta) return;   // UpdatePacing re-arms
        int p = NextTriggered();
        if (p < 0 && State == IceAgentState.Running) p = NextOrdinary(peek: false);
        if (p >= 0) SendCheck(now, p);
    }

    private int NextTriggered()
    {
        while (_triggered.TryDequeue(out int p))
        {
            var pair = _pairs[p];
            pair.InTriggeredQueue = false;
            if (pair.State != IcePairState.InProgress) return p;
        }
        return -1;
    }

    private int NextOrdinary(bool peek)
    {
        int best = -1;
        foreach (var wanted in (ReadOnlySpan<IcePairState>)[IcePairState.Waiting, IcePairState.Frozen])
        {
            for (int i = 0; i < _pairs.Count; i++)
                if (_pairs[i].State == wanted && (best < 0 || _pairs[i].Priority > _pairs[best].Priority)) best = i;
            if (best >= 0) break;
        }
        if (best >= 0 && !peek) _pairs[best].State = IcePairState.Waiting;
        return best;
    }

    private void EnqueueTriggered(int p)
    {
        var pair = _pairs[p];
        if (pair.InTriggeredQueue) return;
        pair.InTriggeredQueue = true;
        _triggered.Enqueue(p);
    }

    private void SendCheck(Instant now, int p)
    {
        var pair = _pairs[p];
        var local = _locals[pair.Local];
        bool useCandidate = Role == IceRole.Controlling && pair.UseCandidate;
        uint prflx = IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, IceCandidate.LocalPreferenceOf(local.Candidate.Priority));
        var id = NewTransactionId();
        var t = new IceTransaction
        {
            Id = id,
            Kind = IceTransactionKind.Check,
            Base = local.Base,
            To = _remotes[pair.Remote].Address,
            Payload = CheckRequest(id, prflx, useCandidate ? NextNomination() : 0),
            TransmitsMax = _config.TransmitsMax,
            Pair = p,
            UseCandidate = useCandidate,
            PrflxPriority = prflx,
            SentControlling = Role == IceRole.Controlling,
        };
        if (!StartTransaction(now, t)) return;
        pair.State = IcePairState.InProgress;
        _lastCheckAt = now;
        Stats.ChecksSent++;
    }

    /// <summary>The number of the next nominating check (1, 2, ...; it stays at the 24-bit maximum,
    /// which a session never nears: it nominates again only after a nominating check failed).</summary>
    private uint NextNomination() => _nominationsSent = Math.Min(_nominationsSent + 1, Nomination.ValueMax);

    /// <summary>A check request; nomination 0: not nominating, else USE-CANDIDATE and NOMINATION.</summary>
    private byte[] CheckRequest(StunTransactionId id, uint prflxPriority, uint nomination)
    {
        var attributes = new List<StunAttribute>(4)
        {
            new Username($"{_remoteUfrag}:{LocalUfrag}"),
            new Priority(prflxPriority),
            Role == IceRole.Controlling ? new IceControlling(TieBreaker) : new IceControlled(TieBreaker),
        };
        if (nomination > 0)
        {
            attributes.Add(UseCandidate.Instance);
            attributes.Add(new Nomination(nomination));
        }
        return new StunMessage(StunClass.Request, StunMethod.Binding, id, attributes).Encode(_remoteKey, fingerprint: true);
    }

    // --- answering checks -------------------------------------------------------------------

    private void OnCheckRequest(Instant now, IPEndPoint @base, IPEndPoint remote, ReadOnlySpan<byte> bytes, StunMessage m)
    {
        if (StunIntegrity.VerifyFingerprint(bytes) != StunCheck.Valid)
        {
            Reject(m, remote, "request without a valid FINGERPRINT dropped");
            return;
        }
        if (m.Method != StunMethod.Binding)
        {
            Answer(@base, remote, m, StunErrorCodes.BadRequest, "Bad Request", $"method {m.Method} is not Binding", sign: false);
            return;
        }
        if (m.UnknownComprehensionRequired is { Count: > 0 } unknown)
        {
            Answer(@base, remote, m, StunErrorCodes.UnknownAttribute, "Unknown Attribute", "unknown comprehension-required attributes",
                sign: false, extra: new UnknownAttributes(unknown));
            return;
        }
        var user = m.Get<Username>();
        if (user is null || !m.Has<MessageIntegrity>())
        {
            Answer(@base, remote, m, StunErrorCodes.BadRequest, "Bad Request", "USERNAME or MESSAGE-INTEGRITY missing", sign: false);
            return;
        }
        if (!user.Value.StartsWith(LocalUfrag + ":", StringComparison.Ordinal) || StunIntegrity.VerifyMessageIntegrity(bytes, _localKey) != StunCheck.Valid)
        {
            Answer(@base, remote, m, StunErrorCodes.Unauthorized, "Unauthorized", "wrong username or integrity", sign: false);
            return;
        }
        // Role conflict (§7.3.1.1): the larger tie-breaker keeps or takes the controlling role.
        if (Role == IceRole.Controlling && m.Get<IceControlling>() is { } theirs)
        {
            if (TieBreaker >= theirs.Value)
            {
                Answer(@base, remote, m, StunErrorCodes.RoleConflict, "Role Conflict", "both controlling; ours wins", sign: true);
                return;
            }
            SwitchRole(IceRole.Controlled);
        }
        else if (Role == IceRole.Controlled && m.Get<IceControlled>() is { } theirsControlled)
        {
            if (TieBreaker < theirsControlled.Value)
            {
                Answer(@base, remote, m, StunErrorCodes.RoleConflict, "Role Conflict", "both controlled; theirs wins", sign: true);
                return;
            }
            SwitchRole(IceRole.Controlling);
        }

        var ok = new StunMessage(StunClass.SuccessResponse, StunMethod.Binding, m.TransactionId, [new XorMappedAddress(remote)]);
        SendFrom(@base, remote, ok.Encode(_localKey, fingerprint: true));
        Stats.RequestsAnswered++;

        int local = FindLocalByBase(@base);
        if (local < 0) return;
        int r = FindRemote(remote);
        if (r < 0) r = AddPeerReflexiveRemote(remote, m.Get<Priority>()?.Value ?? IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 0));
        if (r < 0) return;
        int p = AddPair(local, r);
        if (p < 0) return;
        var pair = _pairs[p];
        bool nominated = Role == IceRole.Controlled && m.Has<UseCandidate>();
        if (nominated)
        {
            // The controlling agent nominates one pair at a time, and nominates another only when
            // its check on the first failed, so a new nomination supersedes any earlier one. Kept,
            // an earlier one selected its pair when that pair's own check succeeded later, after
            // the newer nomination had been selected: the agents then sat on different pairs
            // (IcePropertyTests, seed 1125114966991259446: the nominating check timed out at the
            // controlling end although its last transmission reached the controlled end).
            // A copy of a nominating request already seen (a duplicate, or a retransmission the
            // network delayed) that is not the latest nomination is stale: answered, as the peer's
            // transaction may still wait, but it moves nothing.
            if (IsStaleNomination(m.TransactionId, m.Get<Nomination>()?.Value)) nominated = false;
            else
            {
                foreach (var other in _pairs) other.NominatedByPeer = false;
                pair.NominatedByPeer = true;
            }
        }
        switch (pair.State)
        {
            case IcePairState.Succeeded:
                if (nominated) Select(now, p);
                break;
            case IcePairState.InProgress:
                break;   // its response will do (and select it if nominated)
            default:
                pair.State = IcePairState.Waiting;
                EnqueueTriggered(p);
                break;
        }
    }

    /// <summary>Whether a nomination is older than one already followed. With NOMINATION (our
    /// agents, and any that implement renomination), a lower number than the highest seen; without
    /// it (e.g. libnice), a transaction id seen before that is not the latest nomination: a copy
    /// that arrives after the newer nomination the first time is then taken as the latest, which only
    /// the number can prevent. Remembers the nominations (ids newest last, at most NominationsRememberedMax).</summary>
    private bool IsStaleNomination(StunTransactionId id, uint? number)
    {
        if (number is { } n)
        {
            if (n < _highestNominationSeen) return true;
            _highestNominationSeen = n;
        }
        int seen = _nominationIds.IndexOf(id);
        if (seen >= 0 && seen == _nominationIds.Count - 1) return false;   // the latest, again: it stands
        if (seen >= 0) return number is null;
        if (_nominationIds.Count == NominationsRememberedMax) _nominationIds.RemoveAt(0);
        _nominationIds.Add(id);
        return false;
    }

    private void Answer(IPEndPoint @base, IPEndPoint remote, StunMessage request, int code, string reason, string report, bool sign, StunAttribute? extra = null)
    {
        var attributes = new List<StunAttribute>(2) { new ErrorCode(code, reason) };
        if (extra is not null) attributes.Add(extra);
        var answer = new StunMessage(StunClass.ErrorResponse, request.Method, request.TransactionId, attributes);
        SendFrom(@base, remote, answer.Encode(sign ? _localKey : null, fingerprint: true));
        Reject(request, remote, $"answered {code}: {report}");
    }

    private void Reject(StunMessage request, IPEndPoint remote, string reason)
    {
        Stats.RequestsRejected++;
        Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), $"{request.Method} {request.Class} from {remote}", reason)));
    }

    private void SwitchRole(IceRole role)
    {
        Role = role;
        Stats.RoleSwitches++;
        RecomputePriorities();
        if (role == IceRole.Controlled)
        {
            _nominating = -1;
            foreach (var p in _pairs) p.UseCandidate = false;
        }
    }

    // --- check responses --------------------------------------------------------------------

    private void OnCheckResponse(Instant now, IceTransaction t, StunMessage m)
    {
        var pair = _pairs[t.Pair];
        if (m.Class == StunClass.ErrorResponse)
        {
            if (m.Get<ErrorCode>()?.Code == StunErrorCodes.RoleConflict)
            {
                // §7.2.5.1: take the role opposite to the one the request claimed, and check again.
                var role = t.SentControlling ? IceRole.Controlled : IceRole.Controlling;
                if (Role != role) SwitchRole(role);
                pair.State = IcePairState.Waiting;
                EnqueueTriggered(t.Pair);
                return;
            }
            PairFailed(t.Pair);
            return;
        }
        if (m.Get<XorMappedAddress>()?.EndPoint is not { } mapped)
        {
            PairFailed(t.Pair);
            return;
        }
        pair.State = IcePairState.Succeeded;
        pair.Rtt = t.RttAt(now);
        _firstValidAt ??= now;
        var @base = _locals[pair.Local].Base;
        int valid = FindLocalByAddress(mapped, @base);
        pair.ValidLocal = valid >= 0 ? valid : AddPeerReflexiveLocal(mapped, @base, t.PrflxPriority);
        foreach (var other in _pairs)   // §7.2.5.3.3: unfreeze the pairs of the same foundation
            if (other.State == IcePairState.Frozen && other.Foundation == pair.Foundation) other.State = IcePairState.Waiting;
        if (t.UseCandidate && Role == IceRole.Controlling) Select(now, t.Pair);
        else if (Role == IceRole.Controlled && pair.NominatedByPeer) Select(now, t.Pair);
    }

    private void PairFailed(int p)
    {
        _pairs[p].State = IcePairState.Failed;
        _pairs[p].UseCandidate = false;
        if (_nominating == p) _nominating = -1;
    }

    /// <summary>Non-symmetric or timed-out checks fail their pair (§7.2.5.2.1).</summary>
    private void OnCheckFailed(IceTransaction t) => PairFailed(t.Pair);

    // --- nomination and selection -----------------------------------------------------------

    private void EvaluateNomination(Instant now)
    {
        if (Role != IceRole.Controlling || State != IceAgentState.Running || _nominating >= 0 || !CanCheck) return;
        int best = -1;
        for (int i = 0; i < _pairs.Count; i++)
            if (_pairs[i].State == IcePairState.Succeeded && (best < 0 || _pairs[i].Priority > _pairs[best].Priority)) best = i;
        if (best < 0) return;
        bool higherPending = _pairs.Exists(p => p.Priority > _pairs[best].Priority && p.State is IcePairState.Frozen or IcePairState.Waiting or IcePairState.InProgress);
        var deadline = _firstValidAt!.Value + _config.NominationWait;
        if (higherPending && now < deadline)
        {
            _timers.Set(IceTimer.Nomination, deadline);
            return;
        }
        _timers.Stop(IceTimer.Nomination);
        _nominating = best;
        _pairs[best].UseCandidate = true;
        EnqueueTriggered(best);
    }

    private void Select(Instant now, int p)
    {
        if (State is not (IceAgentState.Running or IceAgentState.Connected) || _selected == p) return;
        _selected = p;
        _nominating = -1;
        if (State == IceAgentState.Running)
        {
            Transition(IceAgentState.Connected);
            _timers.Stop(IceTimer.Connect);
            _timers.Stop(IceTimer.Nomination);
            _lastConsentAt = now;
            _timers.Set(IceTimer.ConsentCheck, now + _random.Jitter(_config.ConsentInterval, _config.ConsentJitter));
            _timers.Set(IceTimer.ConsentExpiry, now + _config.ConsentTimeout);
        }
        Emit(new IceOutput.Connected(Describe(p)));
        BindChannelToSelected(now);
    }

    /// <summary>Running, everything known and checked, nothing succeeded and nothing left to try: give up.</summary>
    private void CheckExhausted()
    {
        if (State != IceAgentState.Running || !_gatheringComplete || !_remoteComplete || _remoteKey is null || _triggered.Count > 0) return;
        foreach (var p in _pairs)
            if (p.State != IcePairState.Failed) return;
        foreach (var t in _transactions)
            if (t.Kind == IceTransactionKind.Check) return;
        Fail(_pairs.Count == 0 ? "no candidate pairs" : $"all {_pairs.Count} candidate pairs failed");
    }

    // --- consent freshness (RFC 7675) -------------------------------------------------------

    private void SendConsentCheck(Instant now)
    {
        if (State != IceAgentState.Connected) return;
        _timers.Set(IceTimer.ConsentCheck, now + _random.Jitter(_config.ConsentInterval, _config.ConsentJitter));
        var pair = _pairs[_selected];
        var local = _locals[pair.Local];
        var id = NewTransactionId();
        uint prflx = IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, IceCandidate.LocalPreferenceOf(local.Candidate.Priority));
        // One transmission each: the next consent check comes within an interval anyway.
        if (StartTransaction(now, new IceTransaction
            {
                Id = id,
                Kind = IceTransactionKind.Consent,
                Base = local.Base,
                To = _remotes[pair.Remote].Address,
                Payload = CheckRequest(id, prflx, nomination: 0),
                TransmitsMax = 1,
                Pair = -1,
            }))
            Stats.ConsentChecksSent++;
    }

    private void OnConsentResponse(Instant now, StunMessage m)
    {
        if (m.Class != StunClass.SuccessResponse || State != IceAgentState.Connected) return;
        _lastConsentAt = now;
        _timers.Set(IceTimer.ConsentExpiry, now + _config.ConsentTimeout);
    }

    private void CheckConsent(Instant now)
    {
        if (State != IceAgentState.Connected) return;
        if (now < _lastConsentAt + _config.ConsentTimeout)
        {
            _timers.Set(IceTimer.ConsentExpiry, _lastConsentAt + _config.ConsentTimeout);
            return;
        }
        ReleaseAllocation();
        Transition(IceAgentState.ConsentLost);
        Emit(new IceOutput.ConsentLost());
    }
}
