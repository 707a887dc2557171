// The first look at every datagram a link's socket receives, before the ICE agent sees it
// (RFC 7983 §7 first-byte rules, through DatagramDemux): STUN (0..3), TURN ChannelData (64..79)
// and DTLS (20..63) may share the socket and go on to the agent, which answers STUN, unwraps
// what the TURN server relays and hands DTLS on the selected pair to the layer above
// (IDatagramPath). Everything else (empty, ZRTP, RTP/RTCP, unassigned first bytes) has no
// business on an EdgeVpn link and is dropped here with the reason. Also dropped: datagrams too
// short to be what their first byte claims (a STUN header is 20 bytes, a ChannelData header 4,
// a DTLS record header 13). Pure.
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.RealNode.Ice;

public static class DatagramGate
{
    public const int StunHeaderBytes = 20;
    public const int ChannelDataHeaderBytes = 4;
    public const int DtlsRecordHeaderBytes = 13;

    /// <summary>Null when the datagram goes on to the agent; else why it is dropped.</summary>
    public static string? Refusal(ReadOnlySpan<byte> datagram)
    {
        var kind = DatagramDemux.Classify(datagram);
        return kind switch
        {
            DatagramKind.Empty => "empty datagram",
            DatagramKind.Stun when datagram.Length < StunHeaderBytes => $"{datagram.Length} bytes: shorter than a STUN header",
            DatagramKind.ChannelData when datagram.Length < ChannelDataHeaderBytes => $"{datagram.Length} bytes: shorter than a ChannelData header",
            DatagramKind.Dtls when datagram.Length < DtlsRecordHeaderBytes => $"{datagram.Length} bytes: shorter than a DTLS record header",
            DatagramKind.Stun or DatagramKind.ChannelData or DatagramKind.Dtls => null,
            _ => $"first byte 0x{datagram[0]:x2} is {kind}, not STUN, ChannelData or DTLS (RFC 7983)",
        };
    }
}
