// The node's local port on a tap: made from the config's Tap section (MTU, address, up), it
// refuses an MTU whose frames would not fit a link datagram (MTU + 14 + 25) and an IPv6 address
// before touching the kernel; frames read from the tap are posted (copied) and a refused post is
// counted; frames delivered are written to the tap.
using System.Collections.Concurrent;
using System.Net;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Tap;
using Xunit;

namespace EdgeVpn.Tests.Tap;

public sealed class TapPortTests
{
    [Fact]
    public void An_MTU_whose_frames_would_not_fit_the_link_datagram_is_refused_with_the_numbers()
    {
        var e = Assert.Throws<TapException>(() => TapPort.Create(new TapSettings("evx0", IPAddress.Parse("10.9.0.1"), 24, 1422), 1460));
        Assert.Equal("tap evx0: MTU 1422 + 14 (Ethernet header) + 25 (frame record) = 1461 exceeds the link datagram size 1460; use an MTU of at most 1421", e.Message);
    }

    [Fact]
    public void An_IPv6_tap_address_is_refused_before_any_device_is_made()
    {
        var e = Assert.Throws<TapException>(() => TapPort.Create(new TapSettings("evx0", IPAddress.Parse("fd00::1"), 64, 1400), 1460));
        Assert.Contains("only IPv4", e.Message);
    }

    [TapFact]
    public void A_configured_port_is_up_with_its_MTU_and_address_and_posts_what_the_kernel_sends()
    {
        string name = TapTestKit.UniqueName();
        string subnet = TapTestKit.Subnet(3);
        using var port = TapPort.Create(new TapSettings(name, IPAddress.Parse(subnet + ".1"), 24, 1421), 1460);
        var link = TapTestKit.IpJson($"addr show dev {name}")[0];
        Assert.Equal(1421, link.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(subnet + ".1", link.GetProperty("addr_info").EnumerateArray().Single(a => a.GetProperty("family").GetString() == "inet").GetProperty("local").GetString());

        var posted = new BlockingCollection<byte[]>();
        bool accept = false;
        port.Start(frame => { if (!accept) { accept = true; return false; } posted.Add(frame); return true; }, _ => { });
        // Anything the kernel sends out of the tap (an ARP request for a neighbour on the subnet) is a frame for the node.
        TapTestKit.Run("bash", $"-c \"echo x > /dev/udp/{subnet}.2/9\"");   // the kernel asks ARP again when the first goes unanswered
        Assert.True(posted.TryTake(out var frame, TimeSpan.FromSeconds(30)), "no frame posted");
        Assert.True(frame.Length >= 14);
        Assert.True(port.DroppedIn >= 1);
    }
}
