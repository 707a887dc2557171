// Why the virtual network dropped a packet, and the result of one NAT translation. Drops are
// ordinary outcomes (a NAT filtering a packet is the behaviour under study), so they are values,
// not exceptions; the simulator counts them by reason.
namespace EdgeVpn.Sim.Net;

public enum DropReason
{
    /// <summary>Not a drop: the packet went through.</summary>
    None = 0,
    /// <summary>The source address belongs to no registered host.</summary>
    UnknownSource,
    /// <summary>No host or NAT at the destination, or a private destination outside the sender's site.</summary>
    NoRoute,
    /// <summary>An outbound packet needed a new mapping and the box already holds MappingsMax live ones.</summary>
    TableFull,
    /// <summary>An inbound packet to a public port that no mapping holds.</summary>
    NoMapping,
    /// <summary>An inbound packet to a mapping that outlived its lifetime without a refresh.</summary>
    MappingExpired,
    /// <summary>The mapping exists but its filtering behaviour refuses this source.</summary>
    Filtered,
    /// <summary>A packet from inside to the box's own public address, and the box does not hairpin.</summary>
    HairpinDisabled,
    /// <summary>An endpoint that is not IPv4 (only IPv4 is modelled).</summary>
    NotIpv4,
}

/// <summary>A translated endpoint, or the reason there is none.</summary>
public readonly record struct NatResult(Ip4Endpoint Endpoint, DropReason Drop)
{
    public bool Ok => Drop == DropReason.None;
    public static NatResult Pass(Ip4Endpoint endpoint) => new(endpoint, DropReason.None);
    public static NatResult Dropped(DropReason reason) => new(default, reason);
    public override string ToString() => Ok ? Endpoint.ToString() : $"drop({Drop})";
}
