// The hosts behind each simulated node's tap: node i has MAC 02:00:xx:xx:xx:xx (i + 1) and IPv4
// 10.0.0.0 + i + 1. A host answers an ARP request for its own address with a unicast reply, as a
// real kernel would; this is what exercises flow learning end to end in the flood experiment.
using EdgeVpn.Protocol.Frames;

namespace EdgeVpn.Sim.Experiments;

public static class VirtualHosts
{
    public static MacAddress MacOf(int node) => MacAddress.LocalFrom((ulong)node + 1);
    public static uint IpOf(int node) => 0x0A00_0000u + (uint)node + 1;

    public static byte[] ArpRequest(int from, int target) =>
        new ArpPacket(ArpOperation.Request, MacOf(from), IpOf(from), MacAddress.Zero, IpOf(target)).ToFrame();

    /// <summary>The reply host `node` sends for a frame delivered to its tap, or null if none is due.</summary>
    public static byte[]? Answer(int node, byte[] frame)
    {
        var eth = EthernetFrame.Parse(frame);
        if (!eth.Ok || eth.Value.EtherType != EthernetFrame.EtherTypeArp) return null;
        var arp = ArpPacket.FromFrame(eth.Value);
        if (!arp.Ok || arp.Value.Operation != ArpOperation.Request || arp.Value.TargetIp != IpOf(node)) return null;
        return new ArpPacket(ArpOperation.Reply, MacOf(node), IpOf(node), arp.Value.SenderMac, arp.Value.SenderIp).ToFrame();
    }

    public static bool IsArpReplyTo(byte[] frame, int node)
    {
        var eth = EthernetFrame.Parse(frame);
        if (!eth.Ok || eth.Value.EtherType != EthernetFrame.EtherTypeArp) return false;
        var arp = ArpPacket.FromFrame(eth.Value);
        return arp.Ok && arp.Value.Operation == ArpOperation.Reply && arp.Value.TargetIp == IpOf(node);
    }
}
