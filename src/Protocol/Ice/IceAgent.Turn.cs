// The TURN client (RFC 8656) for the relayed candidate: Allocate (REQUESTED-TRANSPORT UDP),
// answered 401 with REALM and NONCE, then retried with USERNAME, REALM, NONCE and
// MESSAGE-INTEGRITY under the long-term key MD5(username:realm:password); 438 Stale Nonce takes
// the new nonce and retries. On success: a relayed candidate (XOR-RELAYED-ADDRESS) and a
// server-reflexive one (XOR-MAPPED-ADDRESS). Then Refresh before the lifetime ends, a permission
// (CreatePermission) for every remote candidate's IP, refreshed every TurnPermissionRefresh, and
// when the selected pair is relayed, a channel (ChannelBind) to the peer, refreshed every
// TurnChannelRefresh. Success responses that carry MESSAGE-INTEGRITY must verify under the key.
// The allocation is released (Refresh with LIFETIME 0) when the agent stops.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

public sealed partial class IceAgent
{
    private TurnAllocation? _turn;
    private ushort _nextChannel = ChannelDataMessage.ChannelMin;

    private void StartAllocation(Instant now)
    {
        if (_config.Turn is not { } server) return;
        var socket = _bases.Find(b => b.AddressFamily == server.Server.AddressFamily);
        if (socket is null) return;
        _turn = new TurnAllocation(socket, server.Server);
        SendTurnRequest(now, StunMethod.Allocate, [new RequestedTransport(RequestedTransport.Udp)], authRetries: 0);
    }

    private void SendTurnRequest(Instant now, StunMethod method, StunAttribute[] attributes, int authRetries)
    {
        var turn = _turn!;
        var id = NewTransactionId();
        var all = new List<StunAttribute>(attributes.Length + 3);
        all.AddRange(attributes);
        if (turn.Key is not null)
        {
            all.Add(new Username(_config.Turn!.Username));
            all.Add(new Realm(turn.Realm!));
            all.Add(new Nonce(turn.Nonce!));
        }
        var bytes = new StunMessage(StunClass.Request, method, id, all).Encode(turn.Key);
        StartTransaction(now, new IceTransaction
        {
            Id = id,
            Kind = IceTransactionKind.Turn,
            Base = turn.Socket,
            To = turn.Server,
            Payload = bytes,
            TransmitsMax = _config.TransmitsMax,
            Method = method,
            TurnAttributes = attributes,
            AuthRetries = authRetries,
        });
    }

    private bool TurnResponseAuthentic(ReadOnlySpan<byte> bytes, StunMessage m) =>
        _turn?.Key is not { } key || !m.Has<MessageIntegrity>() || StunIntegrity.VerifyMessageIntegrity(bytes, key) == StunCheck.Valid;

    private void OnTurnResponse(Instant now, IceTransaction t, StunMessage m, ReadOnlySpan<byte> bytes)
    {
        if (_turn is not { } turn || turn.State == TurnState.Failed) return;
        if (m.Class == StunClass.ErrorResponse)
        {
            int code = m.Get<ErrorCode>()?.Code ?? 0;
            bool challenge = code == StunErrorCodes.StaleNonce || (code == StunErrorCodes.Unauthorized && turn.Key is null);
            if (challenge && t.AuthRetries < _config.TurnAuthRetriesMax && m.Get<Nonce>() is { } nonce && (m.Get<Realm>()?.Value ?? turn.Realm) is { } realm)
            {
                turn.Nonce = nonce.Value;
                if (turn.Key is null || realm != turn.Realm)
                {
                    var key = StunIntegrity.LongTermKey(_config.Turn!.Username, realm, _config.Turn.Password);
                    if (!key.Ok)
                    {
                        OnTurnRequestFailed(now, t, key.Error!);
                        return;
                    }
                    turn.Key = key.Value;
                    turn.Realm = realm;
                }
                SendTurnRequest(now, t.Method, t.TurnAttributes, t.AuthRetries + 1);
                return;
            }
            OnTurnRequestFailed(now, t, $"error {code} {m.Get<ErrorCode>()?.Reason}");
            return;
        }
        switch (t.Method)
        {
            case StunMethod.Allocate:
                if (m.Get<XorRelayedAddress>()?.EndPoint is not { } relayed)
                {
                    OnTurnRequestFailed(now, t, "Allocate success without XOR-RELAYED-ADDRESS");
                    return;
                }
                turn.State = TurnState.Allocated;
                turn.Relayed = relayed;
                ScheduleAllocationRefresh(now, m.Get<Lifetime>()?.Value ?? 600);
                var mapped = m.Get<XorMappedAddress>()?.EndPoint;
                if (mapped is not null) AddServerReflexive(turn.Socket, mapped, "turn");
                var candidate = new IceCandidate(Foundation(IceCandidateType.Relayed, turn.Socket.Address, turn.Server.ToString()),
                    IceCandidate.ComputePriority(IceCandidateType.Relayed, LocalPreference(turn.Socket)), relayed, IceCandidateType.Relayed, mapped);
                AddLocal(candidate, relayed, signal: !_gatheringComplete);
                foreach (var r in _remotes) EnsurePermission(now, r.Address.Address);
                CheckGatheringDone();
                break;
            case StunMethod.Refresh:
                if (m.Get<Lifetime>()?.Value is { } lifetime and > 0) ScheduleAllocationRefresh(now, lifetime);
                break;
            case StunMethod.CreatePermission:
                foreach (var a in t.TurnAttributes)
                    if (a is XorPeerAddress peer && turn.Permission(peer.EndPoint.Address) is { } permission) permission.Installed = true;
                if (!_timers.IsArmed(IceTimer.TurnPermissions)) _timers.Set(IceTimer.TurnPermissions, now + _config.TurnPermissionRefresh);
                break;
            case StunMethod.ChannelBind:
                foreach (var a in t.TurnAttributes)
                    if (a is ChannelNumber n && turn.ChannelNumbered(n.Number) is { } channel) channel.Bound = true;
                if (!_timers.IsArmed(IceTimer.TurnChannels)) _timers.Set(IceTimer.TurnChannels, now + _config.TurnChannelRefresh);
                break;
        }
    }

    private void OnTurnRequestFailed(Instant now, IceTransaction t, string why)
    {
        if (_turn is not { } turn) return;
        switch (t.Method)
        {
            case StunMethod.Allocate:
            case StunMethod.Refresh:
                turn.State = TurnState.Failed;
                _timers.Stop(IceTimer.TurnRefresh);
                _timers.Stop(IceTimer.TurnPermissions);
                _timers.Stop(IceTimer.TurnChannels);
                Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), $"TURN {t.Method}", why)));
                CheckGatheringDone();
                break;
            case StunMethod.CreatePermission:
                foreach (var a in t.TurnAttributes)
                    if (a is XorPeerAddress peer && turn.Permission(peer.EndPoint.Address) is { Installed: false } p) p.Requested = false;
                break;
            case StunMethod.ChannelBind:
                break;   // Send indications keep working
        }
        _ = now;
    }

    private void ScheduleAllocationRefresh(Instant now, uint lifetimeSeconds)
    {
        var lifetime = TimeSpan.FromSeconds(lifetimeSeconds);
        _turn!.ExpiresAt = now + lifetime;
        var before = lifetime > 2 * _config.TurnRefreshMargin ? lifetime - _config.TurnRefreshMargin : lifetime / 2;
        _timers.Set(IceTimer.TurnRefresh, now + before);
    }

    private void RefreshAllocation(Instant now)
    {
        if (_turn is { State: TurnState.Allocated }) SendTurnRequest(now, StunMethod.Refresh, [], authRetries: 0);
    }

    private void EnsurePermission(Instant now, IPAddress peer)
    {
        if (_turn is not { State: TurnState.Allocated, Relayed: { } relayed } turn || relayed.AddressFamily != peer.AddressFamily) return;
        var permission = turn.Permission(peer);
        if (permission is null)
        {
            permission = new TurnPermission(peer);
            turn.Permissions.Add(permission);
        }
        if (permission.Requested) return;
        permission.Requested = true;
        SendTurnRequest(now, StunMethod.CreatePermission, [new XorPeerAddress(new IPEndPoint(peer, 0))], authRetries: 0);
    }

    private void RefreshPermissions(Instant now)
    {
        if (_turn is not { State: TurnState.Allocated } turn || turn.Permissions.Count == 0) return;
        SendTurnRequest(now, StunMethod.CreatePermission, [.. turn.Permissions.Select(p => new XorPeerAddress(new IPEndPoint(p.Peer, 0)))], authRetries: 0);
        _timers.Set(IceTimer.TurnPermissions, now + _config.TurnPermissionRefresh);
    }

    private void BindChannelToSelected(Instant now)
    {
        if (!_config.TurnUseChannels || _selected < 0 || _turn is not { State: TurnState.Allocated, Relayed: { } relayed } turn) return;
        var pair = _pairs[_selected];
        if (!_locals[pair.Local].Base.Equals(relayed)) return;
        var peer = _remotes[pair.Remote].Address;
        if (turn.ChannelTo(peer) is not null || _nextChannel > ChannelDataMessage.ChannelMax) return;
        var channel = new TurnChannel(peer, _nextChannel++);
        turn.Channels.Add(channel);
        SendTurnRequest(now, StunMethod.ChannelBind, [new ChannelNumber(channel.Number), new XorPeerAddress(peer)], authRetries: 0);
    }

    private void RefreshChannels(Instant now)
    {
        if (_turn is not { State: TurnState.Allocated } turn) return;
        foreach (var c in turn.Channels)
            SendTurnRequest(now, StunMethod.ChannelBind, [new ChannelNumber(c.Number), new XorPeerAddress(c.Peer)], authRetries: 0);
        _timers.Set(IceTimer.TurnChannels, now + _config.TurnChannelRefresh);
    }

    /// <summary>Deallocates (Refresh, LIFETIME 0), once and without waiting for the answer.</summary>
    private void ReleaseAllocation()
    {
        if (_turn is not { State: TurnState.Allocated, Key: { } key } turn) return;
        var release = new StunMessage(StunClass.Request, StunMethod.Refresh, NewTransactionId(),
            [new Lifetime(0), new Username(_config.Turn!.Username), new Realm(turn.Realm!), new Nonce(turn.Nonce!)]);
        Emit(new IceOutput.Transmit(turn.Socket, turn.Server, release.Encode(key)));
        turn.State = TurnState.Failed;
    }
}
