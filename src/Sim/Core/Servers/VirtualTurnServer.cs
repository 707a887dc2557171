// A TURN server on the virtual network (RFC 8656 over UDP), for relayed ICE candidates in the
// simulator. Written here with our own STUN codec: no TURN server package is served (the real
// node is tested against coturn instead).
// Contract:
//  - long-term credentials (RFC 8489 §9.2): a request without MESSAGE-INTEGRITY gets 401 with
//    REALM and NONCE; a stale or foreign nonce gets 438 with a fresh one; a wrong key or unknown
//    user gets 401; responses to authenticated requests carry MESSAGE-INTEGRITY with that key;
//  - Allocate (REQUESTED-TRANSPORT must be UDP, else 442; a second Allocate on the same 5-tuple
//    is 437 unless it retransmits the first), Refresh (LIFETIME 0 deletes), CreatePermission,
//    ChannelBind, Send and Data indications, ChannelData both ways;
//  - a peer's datagram to a relayed address reaches the client only if a live permission for the
//    peer's IP exists: as ChannelData when a channel is bound to the peer, else as a Data indication;
//  - every table is bounded (allocations, permissions and channels per allocation) and expires
//    lazily by time; nonces are stateless (issue time + keyed hash), so the server stays deterministic;
//  - malformed input is dropped and counted with a reason, never thrown.
using System.Globalization;
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Sim.Servers;

public sealed record TurnServerConfig
{
    public string Realm { get; init; } = "edgevpn.sim";
    public TimeSpan DefaultLifetime { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan LifetimeMax { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan PermissionLifetime { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan ChannelLifetime { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan NonceLifetime { get; init; } = TimeSpan.FromMinutes(10);
    public int AllocationsMax { get; init; } = 16_384;
    public int PermissionsPerAllocationMax { get; init; } = 64;
    public int ChannelsPerAllocationMax { get; init; } = 64;
    public int RelayPortMin { get; init; } = 49_152;
    public int RelayPortMax { get; init; } = 65_535;
}

public sealed class VirtualTurnServer
{
    private const byte UdpProtocol = 17;

    private sealed class Allocation(IPEndPoint client, int relayPort, string username, byte[] key)
    {
        public readonly IPEndPoint Client = client;
        public readonly int RelayPort = relayPort;
        public readonly string Username = username;
        public readonly byte[] Key = key;
        public Instant Expires;
        public StunTransactionId AllocateTransaction;
        public readonly Dictionary<IPAddress, Instant> Permissions = new();
        public readonly Dictionary<ushort, (IPEndPoint Peer, Instant Expires)> Channels = new();
        public readonly Dictionary<IPEndPoint, ushort> ChannelOf = new();
    }

    private readonly TurnServerConfig _config;
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly ulong _nonceSecret;
    private readonly Dictionary<IPEndPoint, Allocation> _byClient = new();
    private readonly Dictionary<int, Allocation> _byPort = new();
    private int _nextPort;
    private ulong _indications;

    public IPEndPoint Listen { get; }
    public IPAddress RelayAddress { get; }
    public int Allocations => _byClient.Count;
    public long Relayed { get; private set; }
    public long Dropped { get; private set; }
    public string? LastDropReason { get; private set; }

    public VirtualTurnServer(IPEndPoint listen, IPAddress relayAddress, IReadOnlyDictionary<string, string> users,
                             DeterministicRandom random, TurnServerConfig? config = null)
    {
        _config = config ?? new TurnServerConfig();
        if (_config.RelayPortMin < 1 || _config.RelayPortMax > 65_535 || _config.RelayPortMin > _config.RelayPortMax)
            throw new ArgumentException("relay port range must be within 1..65535 and not empty", nameof(config));
        Listen = listen;
        RelayAddress = relayAddress;
        _users = users;
        _nonceSecret = random.NextUInt64();
        _nextPort = _config.RelayPortMin;
    }

    /// <summary>The datagram is addressed to one of this server's relayed transport addresses.</summary>
    public bool IsRelayAddress(IPEndPoint to) => to.Address.Equals(RelayAddress) && _byPort.ContainsKey(to.Port);

    /// <summary>Handles one datagram addressed to Listen (from a client) or to a relayed address (from a peer); appends what it sends.</summary>
    public void Handle(Instant now, SimDatagram d, List<SimDatagram> output)
    {
        if (d.To.Equals(Listen)) FromClient(now, d, output);
        else if (d.To.Address.Equals(RelayAddress)) FromPeer(now, d, output);
        else Drop($"not addressed to this server ({d.To})");
    }

    // ---- from clients ----

    private void FromClient(Instant now, SimDatagram d, List<SimDatagram> output)
    {
        switch (DatagramDemux.Classify(d.Bytes))
        {
            case DatagramKind.ChannelData:
                ClientChannelData(now, d, output);
                return;
            case DatagramKind.Stun:
                break;
            default:
                Drop("neither STUN nor ChannelData");
                return;
        }
        var parsed = StunMessage.Parse(d.Bytes);
        if (!parsed.Ok) { Drop("malformed STUN: " + parsed.Error); return; }
        var m = parsed.Value;
        if (m.Class == StunClass.Indication)
        {
            if (m.Method == StunMethod.Send) ClientSend(now, d.From, m, output);
            else Drop($"indication {m.Method} from a client");
            return;
        }
        if (m.Class != StunClass.Request) { Drop($"{m.Class} from a client"); return; }
        if (m.UnknownComprehensionRequired.Count > 0)
        {
            Reply(d, m, output, null, new ErrorCode(420, "Unknown Attribute"), new UnknownAttributes(m.UnknownComprehensionRequired));
            return;
        }
        if (m.Method == StunMethod.Binding)
        {
            Reply(d, m, output, null, new XorMappedAddress(d.From));
            return;
        }
        if (Authenticate(now, d, m, output) is not { } auth) return;
        var (username, key) = auth;
        switch (m.Method)
        {
            case StunMethod.Allocate: Allocate(now, d, m, username, key, output); return;
            case StunMethod.Refresh: Refresh(now, d, m, username, key, output); return;
            case StunMethod.CreatePermission: CreatePermission(now, d, m, username, key, output); return;
            case StunMethod.ChannelBind: ChannelBind(now, d, m, username, key, output); return;
            default: Reply(d, m, output, key, new ErrorCode(400, $"method {m.Method} not supported")); return;
        }
    }

    private (string Username, byte[] Key)? Authenticate(Instant now, SimDatagram d, StunMessage m, List<SimDatagram> output)
    {
        if (!m.Has<MessageIntegrity>())
        {
            Reply(d, m, output, null, new ErrorCode(401, "Unauthenticated"), new Realm(_config.Realm), new Nonce(NewNonce(now)));
            return null;
        }
        if (m.Get<Username>() is not { } user || m.Get<Realm>() is not { } realm || m.Get<Nonce>() is not { } nonce)
        {
            Reply(d, m, output, null, new ErrorCode(400, "USERNAME, REALM and NONCE are required with MESSAGE-INTEGRITY"));
            return null;
        }
        if (!NonceIsFresh(nonce.Value, now))
        {
            Reply(d, m, output, null, new ErrorCode(438, "Stale Nonce"), new Realm(_config.Realm), new Nonce(NewNonce(now)));
            return null;
        }
        if (realm.Value != _config.Realm || !_users.TryGetValue(user.Value, out var password)
            || StunIntegrity.LongTermKey(user.Value, _config.Realm, password) is not { Ok: true } key
            || StunIntegrity.VerifyMessageIntegrity(d.Bytes, key.Value) != StunCheck.Valid)
        {
            Reply(d, m, output, null, new ErrorCode(401, "Unauthenticated"), new Realm(_config.Realm), new Nonce(NewNonce(now)));
            return null;
        }
        return (user.Value, key.Value);
    }

    private void Allocate(Instant now, SimDatagram d, StunMessage m, string username, byte[] key, List<SimDatagram> output)
    {
        if (Find(d.From, now) is { } existing)
        {
            if (existing.AllocateTransaction == m.TransactionId) { AllocateSuccess(d, m, existing, now, output); return; }
            Reply(d, m, output, key, new ErrorCode(437, "Allocation Mismatch"));
            return;
        }
        if (m.Get<RequestedTransport>() is not { } transport) { Reply(d, m, output, key, new ErrorCode(400, "REQUESTED-TRANSPORT is missing")); return; }
        if (transport.Protocol != UdpProtocol) { Reply(d, m, output, key, new ErrorCode(442, "Unsupported Transport Protocol")); return; }
        if (_byClient.Count >= _config.AllocationsMax) ExpireAll(now);
        if (_byClient.Count >= _config.AllocationsMax || NextFreePort() is not { } port)
        {
            Reply(d, m, output, key, new ErrorCode(508, "Insufficient Capacity"));
            return;
        }
        var a = new Allocation(d.From, port, username, key) { AllocateTransaction = m.TransactionId };
        a.Expires = now + Lifetime(m.Get<Lifetime>());
        _byClient[d.From] = a;
        _byPort[port] = a;
        AllocateSuccess(d, m, a, now, output);
    }

    private void AllocateSuccess(SimDatagram d, StunMessage m, Allocation a, Instant now, List<SimDatagram> output) =>
        Reply(d, m, output, a.Key, new XorRelayedAddress(new IPEndPoint(RelayAddress, a.RelayPort)),
              new Lifetime((uint)Math.Max(0, (a.Expires - now).TotalSeconds)), new XorMappedAddress(d.From));

    private void Refresh(Instant now, SimDatagram d, StunMessage m, string username, byte[] key, List<SimDatagram> output)
    {
        if (Owned(now, d, m, username, key, output) is not { } a) return;
        if (m.Get<Lifetime>() is { Value: 0 })
        {
            Remove(a);
            Reply(d, m, output, key, new Lifetime(0));
            return;
        }
        a.Expires = now + Lifetime(m.Get<Lifetime>());
        Reply(d, m, output, key, new Lifetime((uint)(a.Expires - now).TotalSeconds));
    }

    private void CreatePermission(Instant now, SimDatagram d, StunMessage m, string username, byte[] key, List<SimDatagram> output)
    {
        if (Owned(now, d, m, username, key, output) is not { } a) return;
        var peers = m.Attributes.OfType<XorPeerAddress>().ToList();
        if (peers.Count == 0) { Reply(d, m, output, key, new ErrorCode(400, "XOR-PEER-ADDRESS is missing")); return; }
        ExpirePermissions(a, now);
        if (a.Permissions.Count + peers.Count(p => !a.Permissions.ContainsKey(p.EndPoint.Address)) > _config.PermissionsPerAllocationMax)
        {
            Reply(d, m, output, key, new ErrorCode(508, "Insufficient Capacity"));
            return;
        }
        foreach (var p in peers) a.Permissions[p.EndPoint.Address] = now + _config.PermissionLifetime;
        Reply(d, m, output, key);
    }

    private void ChannelBind(Instant now, SimDatagram d, StunMessage m, string username, byte[] key, List<SimDatagram> output)
    {
        if (Owned(now, d, m, username, key, output) is not { } a) return;
        if (m.Get<ChannelNumber>() is not { } channel || !ChannelDataMessage.IsValidChannel(channel.Number) || m.Get<XorPeerAddress>() is not { } peer)
        {
            Reply(d, m, output, key, new ErrorCode(400, "a valid CHANNEL-NUMBER and XOR-PEER-ADDRESS are required"));
            return;
        }
        ExpireChannels(a, now);
        bool channelTaken = a.Channels.TryGetValue(channel.Number, out var bound) && !bound.Peer.Equals(peer.EndPoint);
        bool peerTaken = a.ChannelOf.TryGetValue(peer.EndPoint, out ushort other) && other != channel.Number;
        if (channelTaken || peerTaken) { Reply(d, m, output, key, new ErrorCode(400, "channel or peer already bound differently")); return; }
        if (!a.Channels.ContainsKey(channel.Number) && a.Channels.Count >= _config.ChannelsPerAllocationMax)
        {
            Reply(d, m, output, key, new ErrorCode(508, "Insufficient Capacity"));
            return;
        }
        a.Channels[channel.Number] = (peer.EndPoint, now + _config.ChannelLifetime);
        a.ChannelOf[peer.EndPoint] = channel.Number;
        a.Permissions[peer.EndPoint.Address] = now + _config.PermissionLifetime;
        Reply(d, m, output, key);
    }

    private void ClientSend(Instant now, IPEndPoint client, StunMessage m, List<SimDatagram> output)
    {
        if (Find(client, now) is not { } a) { Drop("Send indication without an allocation"); return; }
        if (m.Get<XorPeerAddress>() is not { } peer || m.Get<Data>() is not { } data) { Drop("Send indication without XOR-PEER-ADDRESS or DATA"); return; }
        if (!HasPermission(a, peer.EndPoint.Address, now)) { Drop($"no permission for {peer.EndPoint.Address}"); return; }
        Relayed++;
        output.Add(new SimDatagram(new IPEndPoint(RelayAddress, a.RelayPort), peer.EndPoint, data.Value.ToArray()));
    }

    private void ClientChannelData(Instant now, SimDatagram d, List<SimDatagram> output)
    {
        var parsed = ChannelDataMessage.Parse(d.Bytes);
        if (!parsed.Ok) { Drop("malformed ChannelData: " + parsed.Error); return; }
        if (Find(d.From, now) is not { } a) { Drop("ChannelData without an allocation"); return; }
        ExpireChannels(a, now);
        if (!a.Channels.TryGetValue(parsed.Value.Channel, out var bound)) { Drop($"channel 0x{parsed.Value.Channel:x4} is not bound"); return; }
        if (!HasPermission(a, bound.Peer.Address, now)) { Drop($"no permission for {bound.Peer.Address}"); return; }
        Relayed++;
        output.Add(new SimDatagram(new IPEndPoint(RelayAddress, a.RelayPort), bound.Peer, parsed.Value.Payload.ToArray()));
    }

    // ---- from peers ----

    private void FromPeer(Instant now, SimDatagram d, List<SimDatagram> output)
    {
        if (!_byPort.TryGetValue(d.To.Port, out var a) || a.Expires <= now)
        {
            if (a is not null) Remove(a);
            Drop($"no allocation on relay port {d.To.Port}");
            return;
        }
        if (!HasPermission(a, d.From.Address, now)) { Drop($"no permission for {d.From.Address} on relay port {d.To.Port}"); return; }
        Relayed++;
        ExpireChannels(a, now);
        if (a.ChannelOf.TryGetValue(d.From, out ushort channel))
        {
            output.Add(new SimDatagram(Listen, a.Client, ChannelDataMessage.Encode(channel, d.Bytes)));
            return;
        }
        var indication = new StunMessage(StunClass.Indication, StunMethod.Data, NextIndicationId(),
            [new XorPeerAddress(d.From), new Data(ByteString.CopyOf(d.Bytes))]);
        output.Add(new SimDatagram(Listen, a.Client, indication.Encode()));
    }

    // ---- tables ----

    private Allocation? Find(IPEndPoint client, Instant now)
    {
        if (!_byClient.TryGetValue(client, out var a)) return null;
        if (a.Expires > now) return a;
        Remove(a);
        return null;
    }

    private Allocation? Owned(Instant now, SimDatagram d, StunMessage m, string username, byte[] key, List<SimDatagram> output)
    {
        if (Find(d.From, now) is { } a && a.Username == username) return a;
        Reply(d, m, output, key, new ErrorCode(437, "Allocation Mismatch"));
        return null;
    }

    private void Remove(Allocation a)
    {
        _byClient.Remove(a.Client);
        _byPort.Remove(a.RelayPort);
    }

    private void ExpireAll(Instant now)
    {
        // Removal only: iteration order never reaches an output.
        foreach (var a in _byClient.Values.Where(a => a.Expires <= now).ToList()) Remove(a);
    }

    private static void ExpirePermissions(Allocation a, Instant now)
    {
        foreach (var ip in a.Permissions.Where(p => p.Value <= now).Select(p => p.Key).ToList()) a.Permissions.Remove(ip);
    }

    private static void ExpireChannels(Allocation a, Instant now)
    {
        if (a.Channels.Count == 0) return;
        foreach (var (number, bound) in a.Channels.Where(c => c.Value.Expires <= now).ToList())
        {
            a.Channels.Remove(number);
            a.ChannelOf.Remove(bound.Peer);
        }
    }

    private static bool HasPermission(Allocation a, IPAddress peer, Instant now) =>
        a.Permissions.TryGetValue(peer, out var expires) && expires > now;

    private int? NextFreePort()
    {
        int span = _config.RelayPortMax - _config.RelayPortMin + 1;
        for (int tried = 0; tried < span; tried++)
        {
            int port = _nextPort;
            _nextPort = port == _config.RelayPortMax ? _config.RelayPortMin : port + 1;
            if (!_byPort.ContainsKey(port)) return port;
        }
        return null;
    }

    private TimeSpan Lifetime(Lifetime? requested)
    {
        if (requested is null) return _config.DefaultLifetime;
        var asked = TimeSpan.FromSeconds(requested.Value);
        return asked < _config.DefaultLifetime ? _config.DefaultLifetime : asked > _config.LifetimeMax ? _config.LifetimeMax : asked;
    }

    // ---- nonces: issue time (hex seconds) + a keyed hash of it, so no table is needed ----

    private string NewNonce(Instant now)
    {
        long seconds = (long)now.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"{seconds:x}-{NonceMac(seconds):x16}");
    }

    private bool NonceIsFresh(string nonce, Instant now)
    {
        int dash = nonce.IndexOf('-');
        if (dash <= 0 || !long.TryParse(nonce.AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long seconds)) return false;
        if (!ulong.TryParse(nonce.AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mac) || mac != NonceMac(seconds)) return false;
        double age = now.TotalSeconds - seconds;
        return age >= 0 && age < _config.NonceLifetime.TotalSeconds;
    }

    private ulong NonceMac(long seconds) => StableHash.Combine(_nonceSecret, (ulong)seconds);

    // ---- replies ----

    private void Reply(SimDatagram request, StunMessage m, List<SimDatagram> output, byte[]? key, params StunAttribute[] attributes)
    {
        bool error = attributes.Length > 0 && attributes[0] is ErrorCode;
        var response = new StunMessage(error ? StunClass.ErrorResponse : StunClass.SuccessResponse, m.Method, m.TransactionId, attributes);
        output.Add(new SimDatagram(Listen, request.From, response.Encode(integrityKey: key, fingerprint: true)));
    }

    // Indications need a transaction id nobody answers; a counter keeps the server deterministic.
    private StunTransactionId NextIndicationId() => new(((UInt128)_nonceSecret << 32) | ++_indications);

    private void Drop(string reason)
    {
        Dropped++;
        LastDropReason = reason;
    }
}
