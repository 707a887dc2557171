// Which protocol a datagram on a shared socket belongs to, from its first byte (RFC 7983 §7):
//   0..3 STUN, 16..19 ZRTP, 20..63 DTLS, 64..79 TURN ChannelData, 128..191 RTP/RTCP.
// STUN, ChannelData and DTLS share the ICE socket, so the agent and the link layer route by this.
namespace EdgeVpn.Protocol.Stun;

public enum DatagramKind
{
    Empty,
    Stun,
    Zrtp,
    Dtls,
    ChannelData,
    Rtp,
    Unknown,
}

public static class DatagramDemux
{
    public static DatagramKind Classify(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty) return DatagramKind.Empty;
        return datagram[0] switch
        {
            <= 3 => DatagramKind.Stun,
            >= 16 and <= 19 => DatagramKind.Zrtp,
            >= 20 and <= 63 => DatagramKind.Dtls,
            >= 64 and <= 79 => DatagramKind.ChannelData,
            >= 128 and <= 191 => DatagramKind.Rtp,
            _ => DatagramKind.Unknown,
        };
    }
}
