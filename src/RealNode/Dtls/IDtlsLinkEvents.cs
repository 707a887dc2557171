// What a DtlsLink tells its owner (the host loop posts these into its channel). Called on the
// link's handshake thread (Connected, Down) or on the transport's receive thread
// (FrameReceived, Log): implementations must be quick and thread-safe and copy a frame they keep.
namespace EdgeVpn.RealNode.Dtls;

public interface IDtlsLinkEvents
{
    /// <summary>The handshake finished and the peer presented the expected certificate.</summary>
    void Connected(DtlsLink link);
    /// <summary>The link will carry nothing more (handshake failed or timed out, fingerprint mismatch, peer closed); once per link.</summary>
    void Down(DtlsLink link, string reason);
    void FrameReceived(DtlsLink link, ReadOnlySpan<byte> frame);
    void Log(DtlsLink link, string line);
}
