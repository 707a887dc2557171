// The agent's TURN client state (RFC 8656): one allocation on one server, reached from one host
// socket; its long-term credential state (realm, nonce, key); the permissions installed for peer
// IP addresses and the channels bound to peer transport addresses. Lists, not hash sets, so that
// every walk is in insertion order.
using System.Net;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Ice;

internal enum TurnState : byte
{
    Allocating,
    Allocated,
    Failed,
}

internal sealed class TurnPermission(IPAddress peer)
{
    public IPAddress Peer { get; } = peer;
    public bool Installed { get; set; }
    public bool Requested { get; set; }
}

internal sealed class TurnChannel(IPEndPoint peer, ushort number)
{
    public IPEndPoint Peer { get; } = peer;
    public ushort Number { get; } = number;
    public bool Bound { get; set; }
}

internal sealed class TurnAllocation(IPEndPoint socket, IPEndPoint server)
{
    public IPEndPoint Socket { get; } = socket;
    public IPEndPoint Server { get; } = server;
    public TurnState State { get; set; } = TurnState.Allocating;
    public string? Realm { get; set; }
    public string? Nonce { get; set; }
    public byte[]? Key { get; set; }
    public IPEndPoint? Relayed { get; set; }
    public Instant ExpiresAt { get; set; }
    public List<TurnPermission> Permissions { get; } = [];
    public List<TurnChannel> Channels { get; } = [];

    public TurnPermission? Permission(IPAddress peer)
    {
        foreach (var p in Permissions) if (p.Peer.Equals(peer)) return p;
        return null;
    }

    public TurnChannel? ChannelTo(IPEndPoint peer)
    {
        foreach (var c in Channels) if (c.Peer.Equals(peer)) return c;
        return null;
    }

    public TurnChannel? ChannelNumbered(ushort number)
    {
        foreach (var c in Channels) if (c.Number == number) return c;
        return null;
    }
}
