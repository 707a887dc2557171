// Why a received datagram was not delivered as a frame. Every drop is counted per reason and
// logged (rate-limited); none throws.
namespace EdgeVpn.RealNode.Dtls;

public enum FrameDrop
{
    /// <summary>Shorter than a record header plus tag.</summary>
    Truncated,
    /// <summary>Longer than any record this link sends.</summary>
    Oversized,
    /// <summary>The first byte is not the frame record type.</summary>
    NotFrameRecord,
    /// <summary>The sequence number was already received (RFC 6347 §4.1.2.6).</summary>
    Replayed,
    /// <summary>The sequence number is left of the replay window.</summary>
    TooOld,
    /// <summary>AES-GCM authentication failed: forged, corrupted or from another session.</summary>
    Forged,
    /// <summary>A handshake record arrived while BouncyCastle's queue was full.</summary>
    QueueFull,
    /// <summary>The link is not (or no longer) connected.</summary>
    NotConnected,
}
