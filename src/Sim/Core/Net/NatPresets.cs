// The named NAT presets and the text form researchers write on a command line or in an
// experiment file: "preset[,key=value]...", for example "symmetric", "port-restricted,hairpin=off"
// or "full-cone,mapping=adm,lifetime=30s,ports=random".
// Presets (the classic STUN names, RFC 3489, restated as RFC 4787 behaviours):
//   none             no NAT: a public host
//   full-cone        EIM + EIF
//   restricted-cone  EIM + ADF
//   port-restricted  EIM + APDF
//   symmetric        APDM + APDF
// Keys: mapping=eim|adm|apdm, filtering=eif|adf|apdf, lifetime=<seconds>[s], inbound-refresh=on|off,
// hairpin=on|off, ports=preserve|sequential|random, mappings-max=<n>, permissions-max=<n>.
// Parse never throws: an unknown preset or key, a malformed value or a behaviour that fails
// NatBehaviour.Validate comes back as a one-line error naming the culprit.
using System.Globalization;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.Net;

public static class NatPresets
{
    public const int TextLengthMax = 512;

    public static readonly NatBehaviour None = new() { Public = true };
    public static readonly NatBehaviour FullCone = Cone(NatDependence.EndpointIndependent);
    public static readonly NatBehaviour RestrictedCone = Cone(NatDependence.AddressDependent);
    public static readonly NatBehaviour PortRestricted = Cone(NatDependence.AddressAndPortDependent);
    public static readonly NatBehaviour Symmetric = new()
    {
        Mapping = NatDependence.AddressAndPortDependent,
        Filtering = NatDependence.AddressAndPortDependent,
    };

    /// <summary>The preset names in a fixed order (the order experiments and tests enumerate them).</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "full-cone", "restricted-cone", "port-restricted", "symmetric"];

    public static NatBehaviour ByName(string name) => Parse(name).Value;

    public static ParseResult<NatBehaviour> Parse(string? text)
    {
        if (text is null) return ParseResult<NatBehaviour>.Fail("no NAT behaviour given");
        if (text.Length > TextLengthMax) return ParseResult<NatBehaviour>.Fail($"NAT behaviour text is longer than {TextLengthMax} characters");
        string[] parts = text.Split(',');
        string name = parts[0].Trim().ToLowerInvariant();
        NatBehaviour? b = name switch
        {
            "none" => None,
            "full-cone" => FullCone,
            "restricted-cone" => RestrictedCone,
            "port-restricted" => PortRestricted,
            "symmetric" => Symmetric,
            _ => null,
        };
        if (b is null)
            return ParseResult<NatBehaviour>.Fail($"unknown NAT preset '{Printable(parts[0].Trim())}' (expected one of: {string.Join(", ", Names)})");
        if (b.Public && parts.Length > 1) return ParseResult<NatBehaviour>.Fail("'none' means no NAT and takes no options");
        for (int i = 1; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return ParseResult<NatBehaviour>.Fail($"NAT option '{Printable(part)}' is not key=value");
            string key = part[..eq].Trim().ToLowerInvariant();
            string value = part[(eq + 1)..].Trim().ToLowerInvariant();
            var next = Apply(b, key, value);
            if (!next.Ok) return next;
            b = next.Value;
        }
        string? error = b.Validate();
        return error is null ? b : ParseResult<NatBehaviour>.Fail(error);
    }

    private static ParseResult<NatBehaviour> Apply(NatBehaviour b, string key, string value)
    {
        string bad = $"bad value '{Printable(value)}' for NAT option '{key}'";
        switch (key)
        {
            case "mapping":
                return Dependence(value, 'm') is { } m ? b with { Mapping = m } : ParseResult<NatBehaviour>.Fail(bad + " (expected eim, adm or apdm)");
            case "filtering":
                return Dependence(value, 'f') is { } f ? b with { Filtering = f } : ParseResult<NatBehaviour>.Fail(bad + " (expected eif, adf or apdf)");
            case "lifetime":
                string seconds = value.EndsWith('s') ? value[..^1] : value;
                return double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s) && s > 0 && s <= 86400
                    ? b with { MappingLifetime = TimeSpan.FromSeconds(s) }
                    : ParseResult<NatBehaviour>.Fail(bad + " (expected seconds in (0, 86400])");
            case "inbound-refresh":
                return OnOff(value) is { } r ? b with { InboundRefreshes = r } : ParseResult<NatBehaviour>.Fail(bad + " (expected on or off)");
            case "hairpin":
                return OnOff(value) is { } h ? b with { Hairpinning = h } : ParseResult<NatBehaviour>.Fail(bad + " (expected on or off)");
            case "ports":
                return value switch
                {
                    "preserve" => b with { PortAssignment = PortAssignment.Preserve },
                    "sequential" => b with { PortAssignment = PortAssignment.Sequential },
                    "random" => b with { PortAssignment = PortAssignment.Random },
                    _ => ParseResult<NatBehaviour>.Fail(bad + " (expected preserve, sequential or random)"),
                };
            case "mappings-max":
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? b with { MappingsMax = n } : ParseResult<NatBehaviour>.Fail(bad + " (expected a whole number)");
            case "permissions-max":
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? b with { PermissionsPerMappingMax = p } : ParseResult<NatBehaviour>.Fail(bad + " (expected a whole number)");
            default:
                return ParseResult<NatBehaviour>.Fail($"unknown NAT option '{Printable(key)}' (expected mapping, filtering, lifetime, inbound-refresh, hairpin, ports, mappings-max or permissions-max)");
        }
    }

    private static NatDependence? Dependence(string value, char suffix) =>
        value == "ei" + suffix ? NatDependence.EndpointIndependent
        : value == "ad" + suffix ? NatDependence.AddressDependent
        : value == "apd" + suffix ? NatDependence.AddressAndPortDependent
        : null;

    private static bool? OnOff(string value) => value switch { "on" or "true" or "yes" => true, "off" or "false" or "no" => false, _ => null };

    /// <summary>Untrusted text echoed in an error: control characters replaced, length capped.</summary>
    private static string Printable(string s) => Protocol.Core.Printable.Of(s, 40);

    private static NatBehaviour Cone(NatDependence filtering) => new()
    {
        Mapping = NatDependence.EndpointIndependent,
        Filtering = filtering,
    };
}
