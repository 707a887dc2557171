// How the XMPP client decides to trust the server's TLS certificate:
//   SystemStore  the machine's trusted roots, and the name must match the XMPP domain (default);
//   CaFile       only roots from a PEM file (a private CA or a test server's self-signed
//                certificate), and the name must match;
//   Fingerprint  exactly one certificate, by the SHA-256 of its DER bytes (name and chain are
//                not checked: the pin is the whole trust decision).
// Revocation is not checked (no CRL/OCSP fetches from the node): a documented limitation shared
// with most XMPP clients; pin or use a short-lived certificate where that matters.
// Validate never throws; a refusal comes with a one-line reason for the log.
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeVpn.Protocol.Core;

using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.RealNode.Xmpp;

public abstract record TlsTrust
{
    public sealed record SystemStore : TlsTrust;
    public sealed record CaFile(string Path) : TlsTrust;
    public sealed record Fingerprint(byte[] Sha256) : TlsTrust
    {
        public override string ToString() => $"Fingerprint {{ Sha256 = {Convert.ToHexString(Sha256)} }}";
    }

    /// <summary>64 hex digits, optionally separated by ':' (the form openssl prints).</summary>
    public static ParseResult<TlsTrust> ParseFingerprint(string? text)
    {
        string hex = (text ?? "").Replace(":", "", StringComparison.Ordinal).Trim();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            return ParseResult<TlsTrust>.Fail("a SHA-256 fingerprint is 64 hex digits (colons allowed)");
        return new Fingerprint(Convert.FromHexString(hex));
    }

    public static byte[] FingerprintOf(X509Certificate2 certificate) => SHA256.HashData(certificate.RawData);

    /// <summary>True when the certificate is trusted; otherwise reason says why not.</summary>
    public bool Validate(X509Certificate? presented, SslPolicyErrors errors, out string reason)
    {
        reason = "";
        if (presented is null) { reason = "the server presented no certificate"; return false; }
        try
        {
            using var certificate = new X509Certificate2(presented);
            switch (this)
            {
                case Fingerprint pin:
                    if (CryptographicOperations.FixedTimeEquals(FingerprintOf(certificate), pin.Sha256)) return true;
                    reason = $"certificate fingerprint {Convert.ToHexString(FingerprintOf(certificate))} is not the pinned one";
                    return false;
                case CaFile ca:
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) { reason = $"certificate name does not match ({certificate.Subject})"; return false; }
                    return ChainsTo(certificate, ca.Path, out reason);
                default:
                    if (errors == SslPolicyErrors.None) return true;
                    reason = $"certificate not trusted by the system store: {errors} ({certificate.Subject})";
                    return false;
            }
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            reason = $"certificate check failed: {e.Message}";
            return false;
        }
    }

    /// <summary>A CA bundle is a few hundred KiB; the bound keeps a device such as /dev/zero from filling memory.</summary>
    public const int CaFileBytesMax = 4 << 20;

    /// <summary>The certificates of a PEM CA file, or null and why not ("does not exist", "is a directory",
    /// "holds no PEM certificate", ...: a phrase to follow the path). The config parser and every handshake
    /// read the file this one way, so a file the parser accepts is one the handshake can use.</summary>
    public static X509Certificate2Collection? ReadCaFile(string path, out string problem)
    {
        problem = "";
        try
        {
            if (Directory.Exists(path)) { problem = "is a directory, not a PEM file"; return null; }
            if (!File.Exists(path)) { problem = "does not exist"; return null; }
            using var stream = File.OpenRead(path);
            var bytes = new byte[CaFileBytesMax + 1];
            int length = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (length > CaFileBytesMax) { problem = $"is larger than {CaFileBytesMax} bytes"; return null; }
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(System.Text.Encoding.UTF8.GetString(bytes, 0, length));
            if (roots.Count > 0) return roots;
            problem = "holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")";
        }
        catch (CryptographicException e) { problem = $"holds a certificate that cannot be read: {e.Message}"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = $"cannot be read: {e.Message}";
        }
        return null;
    }

    /// <summary>Null when ReadCaFile would give certificates, else its problem.</summary>
    public static string? CheckCaFile(string path)
    {
        var roots = ReadCaFile(path, out string problem);
        if (roots is null) return problem;
        foreach (var certificate in roots) certificate.Dispose();
        return null;
    }

    private static bool ChainsTo(X509Certificate2 certificate, string caPath, out string reason)
    {
        var roots = ReadCaFile(caPath, out string problem);
        if (roots is null) { reason = $"CA file {caPath} {problem}"; return false; }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(certificate)) { reason = ""; return true; }
        reason = "certificate does not chain to the configured CA: "
            + string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal));
        return false;
    }
}
