// A tiny, pure TURN server for tests (RFC 8656 subset): answers Binding (so it is a STUN server
// too), Allocate with a 401 REALM/NONCE challenge then long-term authentication, Refresh,
// CreatePermission, ChannelBind, Send indications and ChannelData from its client, and relays
// peer datagrams to the client as Data indications or ChannelData when a channel is bound.
// Permissions are checked on every relayed datagram. Optionally the nonce goes stale after a
// number of authenticated requests (438). One allocation per client address; no expiry.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Tests.Ice;

internal sealed class FakeTurnServer(IPEndPoint address, IPAddress relayIp, string realm, string username, string password)
{
    private sealed class Allocation(IPEndPoint client, IPEndPoint relay)
    {
        public IPEndPoint Client { get; } = client;
        public IPEndPoint Relay { get; } = relay;
        public List<IPAddress> Permissions { get; } = [];
        public List<(ushort Channel, IPEndPoint Peer)> Channels { get; } = [];
    }

    private readonly List<Allocation> _allocations = [];
    private readonly byte[] _key = StunIntegrity.LongTermKey(username, realm, password).Value;
    private int _nonceGeneration;
    private int _authenticatedWithThisNonce;
    private int _nextPort = 50000;

    public IPEndPoint Address { get; } = address;
    /// <summary>After this many authenticated requests the nonce goes stale (0: never).</summary>
    public int RequestsPerNonce { get; init; }
    public int Challenges { get; private set; }
    public int StaleNonces { get; private set; }
    public int SendIndications { get; private set; }
    public int ChannelDataFromClients { get; private set; }
    public int ChannelBinds { get; private set; }
    public int Released { get; private set; }
    public int DroppedWithoutPermission { get; private set; }

    private string CurrentNonce => $"nonce-{_nonceGeneration}";

    public bool Owns(IPEndPoint to) => to.Equals(Address) || _allocations.Exists(a => a.Relay.Equals(to));

    public IEnumerable<(IPEndPoint From, IPEndPoint To, byte[] Bytes)> Receive(IPEndPoint from, IPEndPoint to, byte[] bytes)
    {
        if (!to.Equals(Address))
        {
            var relayed = _allocations.Find(a => a.Relay.Equals(to));
            if (relayed is null) yield break;
            if (!relayed.Permissions.Contains(from.Address)) { DroppedWithoutPermission++; yield break; }
            var channel = relayed.Channels.FindIndex(c => c.Peer.Equals(from));
            yield return (Address, relayed.Client, channel >= 0
                ? ChannelDataMessage.Encode(relayed.Channels[channel].Channel, bytes)
                : new StunMessage(StunClass.Indication, StunMethod.Data, Tid(bytes), [new XorPeerAddress(from), new Data(new ByteString(bytes))]).Encode());
            yield break;
        }
        var mine = _allocations.Find(a => a.Client.Equals(from));
        if (DatagramDemux.Classify(bytes) == DatagramKind.ChannelData)
        {
            var cd = ChannelDataMessage.Parse(bytes);
            if (!cd.Ok || mine is null) yield break;
            int c = mine.Channels.FindIndex(x => x.Channel == cd.Value.Channel);
            if (c < 0) yield break;
            ChannelDataFromClients++;
            foreach (var o in Relay(mine, mine.Channels[c].Peer, cd.Value.Payload.ToArray())) yield return o;
            yield break;
        }
        var parsed = StunMessage.Parse(bytes);
        if (!parsed.Ok) yield break;
        var m = parsed.Value;
        if (m is { Class: StunClass.Indication, Method: StunMethod.Send })
        {
            SendIndications++;
            if (mine is not null && m.Get<XorPeerAddress>() is { } peer && m.Get<Data>() is { } data)
                foreach (var o in Relay(mine, peer.EndPoint, data.Value.ToArray())) yield return o;
            yield break;
        }
        if (m.Class != StunClass.Request) yield break;
        if (m.Method == StunMethod.Binding)
        {
            yield return (Address, from, new StunMessage(StunClass.SuccessResponse, StunMethod.Binding, m.TransactionId, [new XorMappedAddress(from)]).Encode());
            yield break;
        }
        if (Authenticate(m, bytes) is { } refusal)
        {
            yield return (Address, from, refusal);
            yield break;
        }
        StunAttribute[] answer;
        switch (m.Method)
        {
            case StunMethod.Allocate:
                if (mine is null)
                {
                    mine = new Allocation(from, new IPEndPoint(relayIp, _nextPort++));
                    _allocations.Add(mine);
                }
                answer = [new XorRelayedAddress(mine.Relay), new XorMappedAddress(from), new Lifetime(600)];
                break;
            case StunMethod.Refresh when mine is not null:
                if (m.Get<Lifetime>()?.Value == 0) { _allocations.Remove(mine); Released++; }
                answer = [new Lifetime(m.Get<Lifetime>()?.Value ?? 600)];
                break;
            case StunMethod.CreatePermission when mine is not null:
                foreach (var a in m.Attributes)
                    if (a is XorPeerAddress p && !mine.Permissions.Contains(p.EndPoint.Address)) mine.Permissions.Add(p.EndPoint.Address);
                answer = [];
                break;
            case StunMethod.ChannelBind when mine is not null && m.Get<ChannelNumber>() is { } n && m.Get<XorPeerAddress>() is { } peer:
                ChannelBinds++;
                mine.Channels.RemoveAll(c => c.Channel == n.Number || c.Peer.Equals(peer.EndPoint));
                mine.Channels.Add((n.Number, peer.EndPoint));
                if (!mine.Permissions.Contains(peer.EndPoint.Address)) mine.Permissions.Add(peer.EndPoint.Address);
                answer = [];
                break;
            default:
                yield return (Address, from, Error(m, StunErrorCodes.AllocationMismatch, "Allocation Mismatch").Encode());
                yield break;
        }
        yield return (Address, from, new StunMessage(StunClass.SuccessResponse, m.Method, m.TransactionId, answer).Encode(_key));
    }

    private IEnumerable<(IPEndPoint, IPEndPoint, byte[])> Relay(Allocation a, IPEndPoint peer, byte[] payload)
    {
        if (!a.Permissions.Contains(peer.Address)) { DroppedWithoutPermission++; yield break; }
        yield return (a.Relay, peer, payload);
    }

    /// <summary>Null when the request is authenticated with the current nonce; else the error response.</summary>
    private byte[]? Authenticate(StunMessage m, byte[] bytes)
    {
        if (!m.Has<MessageIntegrity>())
        {
            Challenges++;
            return Error(m, StunErrorCodes.Unauthorized, "Unauthorized", withNonce: true).Encode();
        }
        if (m.Get<Username>()?.Value != username || m.Get<Realm>()?.Value != realm
            || StunIntegrity.VerifyMessageIntegrity(bytes, _key) != StunCheck.Valid)
            return Error(m, StunErrorCodes.Unauthorized, "Unauthorized", withNonce: true).Encode();
        if (m.Get<Nonce>()?.Value != CurrentNonce)
        {
            StaleNonces++;
            return Error(m, StunErrorCodes.StaleNonce, "Stale Nonce", withNonce: true).Encode(_key);
        }
        if (RequestsPerNonce > 0 && ++_authenticatedWithThisNonce > RequestsPerNonce)
        {
            _nonceGeneration++;
            _authenticatedWithThisNonce = 0;
            StaleNonces++;
            return Error(m, StunErrorCodes.StaleNonce, "Stale Nonce", withNonce: true).Encode(_key);
        }
        return null;
    }

    private StunMessage Error(StunMessage request, int code, string reason, bool withNonce = false) =>
        new(StunClass.ErrorResponse, request.Method, request.TransactionId,
            withNonce ? [new ErrorCode(code, reason), new Realm(realm), new Nonce(CurrentNonce)] : [new ErrorCode(code, reason)]);

    private static StunTransactionId Tid(byte[] seed) => new((UInt128)(uint)seed.Length << 64 | (UInt128)(ulong)Crc32.Compute(seed));
}
