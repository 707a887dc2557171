// The simulator's STUN and TURN servers answer as RFC 8489 / RFC 8656 say, and drop bad input.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;
using EdgeVpn.Sim.Servers;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Servers;

public class VirtualStunServerTests
{
    private static readonly IPEndPoint Server = new(IPAddress.Parse("203.0.113.1"), 3478);
    private static readonly IPEndPoint Client = new(IPAddress.Parse("198.51.100.7"), 40000);

    [Fact]
    public void A_binding_request_gets_the_source_address_it_came_from()
    {
        var s = new VirtualStunServer(Server);
        var tid = new StunTransactionId(12345);
        var request = new StunMessage(StunClass.Request, StunMethod.Binding, tid, []).Encode(fingerprint: true);
        var reply = s.Handle(new SimDatagram(Client, Server, request));
        Assert.NotNull(reply);
        Assert.Equal(Client, reply.Value.To);
        var m = StunMessage.Parse(reply.Value.Bytes).Value;
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(tid, m.TransactionId);
        Assert.Equal(Client, m.Get<XorMappedAddress>()!.EndPoint);
        Assert.Equal(StunCheck.Valid, StunIntegrity.VerifyFingerprint(reply.Value.Bytes));
    }

    [Fact]
    public void Random_bytes_are_dropped_never_thrown()
    {
        var s = new VirtualStunServer(Server);
        PropertyCheck.Run(Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var r = s.Handle(new SimDatagram(Client, Server, bytes));
            return r is null || StunMessage.Parse(r.Value.Bytes).Ok;
        }));
        Assert.True(s.Dropped > 0);
    }
}

public class VirtualTurnServerTests
{
    private static readonly IPEndPoint Listen = new(IPAddress.Parse("203.0.113.2"), 3478);
    private static readonly IPAddress Relay = IPAddress.Parse("203.0.113.2");
    private static readonly IPEndPoint Client = new(IPAddress.Parse("198.51.100.7"), 40000);
    private static readonly IPEndPoint Peer = new(IPAddress.Parse("198.51.100.9"), 50000);
    private const string User = "alice", Password = "s3cret";
    private static readonly Instant T0 = Instant.FromSeconds(100);

    private readonly VirtualTurnServer _server = new(Listen, Relay, new Dictionary<string, string> { [User] = Password }, new DeterministicRandom(5));
    private ulong _tid;

    private List<SimDatagram> Send(Instant now, IPEndPoint from, IPEndPoint to, byte[] bytes)
    {
        var output = new List<SimDatagram>();
        _server.Handle(now, new SimDatagram(from, to, bytes), output);
        return output;
    }

    private StunMessage Request(Instant now, StunMethod method, string? nonce, string password, params StunAttribute[] attributes)
    {
        var attrs = new List<StunAttribute>(attributes);
        byte[]? key = null;
        if (nonce is not null)
        {
            attrs.Add(new Username(User));
            attrs.Add(new Realm("edgevpn.sim"));
            attrs.Add(new Nonce(nonce));
            key = StunIntegrity.LongTermKey(User, "edgevpn.sim", password).Value;
        }
        var bytes = new StunMessage(StunClass.Request, method, new StunTransactionId(++_tid), attrs).Encode(integrityKey: key, fingerprint: true);
        var reply = Assert.Single(Send(now, Client, Listen, bytes));
        Assert.Equal(Client, reply.To);
        return StunMessage.Parse(reply.Bytes).Value;
    }

    private (string Nonce, IPEndPoint Relayed) Allocate(Instant now)
    {
        var challenge = Request(now, StunMethod.Allocate, null, Password, new RequestedTransport(17));
        Assert.Equal(401, challenge.Get<ErrorCode>()!.Code);
        string nonce = challenge.Get<Nonce>()!.Value;
        var ok = Request(now, StunMethod.Allocate, nonce, Password, new RequestedTransport(17));
        Assert.Equal(StunClass.SuccessResponse, ok.Class);
        Assert.Equal(Client, ok.Get<XorMappedAddress>()!.EndPoint);
        return (nonce, ok.Get<XorRelayedAddress>()!.EndPoint);
    }

    [Fact]
    public void An_allocate_is_challenged_then_granted_with_a_relayed_address()
    {
        var (_, relayed) = Allocate(T0);
        Assert.Equal(Relay, relayed.Address);
        Assert.True(_server.IsRelayAddress(relayed));
        Assert.Equal(1, _server.Allocations);
    }

    [Fact]
    public void A_wrong_password_is_refused_with_401_and_no_allocation()
    {
        var challenge = Request(T0, StunMethod.Allocate, null, Password, new RequestedTransport(17));
        var refused = Request(T0, StunMethod.Allocate, challenge.Get<Nonce>()!.Value, "wrong", new RequestedTransport(17));
        Assert.Equal(401, refused.Get<ErrorCode>()!.Code);
        Assert.Equal(0, _server.Allocations);
    }

    [Fact]
    public void A_stale_nonce_gets_438_with_a_fresh_one()
    {
        var challenge = Request(T0, StunMethod.Allocate, null, Password, new RequestedTransport(17));
        var later = T0 + TimeSpan.FromHours(1);
        var stale = Request(later, StunMethod.Allocate, challenge.Get<Nonce>()!.Value, Password, new RequestedTransport(17));
        Assert.Equal(438, stale.Get<ErrorCode>()!.Code);
        var ok = Request(later, StunMethod.Allocate, stale.Get<Nonce>()!.Value, Password, new RequestedTransport(17));
        Assert.Equal(StunClass.SuccessResponse, ok.Class);
    }

    [Fact]
    public void A_tcp_allocation_is_refused_with_442()
    {
        var challenge = Request(T0, StunMethod.Allocate, null, Password, new RequestedTransport(6));
        var r = Request(T0, StunMethod.Allocate, challenge.Get<Nonce>()!.Value, Password, new RequestedTransport(6));
        Assert.Equal(442, r.Get<ErrorCode>()!.Code);
    }

    [Fact]
    public void Data_flows_both_ways_only_after_a_permission_and_a_channel_carries_it_as_channel_data()
    {
        var (nonce, relayed) = Allocate(T0);
        byte[] hello = [1, 2, 3, 4, 5];

        // Before any permission the peer's datagram is dropped.
        Assert.Empty(Send(T0, Peer, relayed, hello));

        var perm = Request(T0, StunMethod.CreatePermission, nonce, Password, new XorPeerAddress(Peer));
        Assert.Equal(StunClass.SuccessResponse, perm.Class);
        var send = new StunMessage(StunClass.Indication, StunMethod.Send, new StunTransactionId(999), [new XorPeerAddress(Peer), new Data(new ByteString(hello))]).Encode();
        var relayedOut = Assert.Single(Send(T0, Client, Listen, send));
        Assert.Equal((relayed, Peer), (relayedOut.From, relayedOut.To));
        Assert.Equal(hello, relayedOut.Bytes);

        var toClient = Assert.Single(Send(T0, Peer, relayed, hello));
        var data = StunMessage.Parse(toClient.Bytes).Value;
        Assert.Equal((StunClass.Indication, StunMethod.Data), (data.Class, data.Method));
        Assert.Equal(Peer, data.Get<XorPeerAddress>()!.EndPoint);
        Assert.Equal(hello, data.Get<Data>()!.Value.ToArray());

        var bind = Request(T0, StunMethod.ChannelBind, nonce, Password, new ChannelNumber(0x4001), new XorPeerAddress(Peer));
        Assert.Equal(StunClass.SuccessResponse, bind.Class);
        var viaChannel = Assert.Single(Send(T0, Peer, relayed, hello));
        var cd = ChannelDataMessage.Parse(viaChannel.Bytes).Value;
        Assert.Equal(0x4001, cd.Channel);
        Assert.Equal(hello, cd.Payload.ToArray());
        var fromClient = Assert.Single(Send(T0, Client, Listen, ChannelDataMessage.Encode(0x4001, hello)));
        Assert.Equal((relayed, Peer), (fromClient.From, fromClient.To));
        Assert.Equal(hello, fromClient.Bytes);
    }

    [Fact]
    public void Permissions_and_allocations_expire_and_refresh_zero_deletes()
    {
        var (nonce, relayed) = Allocate(T0);
        Request(T0, StunMethod.CreatePermission, nonce, Password, new XorPeerAddress(Peer));
        Assert.Single(Send(T0 + TimeSpan.FromMinutes(4), Peer, relayed, [9]));
        Assert.Empty(Send(T0 + TimeSpan.FromMinutes(6), Peer, relayed, [9]));

        var refresh = Request(T0 + TimeSpan.FromMinutes(6), StunMethod.Refresh, nonce, Password, new Lifetime(0));
        Assert.Equal(StunClass.SuccessResponse, refresh.Class);
        Assert.Equal(0, _server.Allocations);
        Assert.False(_server.IsRelayAddress(relayed));
    }

    [Fact]
    public void A_second_allocate_on_the_same_five_tuple_is_437_but_a_retransmission_repeats_the_answer()
    {
        var challenge = Request(T0, StunMethod.Allocate, null, Password, new RequestedTransport(17));
        string nonce = challenge.Get<Nonce>()!.Value;
        var key = StunIntegrity.LongTermKey(User, "edgevpn.sim", Password).Value;
        var first = new StunMessage(StunClass.Request, StunMethod.Allocate, new StunTransactionId(777),
            [new RequestedTransport(17), new Username(User), new Realm("edgevpn.sim"), new Nonce(nonce)]).Encode(key, fingerprint: true);
        var a = StunMessage.Parse(Assert.Single(Send(T0, Client, Listen, first)).Bytes).Value;
        var again = StunMessage.Parse(Assert.Single(Send(T0, Client, Listen, first)).Bytes).Value;
        Assert.Equal(a.Get<XorRelayedAddress>(), again.Get<XorRelayedAddress>());
        var other = Request(T0, StunMethod.Allocate, nonce, Password, new RequestedTransport(17));
        Assert.Equal(437, other.Get<ErrorCode>()!.Code);
    }

    [Fact]
    public void Random_bytes_from_clients_and_peers_are_dropped_never_thrown()
    {
        var (_, relayed) = Allocate(T0);
        PropertyCheck.Run(Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<bool>(), (bytes, fromPeer) =>
        {
            var output = new List<SimDatagram>();
            _server.Handle(T0, fromPeer ? new SimDatagram(Peer, relayed, bytes) : new SimDatagram(Client, Listen, bytes), output);
            return output.Count <= 1;
        }));
    }
}
