// The seam between a link's ICE transport and the layer above it (DTLS, then frames): one
// bidirectional datagram path over the pair ICE selected. The transport behind it may move from
// pair to pair (re-nomination), be direct or relayed through TURN; the layer above never sees
// candidates, STUN, ChannelData or sockets, only its own datagrams.
// Contract:
//  - Send is thread-safe and never blocks: the datagram is copied and queued for the ICE loop.
//    It returns false, and the datagram is dropped, when the path is not (or no longer) up or
//    the queue is full; like UDP, a true return promises nothing about delivery.
//  - Received yields each datagram that arrived on the selected pair and is not STUN or TURN
//    (RFC 7983: in practice DTLS, first byte 20..63), in arrival order, one byte[] per datagram
//    that the reader owns. It is bounded: when the reader falls behind, new datagrams are dropped
//    and counted (ReceiveDropped), never buffered without limit. The channel completes when the
//    path closes (the link was closed, failed or lost consent).
//  - DatagramBytesMax bounds what Send accepts (larger ones are refused with false).
//  - TryDeliverTo (optional): a layer above that is quick, thread-safe and never throws (DTLS
//    opening a record and posting the frame) may take datagrams pushed on the path's own thread
//    instead of reading Received; that saves a thread hand-off per datagram. Received then stays
//    empty. A path that cannot push returns false and the reader keeps using Received.
using System.Threading.Channels;

namespace EdgeVpn.RealNode.Ice;

public interface IDatagramPath
{
    /// <summary>The largest datagram Send accepts, in bytes.</summary>
    int DatagramBytesMax { get; }

    /// <summary>True from the first nomination until the path closes.</summary>
    bool IsUp { get; }

    /// <summary>Queues one datagram for the selected pair; false (dropped) when down, too large or the queue is full.</summary>
    bool Send(ReadOnlySpan<byte> datagram);

    /// <summary>Datagrams from the peer on the selected pair; completes when the path closes.</summary>
    ChannelReader<byte[]> Received { get; }

    /// <summary>Datagrams dropped because Received was full.</summary>
    long ReceiveDropped { get; }

    /// <summary>From now on hands each received datagram (owned by the receiver) to receiver on the path's thread; false when this path only offers Received.</summary>
    bool TryDeliverTo(Action<byte[]> receiver) => false;
}
