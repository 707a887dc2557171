// The keys that protect frame records, derived from the finished DTLS handshake with the
// RFC 5705 exporter (label below, no context), so they are bound to this handshake's master
// secret and to nothing BouncyCastle's own record layer uses. 40 bytes:
//   client write key (16) | server write key (16) | client salt (4) | server salt (4)
// Each side seals with its own write key and opens with the peer's (AES-128-GCM).
namespace EdgeVpn.RealNode.Dtls;

public sealed class FrameKeys
{
    public const string ExporterLabel = "EXPORTER-EdgeVpn-frame-records";
    public const int KeyBytes = 16;
    public const int SaltBytes = 4;
    public const int ExportBytes = 2 * (KeyBytes + SaltBytes);

    public byte[] SealKey { get; }
    public byte[] SealSalt { get; }
    public byte[] OpenKey { get; }
    public byte[] OpenSalt { get; }

    private FrameKeys(byte[] sealKey, byte[] sealSalt, byte[] openKey, byte[] openSalt)
    {
        SealKey = sealKey; SealSalt = sealSalt; OpenKey = openKey; OpenSalt = openSalt;
    }

    /// <param name="exported">The ExportBytes bytes from the exporter (same on both sides).</param>
    /// <param name="isClient">This side's DTLS role.</param>
    public static FrameKeys FromExporter(ReadOnlySpan<byte> exported, bool isClient)
    {
        if (exported.Length != ExportBytes) throw new ArgumentException($"need {ExportBytes} exported bytes, got {exported.Length}", nameof(exported));
        byte[] clientKey = exported[..KeyBytes].ToArray();
        byte[] serverKey = exported.Slice(KeyBytes, KeyBytes).ToArray();
        byte[] clientSalt = exported.Slice(2 * KeyBytes, SaltBytes).ToArray();
        byte[] serverSalt = exported.Slice(2 * KeyBytes + SaltBytes, SaltBytes).ToArray();
        return isClient ? new FrameKeys(clientKey, clientSalt, serverKey, serverSalt)
                        : new FrameKeys(serverKey, serverSalt, clientKey, clientSalt);
    }
}
