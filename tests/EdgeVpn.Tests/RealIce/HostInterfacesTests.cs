// Which host addresses become ICE host candidates (HostInterfaces.Select), over hand-built
// interface snapshots, and the RFC 7983 gate in front of the agent (DatagramGate).
using System.Net;
using EdgeVpn.RealNode.Ice;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.RealIce;

public class HostInterfacesTests
{
    private static readonly HostInterface Lo = new("lo", true, true, [IPAddress.Loopback, IPAddress.IPv6Loopback]);
    private static readonly HostInterface Eth = new("eth0", true, false, [IPAddress.Parse("10.0.1.2"), IPAddress.Parse("fe80::1"), IPAddress.Parse("2001:db8::2")]);
    private static readonly HostInterface Down = new("eth1", false, false, [IPAddress.Parse("10.9.9.9")]);
    private static readonly HostInterface Tap = new("evpn0", true, false, [IPAddress.Parse("10.254.0.1")]);

    [Fact]
    public void Loopback_down_interfaces_and_link_local_addresses_are_skipped_by_default()
    {
        var chosen = HostInterfaces.Select([Lo, Eth, Down, Tap], new HostInterfaceOptions());
        Assert.Equal([IPAddress.Parse("10.0.1.2"), IPAddress.Parse("2001:db8::2"), IPAddress.Parse("10.254.0.1")], chosen);
    }

    [Fact]
    public void Loopback_is_used_only_when_configured_and_excluded_interfaces_never()
    {
        var chosen = HostInterfaces.Select([Lo, Eth, Tap], new HostInterfaceOptions { IncludeLoopback = true, IncludeIpv6 = false, ExcludedInterfaces = ["evpn0"] });
        Assert.Equal([IPAddress.Loopback, IPAddress.Parse("10.0.1.2")], chosen);
    }

    [Fact]
    public void The_number_of_addresses_is_bounded()
    {
        var many = new HostInterface("big", true, false, [.. Enumerable.Range(1, 50).Select(i => IPAddress.Parse($"10.0.0.{i}"))]);
        Assert.Equal(3, HostInterfaces.Select([many], new HostInterfaceOptions { AddressesMax = 3 }).Count);
    }

    [Fact]
    public void Configured_addresses_replace_the_enumeration()
    {
        var chosen = HostInterfaces.Choose(new HostInterfaceOptions { Addresses = [IPAddress.Parse("192.0.2.7")] });
        Assert.Equal([IPAddress.Parse("192.0.2.7")], chosen);
    }

    [Fact]
    public void The_gate_passes_stun_channel_data_and_dtls_and_names_what_it_drops()
    {
        Assert.Null(DatagramGate.Refusal(new byte[20]));                       // STUN header
        Assert.Null(DatagramGate.Refusal([0x40, 0x00, 0x00, 0x00]));           // ChannelData, channel 0x4000
        Assert.Null(DatagramGate.Refusal([22, 254, 253, .. new byte[10]]));    // DTLS handshake record header
        Assert.Equal("empty datagram", DatagramGate.Refusal([]));
        Assert.Contains("shorter than a STUN header", DatagramGate.Refusal([0, 1, 0, 0]));
        Assert.Contains("shorter than a DTLS record header", DatagramGate.Refusal([23, 254, 253]));
        Assert.Contains("first byte 0x80 is Rtp", DatagramGate.Refusal([0x80, 0, 0, 0]));
        Assert.Contains("first byte 0xff is Unknown", DatagramGate.Refusal([0xff]));
    }

    [Fact]
    public void The_gate_never_throws_and_passes_exactly_the_three_kinds_long_enough()
    {
        Check(Bytes(40), bytes =>
        {
            var why = DatagramGate.Refusal(bytes);
            bool passes = bytes.Length > 0 && (bytes[0] <= 3 && bytes.Length >= 20 || bytes[0] is >= 64 and <= 79 && bytes.Length >= 4
                || bytes[0] is >= 20 and <= 63 && bytes.Length >= 13);
            return passes == (why is null);
        }, maxTest: 2000);
    }
}
