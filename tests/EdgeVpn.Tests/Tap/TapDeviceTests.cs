// The tap adapter against the real kernel (root and /dev/net/tun needed, else skipped with the
// reason): a device is created as a tap without packet information, takes its MTU, MAC and IPv4
// address and comes up as `ip -j` reports them; the kernel's ARP request for a neighbour on the
// tap's subnet is read from the device and our written ARP reply is learned by the kernel; the
// device disappears on Dispose; a taken name or a bad name fails with a message that says why.
// Waits are liveness bounds, never timing assertions.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.RealNode.Tap;
using Xunit;

namespace EdgeVpn.Tests.Tap;

public sealed class TapDeviceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly MacAddress TapMac = MacAddress.Parse("02:00:5e:10:00:01").Value;
    private static readonly MacAddress NeighbourMac = MacAddress.Parse("02:00:5e:10:00:02").Value;

    [TapFact]
    public void A_tap_is_created_without_packet_information_and_ip_reports_its_mtu_mac_address_and_up_state()
    {
        string name = TapTestKit.UniqueName();
        string subnet = TapTestKit.Subnet(0);
        using var tap = TapDevice.Create(name);
        Assert.Equal(name, tap.Name);
        tap.SetMac(TapMac.Value);
        tap.SetMtu(1400);
        tap.SetIPv4(IPAddress.Parse(subnet + ".1"), 24);
        tap.SetUp();

        var link = TapTestKit.IpJson($"-d addr show dev {name}")[0];
        Assert.Equal(1400, link.GetProperty("mtu").GetInt32());
        Assert.Equal(1400, tap.GetMtu());
        Assert.Equal(TapMac.ToString(), link.GetProperty("address").GetString());
        Assert.Equal(TapMac.Value, tap.GetMac());
        Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var info = link.GetProperty("linkinfo");
        Assert.Equal("tun", info.GetProperty("info_kind").GetString());
        Assert.Equal("tap", info.GetProperty("info_data").GetProperty("type").GetString());
        Assert.False(info.GetProperty("info_data").GetProperty("pi").GetBoolean());
        var inet = link.GetProperty("addr_info").EnumerateArray().Single(a => a.GetProperty("family").GetString() == "inet");
        Assert.Equal(subnet + ".1", inet.GetProperty("local").GetString());
        Assert.Equal(24, inet.GetProperty("prefixlen").GetInt32());
    }

    [TapFact]
    public void The_kernels_arp_request_is_read_from_the_tap_and_a_written_arp_reply_is_learned()
    {
        string name = TapTestKit.UniqueName();
        string subnet = TapTestKit.Subnet(1);
        var own = IPAddress.Parse(subnet + ".1");
        var neighbour = IPAddress.Parse(subnet + ".2");
        // Declared before the tap, so disposed after it: the tap's Dispose joins its reader thread,
        // which could otherwise hand a late frame (the kernel's IPv6 chatter) to a disposed
        // collection and crash the test host (seen once in CI).
        using var frames = new BlockingCollection<byte[]>(1024);
        using var tap = TapDevice.Create(name);
        tap.SetMac(TapMac.Value);
        tap.SetIPv4(own, 24);
        tap.SetUp();
        tap.StartReading(f => frames.TryAdd(f.ToArray()));

        // Any datagram to the neighbour makes the kernel resolve it: an ARP request out of the tap.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            socket.SendTo([1, 2, 3], new IPEndPoint(neighbour, 9));
        ArpPacket request = WaitForArp(frames, a => a.Operation == ArpOperation.Request && a.TargetIp == Ipv4(neighbour));
        Assert.Equal(TapMac, request.SenderMac);
        Assert.Equal(Ipv4(own), request.SenderIp);

        var reply = new ArpPacket(ArpOperation.Reply, NeighbourMac, Ipv4(neighbour), TapMac, Ipv4(own));
        Assert.True(tap.WriteFrame(reply.ToFrame()));
        Assert.Equal(1, tap.FramesWritten);

        // The kernel handles a written frame asynchronously (softirq): look until it shows, within the bound.
        var deadline = DateTime.UtcNow + Bound;
        string? learned = null;
        while (learned is null && DateTime.UtcNow < deadline)
        {
            learned = TapTestKit.IpJson($"neigh show dev {name}").EnumerateArray()
                .Where(n => n.GetProperty("dst").GetString() == neighbour.ToString() && n.TryGetProperty("lladdr", out _))
                .Select(n => n.GetProperty("lladdr").GetString()).FirstOrDefault();
            if (learned is null) Thread.Sleep(10);  // polling within the liveness bound, not timing anything
        }
        Assert.Equal(NeighbourMac.ToString(), learned);
    }

    [TapFact]
    public void Dispose_removes_the_device_and_stops_the_reader()
    {
        string name = TapTestKit.UniqueName();
        var tap = TapDevice.Create(name);
        tap.StartReading(_ => { });
        Assert.True(TapTestKit.DeviceExists(name));
        tap.Dispose();
        Assert.False(TapTestKit.DeviceExists(name));
        Assert.False(tap.WriteFrame(new byte[60]));
    }

    [TapFact]
    public void A_name_held_by_another_open_tap_is_refused_with_a_reason()
    {
        string name = TapTestKit.UniqueName();
        using var first = TapDevice.Create(name);
        var e = Assert.Throws<TapException>(() => TapDevice.Create(name));
        Assert.Contains("in use", e.Message);
        Assert.Contains("choose another tap name", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("much-too-long-name0")]
    [InlineData("a/b")]
    public void An_invalid_interface_name_is_refused_before_any_system_call(string name)
    {
        var e = Assert.Throws<TapException>(() => TapDevice.Create(name));
        Assert.Contains("not a valid interface name", e.Message);
    }

    [TapFact]
    public void Out_of_range_configuration_is_refused_with_the_limits()
    {
        using var tap = TapDevice.Create(TapTestKit.UniqueName());
        Assert.Contains("outside [576, 9000]", Assert.Throws<TapException>(() => tap.SetMtu(100)).Message);
        Assert.Contains("prefix length 33", Assert.Throws<TapException>(() => tap.SetIPv4(IPAddress.Parse("10.0.0.1"), 33)).Message);
        Assert.Contains("not an IPv4 address", Assert.Throws<TapException>(() => tap.SetIPv4(IPAddress.IPv6Loopback, 64)).Message);
        Assert.Contains("group", Assert.Throws<TapException>(() => tap.SetMac(0x01005E000001)).Message);
    }

    private static uint Ipv4(IPAddress address) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static ArpPacket WaitForArp(BlockingCollection<byte[]> frames, Func<ArpPacket, bool> match)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            byte[] frame = frames.Take(bound.Token);  // throws OperationCanceledException after the bound
            var ethernet = EthernetFrame.Parse(frame);
            if (!ethernet.Ok) continue;
            var arp = ArpPacket.FromFrame(ethernet.Value);
            if (arp.Ok && match(arp.Value)) return arp.Value;
        }
    }
}
