// The node's local port on a real tap device (ILocalPort): frames the node delivers locally are
// written to the tap; frames the kernel sends out of the tap are handed to the host loop (as
// HostEvent.LocalFrame, through the post function given to Start). Configured from the config's
// Tap section: created (or attached) by name, MTU set, IPv4 address and prefix assigned, up.
// The MTU must leave room on the link: MTU + 14 (Ethernet header) + 25 (frame record) must not
// exceed the link datagram size; Create refuses a larger one with the numbers, so a frame the
// kernel hands us always fits a link datagram (the config parser checks the same).
// Threads: the tap's own reader thread posts; a post refused because the host's channel is full
// drops the frame (a busy node slows nothing down; TCP above recovers) and counts it.
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Host;

namespace EdgeVpn.RealNode.Tap;

public sealed class TapPort : ILocalPort
{
    private readonly TapDevice _device;
    private long _dropped;

    private TapPort(TapDevice device) => _device = device;

    public TapDevice Device => _device;
    /// <summary>Frames read from the tap that the host had no room for.</summary>
    public long DroppedIn => Interlocked.Read(ref _dropped);

    /// <summary>Creates and configures the tap; throws TapException (with what to do) on any failure.</summary>
    public static TapPort Create(TapSettings settings, int datagramBytesMax)
    {
        int overhead = NodeConfigParser.LinkFrameOverheadBytes;
        if (settings.Mtu + overhead > datagramBytesMax)
            throw new TapException($"tap {settings.Name}: MTU {settings.Mtu} + 14 (Ethernet header) + 25 (frame record) = {settings.Mtu + overhead} exceeds the link datagram size {datagramBytesMax}; use an MTU of at most {datagramBytesMax - overhead}");
        if (settings.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new TapException($"tap {settings.Name}: only IPv4 tap addresses are supported, not {settings.Address}");
        var device = TapDevice.Create(settings.Name);
        try
        {
            device.SetMtu(settings.Mtu);
            device.SetIPv4(settings.Address, settings.PrefixLength);
            device.SetUp();
            return new TapPort(device);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Starts reading: each frame is copied and posted; post returns false when the host has no room.</summary>
    public void Start(Func<byte[], bool> post, Action<string> log) =>
        _device.StartReading(frame =>
        {
            if (!post(frame.ToArray())) Interlocked.Increment(ref _dropped);
        }, log);

    public void Deliver(byte[] frame) => _device.WriteFrame(frame);

    public void Dispose() => _device.Dispose();
}
