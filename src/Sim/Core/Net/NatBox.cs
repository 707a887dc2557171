// One virtual NAT box: a public IPv4 address in front of a private network, translating UDP per
// its NatBehaviour (RFC 4787). Pure and deterministic: time comes in as `now`, randomness (for
// random port assignment only) from the DeterministicRandom given at construction.
// Contract:
// - Outbound(now, internalSrc, externalDst) finds the live mapping that the mapping behaviour
//   selects for (internalSrc, externalDst) or creates one (new external port per PortAssignment),
//   refreshes it to now + MappingLifetime, records externalDst among the mapping's permissions
//   (what ADF/APDF filter on) and returns the external source endpoint; or drops with TableFull
//   when a new mapping is needed and MappingsMax live ones exist.
// - Inbound(now, externalSrc, publicDst) returns the internal endpoint of the mapping holding
//   publicDst's port if it is live and its filtering admits externalSrc (refreshing it when
//   InboundRefreshes); else NoMapping, MappingExpired or Filtered.
// - A mapping is live while now < last refresh + MappingLifetime. Expiry is lazy: an expired
//   mapping is removed when a packet touches it, when its port is wanted again, when the table
//   is full, or by Sweep/HandleTimeout; PollTimeout names the next expiry for a host that wants
//   memory back sooner. Permissions live exactly as long as their mapping (RFC 4787 has no
//   separate permission timer; that is TURN's), each mapping remembering at most
//   PermissionsPerMappingMax destinations (oldest forgotten first), so memory per box is bounded
//   by MappingsMax * PermissionsPerMappingMax.
// - External ports are unique per box (no port overloading, RFC 4787 REQ-2/REQ-3 spirit), so an
//   inbound packet is demultiplexed by its destination port alone.
// - Faults: ExpireAll() loses every mapping (a NAT reboot); Rebind(now) keeps the mappings but
//   moves each to a new external port (a NAT that renumbers, or a CGN re-balancing).
// Storage: mappings are structs in one array, scanned linearly while a box holds few of them
// (the common case: a home NAT with one or two hosts, millions of boxes); two dictionaries index
// them once a box has held more than IndexThreshold. Iteration is over the array, never a hash.
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.Net;

public sealed class NatBox
{
    private const int IndexThreshold = 8;

    private struct Mapping
    {
        public ulong Internal;       // packed internal endpoint
        public ulong DestinationKey; // the part of the destination the mapping behaviour selects on
        public ushort Port;          // external port
        public Instant Expiry;       // dead at or after this instant
        public ulong[]? Permissions; // ring of filter keys (address, or address and port)
        public int PermissionCount;
        public int PermissionNext;   // ring write position once full
    }

    private readonly DeterministicRandom? _random;
    private Mapping[] _mappings = [];
    private int _count;
    private Dictionary<(ulong Internal, ulong Destination), int>? _byKey;
    private Dictionary<ushort, int>? _byPort;
    private int _sequentialNext = NatBehaviour.PortFirst;

    public NatBox(NatBehaviour behaviour, uint publicAddress, DeterministicRandom? random = null)
    {
        ArgumentNullException.ThrowIfNull(behaviour);
        if (behaviour.Public) throw new ArgumentException("'none' means no NAT box: register the host as a public host instead", nameof(behaviour));
        if (behaviour.Validate() is { } error) throw new ArgumentException(error, nameof(behaviour));
        if (behaviour.PortAssignment == PortAssignment.Random && random is null)
            throw new ArgumentException("random port assignment needs a DeterministicRandom", nameof(random));
        Behaviour = behaviour;
        PublicAddress = publicAddress;
        _random = random;
    }

    public NatBehaviour Behaviour { get; }
    public uint PublicAddress { get; }

    /// <summary>Mappings held, including expired ones not yet removed (never more than MappingsMax).</summary>
    public int Count => _count;

    public NatResult Outbound(Instant now, Ip4Endpoint internalSrc, Ip4Endpoint externalDst)
    {
        ulong key = DestinationKey(Behaviour.Mapping, externalDst);
        int i = FindByKey(internalSrc.Packed, key);
        if (i >= 0 && now >= _mappings[i].Expiry)
        {
            RemoveAt(i);
            i = -1;
        }
        if (i < 0)
        {
            if (_count >= Behaviour.MappingsMax && Sweep(now) == 0) return NatResult.Dropped(DropReason.TableFull);
            int port = AllocatePort(now, internalSrc.Port, reserved: null);
            if (port < 0) return NatResult.Dropped(DropReason.TableFull);
            i = Insert(new Mapping { Internal = internalSrc.Packed, DestinationKey = key, Port = (ushort)port });
        }
        ref Mapping m = ref _mappings[i];
        m.Expiry = now + Behaviour.MappingLifetime;
        if (Behaviour.Filtering != NatDependence.EndpointIndependent) Permit(ref m, FilterKey(Behaviour.Filtering, externalDst));
        return NatResult.Pass(new Ip4Endpoint(PublicAddress, m.Port));
    }

    public NatResult Inbound(Instant now, Ip4Endpoint externalSrc, Ip4Endpoint publicDst)
    {
        if (publicDst.Address != PublicAddress) return NatResult.Dropped(DropReason.NoRoute);
        int i = FindByPort(publicDst.Port);
        if (i < 0) return NatResult.Dropped(DropReason.NoMapping);
        if (now >= _mappings[i].Expiry)
        {
            RemoveAt(i);
            return NatResult.Dropped(DropReason.MappingExpired);
        }
        ref Mapping m = ref _mappings[i];
        if (!Admits(in m, externalSrc)) return NatResult.Dropped(DropReason.Filtered);
        if (Behaviour.InboundRefreshes) m.Expiry = now + Behaviour.MappingLifetime;
        return NatResult.Pass(Ip4Endpoint.FromPacked(m.Internal));
    }

    /// <summary>Removes every expired mapping; returns how many.</summary>
    public int Sweep(Instant now)
    {
        int removed = 0;
        for (int i = _count - 1; i >= 0; i--)
        {
            if (now < _mappings[i].Expiry) continue;
            RemoveAt(i); // moves the last mapping (already visited) into i
            removed++;
        }
        return removed;
    }

    /// <summary>The earliest expiry of a held mapping, or null when the box is empty.</summary>
    public Instant? PollTimeout()
    {
        Instant? earliest = null;
        for (int i = 0; i < _count; i++) earliest = Instant.Earliest(earliest, _mappings[i].Expiry);
        return earliest;
    }

    /// <summary>Same as Sweep; early calls are harmless.</summary>
    public void HandleTimeout(Instant now) => Sweep(now);

    /// <summary>Fault: the box forgets every mapping, as when it reboots.</summary>
    public void ExpireAll()
    {
        Array.Clear(_mappings, 0, _count);
        _count = 0;
        _byKey?.Clear();
        _byPort?.Clear();
    }

    /// <summary>Fault: every live mapping moves to a port no mapping held before (its permissions and lifetime stay).</summary>
    public void Rebind(Instant now)
    {
        Sweep(now);
        var reserved = new HashSet<ushort>();
        for (int i = 0; i < _count; i++) reserved.Add(_mappings[i].Port);
        var fresh = new ushort[_count];
        for (int i = 0; i < _count; i++)
        {
            // While choosing, every old port stays held, so no mapping lands on another's old port
            // (a packet meant for one host must not reach another); when the range is too
            // crowded for that, the mapping keeps its port.
            int port = AllocatePort(now, Ip4Endpoint.FromPacked(_mappings[i].Internal).Port, reserved);
            fresh[i] = port < 0 ? _mappings[i].Port : (ushort)port;
            reserved.Add(fresh[i]);
        }
        _byPort?.Clear();
        for (int i = 0; i < _count; i++)
        {
            _mappings[i].Port = fresh[i];
            _byPort?.Add(fresh[i], i);
        }
    }

    public void CheckInvariants()
    {
        if (_count > Behaviour.MappingsMax) throw new InvalidOperationException($"NAT {Ip4.Format(PublicAddress)} holds {_count} mappings, more than MappingsMax {Behaviour.MappingsMax}");
        var ports = new HashSet<ushort>();
        var keys = new HashSet<(ulong, ulong)>();
        for (int i = 0; i < _count; i++)
        {
            ref readonly Mapping m = ref _mappings[i];
            if (m.Port < NatBehaviour.PortFirst) throw new InvalidOperationException($"mapping {i} has external port {m.Port} below {NatBehaviour.PortFirst}");
            if (!ports.Add(m.Port)) throw new InvalidOperationException($"external port {m.Port} is held by two mappings");
            if (!keys.Add((m.Internal, m.DestinationKey))) throw new InvalidOperationException($"two mappings for {Ip4Endpoint.FromPacked(m.Internal)} share one destination key");
            if (Behaviour.Mapping == NatDependence.EndpointIndependent && m.DestinationKey != 0) throw new InvalidOperationException("an endpoint-independent mapping has a destination key");
            if (m.PermissionCount > Behaviour.PermissionsPerMappingMax) throw new InvalidOperationException($"mapping {i} remembers {m.PermissionCount} destinations, more than {Behaviour.PermissionsPerMappingMax}");
            if (_byKey is not null && (!_byKey.TryGetValue((m.Internal, m.DestinationKey), out int k) || k != i)) throw new InvalidOperationException($"key index is wrong for mapping {i}");
            if (_byPort is not null && (!_byPort.TryGetValue(m.Port, out int p) || p != i)) throw new InvalidOperationException($"port index is wrong for mapping {i}");
        }
        if (_byKey is not null && (_byKey.Count != _count || _byPort!.Count != _count)) throw new InvalidOperationException("an index holds entries for removed mappings");
    }

    private static ulong DestinationKey(NatDependence mapping, Ip4Endpoint dst) => mapping switch
    {
        NatDependence.EndpointIndependent => 0,
        NatDependence.AddressDependent => (ulong)dst.Address << 16,
        _ => dst.Packed,
    };

    private static ulong FilterKey(NatDependence filtering, Ip4Endpoint endpoint) =>
        filtering == NatDependence.AddressDependent ? (ulong)endpoint.Address << 16 : endpoint.Packed;

    private bool Admits(in Mapping m, Ip4Endpoint src)
    {
        if (Behaviour.Filtering == NatDependence.EndpointIndependent) return true;
        ulong key = FilterKey(Behaviour.Filtering, src);
        var permissions = m.Permissions;
        for (int j = 0; j < m.PermissionCount; j++)
            if (permissions![j] == key) return true;
        return false;
    }

    private void Permit(ref Mapping m, ulong key)
    {
        for (int j = 0; j < m.PermissionCount; j++)
            if (m.Permissions![j] == key) return;
        int max = Behaviour.PermissionsPerMappingMax;
        if (m.PermissionCount == max)
        {
            // Full: overwrite the oldest (the ring only wraps once the array has reached max).
            m.Permissions![m.PermissionNext] = key;
            m.PermissionNext = (m.PermissionNext + 1) % max;
            return;
        }
        if (m.Permissions is null || m.PermissionCount == m.Permissions.Length)
            Array.Resize(ref m.Permissions, Math.Min(max, Math.Max(2, m.PermissionCount * 2)));
        m.Permissions[m.PermissionCount++] = key;
    }

    /// <summary>A free external port not reserved, or -1. A port held by an expired mapping counts as free (that mapping goes).</summary>
    private int AllocatePort(Instant now, ushort internalPort, HashSet<ushort>? reserved)
    {
        int start = Behaviour.PortAssignment switch
        {
            PortAssignment.Preserve when internalPort >= NatBehaviour.PortFirst => internalPort,
            PortAssignment.Random => NatBehaviour.PortFirst + _random!.NextInt(NatBehaviour.PortCount),
            _ => _sequentialNext,
        };
        for (int k = 0; k < NatBehaviour.PortCount; k++)
        {
            int port = NatBehaviour.PortFirst + (start - NatBehaviour.PortFirst + k) % NatBehaviour.PortCount;
            if (reserved is not null && reserved.Contains((ushort)port)) continue;
            int holder = FindByPort((ushort)port);
            if (holder >= 0)
            {
                if (now < _mappings[holder].Expiry) continue;
                RemoveAt(holder);
            }
            if (Behaviour.PortAssignment != PortAssignment.Random) _sequentialNext = port == NatBehaviour.PortLast ? NatBehaviour.PortFirst : port + 1;
            return port;
        }
        return -1;
    }

    private int FindByKey(ulong internalPacked, ulong destinationKey)
    {
        if (_byKey is not null) return _byKey.TryGetValue((internalPacked, destinationKey), out int i) ? i : -1;
        for (int i = 0; i < _count; i++)
            if (_mappings[i].Internal == internalPacked && _mappings[i].DestinationKey == destinationKey) return i;
        return -1;
    }

    private int FindByPort(ushort port)
    {
        if (_byPort is not null) return _byPort.TryGetValue(port, out int i) ? i : -1;
        for (int i = 0; i < _count; i++)
            if (_mappings[i].Port == port) return i;
        return -1;
    }

    private int Insert(Mapping m)
    {
        if (_count == _mappings.Length) Array.Resize(ref _mappings, Math.Min(Behaviour.MappingsMax, Math.Max(2, _count * 2)));
        int i = _count++;
        _mappings[i] = m;
        if (_byKey is null && _count > IndexThreshold)
        {
            _byKey = new Dictionary<(ulong, ulong), int>(_count * 2);
            _byPort = new Dictionary<ushort, int>(_count * 2);
            for (int j = 0; j < _count; j++)
            {
                _byKey.Add((_mappings[j].Internal, _mappings[j].DestinationKey), j);
                _byPort.Add(_mappings[j].Port, j);
            }
        }
        else if (_byKey is not null)
        {
            _byKey.Add((m.Internal, m.DestinationKey), i);
            _byPort!.Add(m.Port, i);
        }
        return i;
    }

    private void RemoveAt(int i)
    {
        int last = _count - 1;
        if (_byKey is not null)
        {
            _byKey.Remove((_mappings[i].Internal, _mappings[i].DestinationKey));
            _byPort!.Remove(_mappings[i].Port);
            if (i != last)
            {
                _byKey[(_mappings[last].Internal, _mappings[last].DestinationKey)] = i;
                _byPort[_mappings[last].Port] = i;
            }
        }
        _mappings[i] = _mappings[last];
        _mappings[last] = default;
        _count = last;
    }
}
