// Transactions and datagrams. Every STUN request the agent sends is a transaction retransmitted
// on the RFC 8489 schedule (IceTransaction). Outgoing datagrams from a relayed base are wrapped
// for the TURN server (ChannelData on a bound channel, else a Send indication) and leave from
// the allocation's host socket; datagrams from the TURN server are unwrapped (Data indications,
// ChannelData) and handled as if they had arrived on the relayed base. Then: STUN requests are
// checks, responses are matched to their transaction by id, indications are ignored (keep-alive),
// and anything else from a remote candidate (signaled, or peer reflexive: learnt from an
// authenticated check) is application data, selected pair or not, connected yet or not: RFC 8445
// §12.2 says an agent SHOULD be prepared to receive data on any of the peer's candidates. The
// controlled agent may not have selected the pair yet when the controlling one, connected, sends
// its first DTLS flight; dropping it cost a 1 s DTLS retransmission on 7% of links (found by the
// simulator's packet-level DTLS, 2026-12-01).
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

public sealed partial class IceAgent
{
    private readonly List<IceTransaction> _transactions = [];

    /// <summary>Sends the first transmission; false (nothing sent) when the transaction table is full.</summary>
    private bool StartTransaction(Instant now, IceTransaction t)
    {
        if (_transactions.Count >= _config.TransactionsMax) return false;
        t.FirstSentAt = t.LastSentAt = now;
        t.Rto = _config.Rto;
        t.Transmits = 1;
        t.Deadline = now + (t.TransmitsMax > 1 ? t.Rto : _config.Rto * _config.LastWaitFactor);
        _transactions.Add(t);
        SendFrom(t.Base, t.To, t.Payload);
        return true;
    }

    private void OnTransactionsDue(Instant now)
    {
        List<IceTransaction>? due = null;
        foreach (var t in _transactions) if (t.Deadline <= now) (due ??= []).Add(t);
        if (due is null) return;
        foreach (var t in due)
        {
            if (!_transactions.Contains(t)) continue;
            if (t.Transmits < t.TransmitsMax)
            {
                t.Transmits++;
                t.Rto *= 2;
                t.LastSentAt = now;
                t.Deadline = now + (t.Transmits < t.TransmitsMax ? t.Rto : _config.Rto * _config.LastWaitFactor);
                Stats.Retransmissions++;
                SendFrom(t.Base, t.To, t.Payload);
                continue;
            }
            _transactions.Remove(t);
            OnTransactionTimeout(now, t);
            if (IsFinal) return;
        }
    }

    private void OnTransactionTimeout(Instant now, IceTransaction t)
    {
        switch (t.Kind)
        {
            case IceTransactionKind.ServerReflexive:
                CheckGatheringDone();
                break;
            case IceTransactionKind.Turn:
                OnTurnRequestFailed(now, t, "timed out");
                break;
            case IceTransactionKind.Check:
                OnCheckFailed(t);
                break;
            case IceTransactionKind.Consent:
                break;   // consent is judged by CheckConsent
        }
    }

    /// <summary>Sends payload from a local base to a remote address, through the TURN server when the base is relayed.</summary>
    private void SendFrom(IPEndPoint @base, IPEndPoint to, byte[] payload)
    {
        if (_turn is { Relayed: { } relayed } turn && relayed.Equals(@base))
        {
            if (turn.State != TurnState.Allocated) return;
            byte[] wrapped = turn.ChannelTo(to) is { Bound: true } channel
                ? ChannelDataMessage.Encode(channel.Number, payload)
                : new StunMessage(StunClass.Indication, StunMethod.Send, NewTransactionId(),
                    [new XorPeerAddress(to), new Data(new ByteString(payload))]).Encode();
            Emit(new IceOutput.Transmit(turn.Socket, turn.Server, wrapped));
            return;
        }
        Emit(new IceOutput.Transmit(@base, to, payload));
    }

    private void OnSend(ReadOnlyMemory<byte> bytes)
    {
        if (State != IceAgentState.Connected)
        {
            Report(new IceInput.Send(bytes), "not connected");
            return;
        }
        var pair = _pairs[_selected];
        SendFrom(_locals[pair.Local].Base, _remotes[pair.Remote].Address, bytes.ToArray());
    }

    private void OnDatagram(Instant now, IPEndPoint local, IPEndPoint remote, ReadOnlyMemory<byte> bytes)
    {
        if (local is null || remote is null || !_bases.Contains(local))
        {
            Stats.DatagramsDropped++;
            return;
        }
        if (_turn is { } turn && local.Equals(turn.Socket) && remote.Equals(turn.Server))
            OnFromTurnServer(now, turn, bytes);
        else
            Deliver(now, local, remote, bytes);
    }

    private void OnFromTurnServer(Instant now, TurnAllocation turn, ReadOnlyMemory<byte> bytes)
    {
        var kind = DatagramDemux.Classify(bytes.Span);
        if (kind == DatagramKind.ChannelData)
        {
            var cd = ChannelDataMessage.Parse(bytes);
            if (cd.Ok && turn.Relayed is { } relayed && turn.ChannelNumbered(cd.Value.Channel) is { } channel)
                Deliver(now, relayed, channel.Peer, cd.Value.Payload);
            else
                Stats.DatagramsDropped++;
            return;
        }
        if (kind != DatagramKind.Stun)
        {
            Stats.DatagramsDropped++;
            return;
        }
        var m = StunMessage.Parse(bytes.Span);
        if (!m.Ok)
        {
            Stats.DatagramsDropped++;
            Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), "datagram from the TURN server", m.Error!)));
            return;
        }
        if (m.Value is { Class: StunClass.Indication, Method: StunMethod.Data } data)
        {
            if (turn.Relayed is { } relayed && data.Get<XorPeerAddress>() is { } peer && data.Get<Data>() is { } payload)
                Deliver(now, relayed, peer.EndPoint, payload.Value.Memory);
            else
                Stats.DatagramsDropped++;
            return;
        }
        OnStun(now, turn.Socket, turn.Server, bytes.Span, m.Value);
    }

    private void Deliver(Instant now, IPEndPoint @base, IPEndPoint remote, ReadOnlyMemory<byte> bytes)
    {
        if (DatagramDemux.Classify(bytes.Span) == DatagramKind.Stun && StunMessage.LooksLikeStun(bytes.Span))
        {
            var m = StunMessage.Parse(bytes.Span);
            if (!m.Ok)
            {
                Stats.DatagramsDropped++;
                Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), $"datagram from {remote}", m.Error!)));
                return;
            }
            OnStun(now, @base, remote, bytes.Span, m.Value);
            return;
        }
        if (AcceptsDataFrom(@base, remote)) Emit(new IceOutput.ApplicationData(bytes.ToArray()));
        else Stats.DatagramsDropped++;
    }

    private bool AcceptsDataFrom(IPEndPoint @base, IPEndPoint remote)
    {
        if (State is not (IceAgentState.Running or IceAgentState.Connected)) return false;
        if (_selected >= 0 && _locals[_pairs[_selected].Local].Base.Equals(@base) && _remotes[_pairs[_selected].Remote].Address.Equals(remote))
            return true;   // the common case, first
        foreach (var r in _remotes)
            if (r.Address.Equals(remote)) return true;
        return false;
    }

    private void OnStun(Instant now, IPEndPoint @base, IPEndPoint remote, ReadOnlySpan<byte> bytes, StunMessage m)
    {
        switch (m.Class)
        {
            case StunClass.Request:
                OnCheckRequest(now, @base, remote, bytes, m);
                return;
            case StunClass.Indication:
                return;   // Binding indications are keep-alives
        }
        int i = _transactions.FindIndex(t => t.Id == m.TransactionId);
        if (i < 0)
        {
            Stats.ResponsesDropped++;   // late, duplicated or not ours
            return;
        }
        var t = _transactions[i];
        bool symmetric = t.Base.Equals(@base) && t.To.Equals(remote);
        if (t.Kind is IceTransactionKind.Check or IceTransactionKind.Consent)
        {
            // Only the peer knows our ufrag and its password: anything else is forged or corrupt.
            if (StunIntegrity.VerifyMessageIntegrity(bytes, _remoteKey) != StunCheck.Valid
                || StunIntegrity.VerifyFingerprint(bytes) == StunCheck.Invalid)
            {
                Stats.ResponsesDropped++;
                Emit(new IceOutput.Error(new ProtocolError(MachineName, State.ToString(), $"response from {remote}", "integrity check failed; dropped")));
                return;
            }
        }
        else if (!symmetric || (t.Kind == IceTransactionKind.Turn && !TurnResponseAuthentic(bytes, m)))
        {
            Stats.ResponsesDropped++;
            return;
        }
        _transactions.RemoveAt(i);
        switch (t.Kind)
        {
            case IceTransactionKind.ServerReflexive:
                var mapped = m.Get<XorMappedAddress>()?.EndPoint ?? m.Get<MappedAddress>()?.EndPoint;
                if (m.Class == StunClass.SuccessResponse && mapped is not null && !_gatheringComplete)
                    AddServerReflexive(t.Base, mapped, t.To.ToString());
                CheckGatheringDone();
                break;
            case IceTransactionKind.Turn:
                OnTurnResponse(now, t, m, bytes);
                break;
            case IceTransactionKind.Check:
                if (symmetric) OnCheckResponse(now, t, m);
                else OnCheckFailed(t);
                break;
            case IceTransactionKind.Consent:
                if (symmetric) OnConsentResponse(now, m);
                break;
        }
    }
}
