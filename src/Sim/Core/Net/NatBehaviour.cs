// How one virtual NAT box behaves, in the vocabulary of RFC 4787 (NAT behavioural requirements
// for unicast UDP):
// - Mapping: which outbound packets of one internal endpoint share one external endpoint.
//   EndpointIndependent: all of them (REQ-1); AddressDependent: those to the same destination
//   address; AddressAndPortDependent: those to the same destination address and port
//   ("symmetric").
// - Filtering: which inbound packets a mapping admits. EndpointIndependent: any; AddressDependent:
//   only from an address the mapping has sent to; AddressAndPortDependent: only from an exact
//   address and port it has sent to.
// - MappingLifetime: a mapping idle this long is gone (REQ-5: at least 2 minutes by default;
//   shorter values are allowed for experiments). Outbound packets always refresh it (REQ-6);
//   inbound ones do too when InboundRefreshes.
// - Hairpinning: a packet from inside to the box's own public address is turned around (REQ-9).
// - PortAssignment: how the external port of a new mapping is chosen.
// - MappingsMax and PermissionsPerMappingMax bound the memory of one box.
// Public = true means "no NAT at all": the host sits directly on the public network and every
// other field is ignored. Validate() names the first bad field; the presets and the text parser
// live in NatPresets.
namespace EdgeVpn.Sim.Net;

/// <summary>RFC 4787 mapping and filtering behaviours share these three values.</summary>
public enum NatDependence
{
    EndpointIndependent,
    AddressDependent,
    AddressAndPortDependent,
}

public enum PortAssignment
{
    /// <summary>Keep the internal port when it is free on the public side, else the next free one.</summary>
    Preserve,
    /// <summary>The next free port after the last one assigned.</summary>
    Sequential,
    /// <summary>A uniformly random free port, drawn from the box's seeded generator.</summary>
    Random,
}

public sealed record NatBehaviour
{
    /// <summary>External ports a box assigns: the non-privileged range.</summary>
    public const ushort PortFirst = 1024;
    public const ushort PortLast = 65535;
    public const int PortCount = PortLast - PortFirst + 1;

    public bool Public { get; init; }
    public NatDependence Mapping { get; init; } = NatDependence.EndpointIndependent;
    public NatDependence Filtering { get; init; } = NatDependence.EndpointIndependent;
    public TimeSpan MappingLifetime { get; init; } = TimeSpan.FromSeconds(120);
    public bool InboundRefreshes { get; init; }
    public bool Hairpinning { get; init; } = true;
    public PortAssignment PortAssignment { get; init; } = PortAssignment.Preserve;
    public int MappingsMax { get; init; } = 4096;
    /// <summary>Destinations a mapping remembers for filtering; the oldest is forgotten first.</summary>
    public int PermissionsPerMappingMax { get; init; } = 64;

    /// <summary>The first thing wrong with this behaviour, or null when it is usable.</summary>
    public string? Validate()
    {
        if (Public) return null;
        if (!Enum.IsDefined(Mapping)) return $"mapping behaviour {(int)Mapping} is not one of {string.Join(", ", Enum.GetNames<NatDependence>())}";
        if (!Enum.IsDefined(Filtering)) return $"filtering behaviour {(int)Filtering} is not one of {string.Join(", ", Enum.GetNames<NatDependence>())}";
        if (!Enum.IsDefined(PortAssignment)) return $"port assignment {(int)PortAssignment} is not one of {string.Join(", ", Enum.GetNames<PortAssignment>())}";
        if (MappingLifetime <= TimeSpan.Zero) return $"MappingLifetime must be positive, got {MappingLifetime}";
        if (MappingLifetime > TimeSpan.FromDays(1)) return $"MappingLifetime must be at most one day, got {MappingLifetime}";
        if (MappingsMax < 1 || MappingsMax > PortCount)
            return $"MappingsMax must be between 1 and {PortCount} (one external port per mapping), got {MappingsMax}";
        if (PermissionsPerMappingMax < 1 || PermissionsPerMappingMax > 4096)
            return $"PermissionsPerMappingMax must be between 1 and 4096, got {PermissionsPerMappingMax}";
        return null;
    }

    /// <summary>Short form for traces: "none" or e.g. "EIM/APDF 120s hairpin preserve".</summary>
    public override string ToString() => Public
        ? "none"
        : $"{Short(Mapping)}M/{Short(Filtering)}F {MappingLifetime.TotalSeconds}s{(InboundRefreshes ? " inbound-refresh" : "")}" +
          $"{(Hairpinning ? " hairpin" : "")} {PortAssignment.ToString().ToLowerInvariant()} max={MappingsMax}";

    internal static string Short(NatDependence d) => d switch
    {
        NatDependence.EndpointIndependent => "EI",
        NatDependence.AddressDependent => "AD",
        NatDependence.AddressAndPortDependent => "APD",
        _ => "?",
    };
}
