// What `--links ice` puts in the application datagrams of a connected ICE agent: the link's frames
// and keep-alives. The first byte is DTLS's application-data content type (23), so RFC 7983
// demultiplexing classes the datagram as DTLS, as on the real wire; the simulator leaves the
// record layer and its encryption out. A keep-alive is that byte alone (the real node sends an
// empty DTLS record); a frame follows it. Anything else is malformed: TryRead says so, never throws.
namespace EdgeVpn.Sim.IceLinks;

internal static class LinkData
{
    /// <summary>TLS/DTLS ContentType application_data (RFC 8446 section 5.1).</summary>
    public const byte ApplicationDataType = 23;

    public static readonly byte[] KeepAlive = [ApplicationDataType];

    public static byte[] Frame(byte[] frame)
    {
        var bytes = new byte[frame.Length + 1];
        bytes[0] = ApplicationDataType;
        frame.CopyTo(bytes, 1);
        return bytes;
    }

    /// <summary>False for bytes that are not link data; a keep-alive gives a null frame.</summary>
    public static bool TryRead(byte[] bytes, out byte[]? frame)
    {
        frame = null;
        if (bytes.Length == 0 || bytes[0] != ApplicationDataType) return false;
        if (bytes.Length > 1) frame = bytes.AsSpan(1).ToArray();
        return true;
    }
}
