// The unreliable datagram path a DTLS link runs on. The ICE layer implements it for the
// selected candidate pair (host, server-reflexive or TURN-relayed: the link does not care);
// DatagramPipe implements it in memory for tests and benchmarks.
// Contract:
//   - Send is best effort and never blocks for long: a datagram may be lost, duplicated or
//     reordered, exactly like UDP. It may be called from several threads at once.
//   - DatagramBytesMax is the largest payload the path carries unfragmented (after any TURN
//     ChannelData overhead); the link never sends more.
//   - SetReceiver is called once, before the first Send; from then on every datagram that
//     arrives for this link is handed to the receiver, on the transport's own thread, one at a
//     time (the receiver copies what it keeps). The transport demultiplexes (RFC 7983: first
//     byte 20..63 is DTLS) before calling it, but the receiver still treats every byte as hostile.
namespace EdgeVpn.RealNode.Dtls;

public delegate void DatagramReceiver(ReadOnlySpan<byte> datagram);

public interface IDatagramTransport
{
    int DatagramBytesMax { get; }
    void Send(ReadOnlySpan<byte> datagram);
    void SetReceiver(DatagramReceiver receiver);
}
