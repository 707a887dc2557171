// A node's DTLS identity: a self-signed ECDSA P-256 certificate and its private key, made fresh
// per node start (like WebRTC endpoints); its SHA-256 fingerprint travels over signaling and is
// the whole trust decision (no CA, no names, no validity check: the peer pins the fingerprint).
// The certificate is made with .NET (CertificateRequest) and the key handed to BouncyCastle as
// PKCS#8, so only the handshake depends on BouncyCastle.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace EdgeVpn.RealNode.Dtls;

public sealed class DtlsIdentity
{
    /// <summary>WebRTC implementations use about a month; a node restarts long before it matters.</summary>
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(30);

    public byte[] CertificateDer { get; }
    public DtlsFingerprint Fingerprint { get; }
    internal AsymmetricKeyParameter PrivateKey { get; }

    private DtlsIdentity(byte[] certificateDer, AsymmetricKeyParameter privateKey)
    {
        CertificateDer = certificateDer;
        PrivateKey = privateKey;
        Fingerprint = DtlsFingerprint.OfCertificate(certificateDer);
    }

    /// <param name="commonName">Shown in the certificate only (e.g. the node id); never checked.</param>
    /// <param name="now">The host's clock: the certificate is valid from an hour before it.</param>
    public static DtlsIdentity CreateSelfSigned(string commonName, DateTimeOffset now, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedName("CN=" + Sanitize(commonName));
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        using var certificate = request.CreateSelfSigned(now - TimeSpan.FromHours(1), now + (validity ?? DefaultValidity));
        return new DtlsIdentity(certificate.RawData, PrivateKeyFactory.CreateKey(key.ExportPkcs8PrivateKey()));
    }

    // X.500 names have their own escaping; a node id or label never needs more than this.
    private static string Sanitize(string commonName)
    {
        var kept = new string(commonName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_').Take(64).ToArray());
        return kept.Length == 0 ? "edgevpn" : kept;
    }
}
