// Settings of the ICE+DTLS link transport (IceDtlsLinkTransport): the ICE link every link end
// starts from (servers, interfaces, queue bounds; the role is set per link and the seed is drawn
// per link), where each new link reads its STUN/TURN servers (Servers: the node's
// ServerAddressBook, whose addresses change while the node runs), the DTLS timing, where sockets are opened (tests open them inside a network
// namespace), the clock and the log. Never log this record: the TURN password is inside Link.
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.RealNode.Link;

/// <summary>Opens one ICE link end (binds its sockets); IceLink.Open by default.</summary>
public delegate IceLink IceLinkOpener(IceLinkOptions options, TimeProvider time, Action<string> log, string name);

public sealed record IceDtlsTransportOptions
{
    public IceDtlsTransportOptions(IceLinkOptions link) => Link = link;

    /// <summary>The template of every link end; Ice.Role is replaced by the link's role, Seed by a fresh one.</summary>
    public IceLinkOptions Link { get; init; }
    /// <summary>Read once per link setup (thread-safe): its servers replace Link.Ice's; links already up keep
    /// theirs. Null: Link.Ice's servers for every link.</summary>
    public Func<IceServers>? Servers { get; init; }
    public DtlsConfig Dtls { get; init; } = DtlsConfig.Default;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public IceLinkOpener Open { get; init; } = (options, time, log, name) => IceLink.Open(options, time, log, name);
    /// <summary>Thread-safe; ICE and DTLS details at Debug, link state changes at Info.</summary>
    public HostLog Log { get; init; } = (_, _) => { };
    /// <summary>Dispose waits at most this long for the link ends still closing (TURN deallocation, DTLS close_notify).</summary>
    public TimeSpan DisposeBound { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest tap MTU these links carry: an Ethernet header (14) and a frame record (25) ride on top of it.</summary>
    public int MtuMax => MtuMaxFor(Link.DatagramBytesMax);

    public static int MtuMaxFor(int datagramBytesMax) => datagramBytesMax - EthernetHeaderBytes - FrameRecord.OverheadBytes;

    public const int EthernetHeaderBytes = 14;
}
