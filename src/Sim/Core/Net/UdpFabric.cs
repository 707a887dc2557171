// The virtual IP network the simulator's datagrams cross: hosts with private addresses behind
// NAT boxes (several hosts may share one box), public hosts (STUN/TURN servers, hosts without
// NAT) and the public internet between them. Routing only: latency, loss and partitions are the
// simulator's business, applied before or after Route.
// Route(now, from, to) names the host that receives a datagram the host owning `from` sent to
// `to`, the source it sees and the local address it arrives at, or why it was dropped:
// - public -> public: delivered as sent;
// - private -> public: through the sender's NAT (Outbound), so the receiver sees the mapping;
// - * -> a NAT's public address: through that NAT's Inbound (mapping lookup and filtering);
// - private -> private in the same site (behind the same box): delivered directly on the LAN;
//   a private destination in another site, or any private destination from the public side,
//   is unroutable (NoRoute);
// - private -> its own NAT's public address: hairpinned when the box hairpins (else
//   HairpinDisabled): translated outbound, then treated as inbound from the sender's external
//   mapping, so the receiver sees that mapping as the source (RFC 4787 REQ-9) and the box's
//   filtering applies as to any inbound packet.
// Addresses identify hosts: private addresses are unique across the whole fabric (overlapping
// private networks are not modelled), public addresses are never RFC 1918 and private ones
// always are. AddressPool supplies such addresses when the caller gives none; lookups are
// integer-keyed dictionaries and the per-packet path allocates nothing. Deterministic: the only
// randomness is each box's port generator, forked from the fabric's seed by the box's id.
using System.Net;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.Net;

public sealed class UdpFabric
{
    private const int Public = -1;

    private readonly DeterministicRandom _random;
    private readonly AddressPool _pool;
    private readonly List<NatBox> _nats = [];
    private readonly Dictionary<uint, int> _natByAddress = [];
    private readonly List<uint> _hostAddress = [];
    private readonly List<int> _hostNat = [];
    private readonly Dictionary<uint, int> _hostByAddress = [];

    public UdpFabric(DeterministicRandom random, AddressPool? pool = null)
    {
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _pool = pool ?? new AddressPool();
    }

    public int HostCount => _hostAddress.Count;
    public int NatCount => _nats.Count;

    public NatBox Nat(int nat) => _nats[nat];

    /// <summary>The NAT in front of the host, or -1 for a public host.</summary>
    public int NatOf(int host) => _hostNat[host];

    public uint AddressOf(int host) => _hostAddress[host];

    /// <summary>A new NAT box (with a pool address unless one is given); returns its id.</summary>
    public int AddNat(NatBehaviour behaviour, uint? publicAddress = null)
    {
        ArgumentNullException.ThrowIfNull(behaviour);
        uint address = publicAddress ?? _pool.NextPublic();
        CheckFree(address, wantPrivate: false);
        int id = _nats.Count;
        var random = behaviour.PortAssignment == PortAssignment.Random ? _random.Fork((ulong)id) : null;
        _nats.Add(new NatBox(behaviour, address, random));
        _natByAddress.Add(address, id);
        return id;
    }

    public int AddPublicHost(uint? address = null) => AddHostAt(address ?? _pool.NextPublic(), Public);

    public int AddPrivateHost(int nat, uint? address = null)
    {
        if ((uint)nat >= (uint)_nats.Count) throw new ArgumentOutOfRangeException(nameof(nat), $"no NAT {nat}");
        return AddHostAt(address ?? _pool.NextPrivate(), nat);
    }

    /// <summary>A host behind a NAT box of its own with this behaviour, or a public host for "none".</summary>
    public int AddHost(NatBehaviour behaviour)
    {
        ArgumentNullException.ThrowIfNull(behaviour);
        return behaviour.Public ? AddPublicHost() : AddPrivateHost(AddNat(behaviour));
    }

    public FabricRoute Route(Instant now, IPEndPoint from, IPEndPoint to) =>
        Ip4Endpoint.TryFrom(from, out var f) && Ip4Endpoint.TryFrom(to, out var t)
            ? Route(now, f, t).ToFabricRoute()
            : new FabricRoute.Drop(DropReason.NotIpv4);

    public RouteResult Route(Instant now, Ip4Endpoint from, Ip4Endpoint to)
    {
        if (!_hostByAddress.TryGetValue(from.Address, out int sender)) return RouteResult.Dropped(DropReason.UnknownSource);
        int site = _hostNat[sender];
        Ip4Endpoint source = from;
        if (site != Public)
        {
            if (_hostByAddress.TryGetValue(to.Address, out int local) && _hostNat[local] != Public)
                return _hostNat[local] == site ? RouteResult.Deliver(local, from, to) : RouteResult.Dropped(DropReason.NoRoute);
            var box = _nats[site];
            if (to.Address == box.PublicAddress && !box.Behaviour.Hairpinning) return RouteResult.Dropped(DropReason.HairpinDisabled);
            var outbound = box.Outbound(now, from, to);
            if (!outbound.Ok) return RouteResult.Dropped(outbound.Drop);
            source = outbound.Endpoint;
        }
        return ArriveFromPublic(now, source, to);
    }

    public void CheckInvariants()
    {
        foreach (var nat in _nats) nat.CheckInvariants();
    }

    /// <summary>A packet on the public side with this (public) source reaches its destination.</summary>
    private RouteResult ArriveFromPublic(Instant now, Ip4Endpoint source, Ip4Endpoint to)
    {
        if (_natByAddress.TryGetValue(to.Address, out int nat))
        {
            var inbound = _nats[nat].Inbound(now, source, to);
            if (!inbound.Ok) return RouteResult.Dropped(inbound.Drop);
            return _hostByAddress.TryGetValue(inbound.Endpoint.Address, out int inside)
                ? RouteResult.Deliver(inside, source, inbound.Endpoint)
                : RouteResult.Dropped(DropReason.NoRoute); // a mapping for an address no host holds
        }
        if (_hostByAddress.TryGetValue(to.Address, out int host) && _hostNat[host] == Public)
            return RouteResult.Deliver(host, source, to);
        return RouteResult.Dropped(DropReason.NoRoute);
    }

    private int AddHostAt(uint address, int nat)
    {
        CheckFree(address, wantPrivate: nat != Public);
        int id = _hostAddress.Count;
        _hostAddress.Add(address);
        _hostNat.Add(nat);
        _hostByAddress.Add(address, id);
        return id;
    }

    private void CheckFree(uint address, bool wantPrivate)
    {
        if (Ip4.IsPrivate(address) != wantPrivate)
            throw new ArgumentException($"{Ip4.Format(address)} is {(wantPrivate ? "not " : "")}an RFC 1918 private address; {(wantPrivate ? "hosts behind a NAT" : "public hosts and NAT boxes")} need {(wantPrivate ? "one" : "a public one")}");
        if (_hostByAddress.ContainsKey(address) || _natByAddress.ContainsKey(address))
            throw new ArgumentException($"{Ip4.Format(address)} is already in use");
    }
}
