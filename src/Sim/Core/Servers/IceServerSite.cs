// The public servers ICE agents use in a simulated network, built in one place: a STUN server
// and, unless turned off, TurnServerCount TURN servers (one relay address each), every one a
// public host of the given UdpFabric, registered in a fixed order (STUN first, then the TURN
// servers) so that the same fabric seed gives the same addresses. Shared by the packet-level
// pair experiment (nat-matrix) and the overlay simulation with `--links ice`.
// Deliver hands a datagram that the fabric routed to one of these hosts to its server and
// appends the server's replies (a TURN server relaying between a client and a peer answers
// with datagrams from its relayed address). Several TURN servers exist because one relay
// address has only RelayPortMax - RelayPortMin + 1 ports: an overlay of thousands of nodes,
// each link end holding an allocation, needs more than one, as a real deployment does.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Sim.Net;

namespace EdgeVpn.Sim.Servers;

public sealed class IceServerSite
{
    public const string TurnUser = "edgevpn", TurnPassword = "simulated-secret";
    public const int ServerPort = 3478;
    public const int TurnServersMax = 4096;

    private readonly int _firstTurnHost;   // TURN servers are consecutive fabric hosts from here
    private readonly VirtualTurnServer[] _turns;
    private readonly IceTurnServer[] _turnCredentials;

    /// <param name="turnServers">0 for none.</param>
    /// <param name="random">Forked per TURN server for its nonce secret (the first server uses random.Fork("turn") itself).</param>
    public IceServerSite(UdpFabric fabric, int turnServers, DeterministicRandom random, TurnServerConfig? turnConfig = null)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        ArgumentNullException.ThrowIfNull(random);
        if (turnServers < 0 || turnServers > TurnServersMax) throw new ArgumentOutOfRangeException(nameof(turnServers), turnServers, $"must be in 0..{TurnServersMax}");
        StunHost = fabric.AddPublicHost();
        Stun = new VirtualStunServer(new IPEndPoint(Ip4.ToIPAddress(fabric.AddressOf(StunHost)), ServerPort));
        _firstTurnHost = StunHost + 1;
        _turns = new VirtualTurnServer[turnServers];
        _turnCredentials = new IceTurnServer[turnServers];
        var users = new Dictionary<string, string> { [TurnUser] = TurnPassword };
        var turnRandom = random.Fork("turn");
        for (int i = 0; i < turnServers; i++)
        {
            int host = fabric.AddPublicHost();
            if (host != _firstTurnHost + i) throw new InvalidOperationException("the fabric registered another host while the site was being built");
            var address = Ip4.ToIPAddress(fabric.AddressOf(host));
            _turns[i] = new VirtualTurnServer(new IPEndPoint(address, ServerPort), address, users, i == 0 ? turnRandom : turnRandom.Fork((ulong)i), turnConfig);
            _turnCredentials[i] = new IceTurnServer(_turns[i].Listen, TurnUser, TurnPassword);
        }
    }

    public int StunHost { get; }
    public VirtualStunServer Stun { get; }
    public int TurnServerCount => _turns.Length;
    public VirtualTurnServer Turn(int i) => _turns[i];

    /// <summary>The server the fabric host is, if any.</summary>
    public bool IsServerHost(int host) => host == StunHost || TurnIndexOf(host) >= 0;

    /// <summary>The TURN server (index) on fabric host `host`, or -1.</summary>
    public int TurnIndexOf(int host) => (uint)(host - _firstTurnHost) < (uint)_turns.Length ? host - _firstTurnHost : -1;

    /// <summary>An agent's config with this site's STUN server and (when there is one) TURN server number `turn`
    /// (taken modulo the number of TURN servers, so callers can spread clients by any index).</summary>
    public IceConfig Configure(IceConfig config, int turn = 0) => config with
    {
        StunServers = [Stun.Address],
        Turn = _turns.Length == 0 ? null : _turnCredentials[(int)((uint)turn % (uint)_turns.Length)],
    };

    /// <summary>Gives a datagram delivered to server host `host` (arriving at `local` from `remote`) to its server;
    /// appends what the server sends. False if the host is not one of this site's servers.</summary>
    public bool Deliver(Instant now, int host, IPEndPoint local, IPEndPoint remote, byte[] bytes, List<SimDatagram> replies)
    {
        if (host == StunHost)
        {
            if (Stun.Handle(new SimDatagram(remote, local, bytes)) is { } reply) replies.Add(reply);
            return true;
        }
        int i = TurnIndexOf(host);
        if (i < 0) return false;
        _turns[i].Handle(now, new SimDatagram(remote, local, bytes), replies);
        return true;
    }
}
