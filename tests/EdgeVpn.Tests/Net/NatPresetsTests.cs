// The NAT presets and their text form: each preset is the RFC 4787 pair it is named after,
// options override single fields, and bad text of any kind is an error, never an exception.
using EdgeVpn.Sim.Net;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Net;

public class NatPresetsTests
{
    [Theory]
    [InlineData("full-cone", NatDependence.EndpointIndependent, NatDependence.EndpointIndependent)]
    [InlineData("restricted-cone", NatDependence.EndpointIndependent, NatDependence.AddressDependent)]
    [InlineData("port-restricted", NatDependence.EndpointIndependent, NatDependence.AddressAndPortDependent)]
    [InlineData("symmetric", NatDependence.AddressAndPortDependent, NatDependence.AddressAndPortDependent)]
    public void Each_preset_is_the_mapping_and_filtering_pair_it_is_named_after(string name, NatDependence mapping, NatDependence filtering)
    {
        var b = NatPresets.Parse(name).Value;
        Assert.False(b.Public);
        Assert.Equal((mapping, filtering), (b.Mapping, b.Filtering));
        Assert.Equal(TimeSpan.FromMinutes(2), b.MappingLifetime);
        Assert.Null(b.Validate());
    }

    [Fact]
    public void None_is_a_public_host_and_takes_no_options()
    {
        Assert.True(NatPresets.Parse(" None ").Value.Public);
        Assert.Contains("no options", NatPresets.Parse("none,hairpin=off").Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_preset_is_named_in_the_error_with_the_known_ones()
    {
        var r = NatPresets.Parse("cone");
        Assert.False(r.Ok);
        Assert.Contains("'cone'", r.Error, StringComparison.Ordinal);
        Assert.Contains("port-restricted", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_override_single_fields_of_the_preset()
    {
        var b = NatPresets.Parse("port-restricted, mapping=adm, lifetime=30s, inbound-refresh=on, hairpin=off, ports=random, mappings-max=10, permissions-max=3").Value;
        Assert.Equal(NatDependence.AddressDependent, b.Mapping);
        Assert.Equal(NatDependence.AddressAndPortDependent, b.Filtering);
        Assert.Equal(TimeSpan.FromSeconds(30), b.MappingLifetime);
        Assert.True(b.InboundRefreshes);
        Assert.False(b.Hairpinning);
        Assert.Equal(PortAssignment.Random, b.PortAssignment);
        Assert.Equal((10, 3), (b.MappingsMax, b.PermissionsPerMappingMax));
    }

    [Theory]
    [InlineData("symmetric,lifetime=0", "lifetime")]
    [InlineData("symmetric,lifetime=-5s", "lifetime")]
    [InlineData("symmetric,mappings-max=0", "MappingsMax")]
    [InlineData("symmetric,mappings-max=70000", "MappingsMax")]
    [InlineData("symmetric,permissions-max=0", "PermissionsPerMappingMax")]
    [InlineData("symmetric,filtering=xyz", "filtering")]
    [InlineData("symmetric,colour=blue", "unknown NAT option 'colour'")]
    [InlineData("symmetric,hairpin", "key=value")]
    [InlineData("", "unknown NAT preset ''")]
    public void Bad_values_are_refused_with_an_error_naming_them(string text, string expected)
    {
        var r = NatPresets.Parse(text);
        Assert.False(r.Ok);
        Assert.Contains(expected, r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_names_the_bad_field_of_a_hand_built_behaviour()
    {
        Assert.Contains("MappingLifetime", new NatBehaviour { MappingLifetime = TimeSpan.Zero }.Validate(), StringComparison.Ordinal);
        Assert.Contains("mapping behaviour", new NatBehaviour { Mapping = (NatDependence)7 }.Validate(), StringComparison.Ordinal);
        Assert.Null(NatPresets.None.Validate());
    }

    [Fact]
    public void Random_and_mutated_text_is_parsed_or_refused_but_never_throws()
    {
        var pieces = Gen.Elements("symmetric", "full-cone", "none", ",", "=", "lifetime", "mapping", "apdm", "on", "1e308", "-1", "NaN", " ", "\0", "ports", "random", "99999999999");
        var text = Gen.OneOf(
            Gen.ArrayOf(pieces).Select(p => string.Concat(p)),
            Bytes(80).Select(b => new string(b.Select(x => (char)x).ToArray())));
        Check(text, t =>
        {
            var r = NatPresets.Parse(t);
            return r.Ok ? r.Value.Validate() is null : !string.IsNullOrEmpty(r.Error);
        }, maxTest: 1000);
    }
}
