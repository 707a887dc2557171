// BouncyCastle's TLS peers as EdgeVpn configures them: DTLS 1.2 only, ECDHE-ECDSA with
// AES-GCM (or ChaCha20-Poly1305), mutual authentication with self-signed certificates, and the
// peer's certificate accepted only when its SHA-256 fingerprint equals the one received over
// signaling. The server always asks for the client's certificate and refuses a client that
// sends none. After the handshake both sides export the frame keys (RFC 5705).
// DtlsPeerPolicy holds what the client and the server share; it records the first reason a
// handshake failed, in words for the log, because BouncyCastle reports only alert codes.
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace EdgeVpn.RealNode.Dtls;

internal sealed class DtlsPeerPolicy(DtlsIdentity identity, DtlsFingerprint expectedPeer, DtlsConfig config, bool isClient)
{
    public static readonly int[] CipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    private string? _failure;
    private readonly Lock _gate = new();

    public bool IsClient => isClient;
    public DtlsConfig Config => config;
    public byte[]? ExportedKeys { get; private set; }
    public DtlsFingerprint? PeerFingerprint { get; private set; }
    public bool PeerClosed { get; private set; }
    public string? Failure { get { lock (_gate) return _failure; } }

    public void Fail(string reason) { lock (_gate) _failure ??= reason; }

    /// <summary>Throws bad_certificate (after recording why) unless the peer's certificate is the expected one.</summary>
    public void VerifyPeer(Certificate? certificate)
    {
        string side = isClient ? "server" : "client";
        if (certificate is null || certificate.IsEmpty)
        {
            Fail($"the {side} sent no certificate (mutual authentication is required)");
            throw new TlsFatalAlert(AlertDescription.bad_certificate);
        }
        var presented = DtlsFingerprint.OfCertificate(certificate.GetCertificateAt(0).GetEncoded());
        if (!presented.Equals(expectedPeer))
        {
            Fail($"fingerprint mismatch: the {side}'s certificate is {presented}, but signaling announced {expectedPeer}; link refused");
            throw new TlsFatalAlert(AlertDescription.bad_certificate);
        }
        PeerFingerprint = presented;
    }

    public TlsCredentialedSigner Signer(TlsContext context, BcTlsCrypto crypto)
    {
        var chain = new Certificate([crypto.CreateCertificate(identity.CertificateDer)]);
        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, identity.PrivateKey, chain,
            SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));
    }

    public void Completed(TlsContext context) =>
        ExportedKeys = context.ExportKeyingMaterial(FrameKeys.ExporterLabel, null, FrameKeys.ExportBytes);

    public void AlertRaised(short level, short description, string? message)
    {
        if (level == AlertLevel.fatal)
            Fail($"local DTLS alert {AlertDescription.GetText(description)}" + (message is null ? "" : $": {message}"));
    }

    public void AlertReceived(short level, short description)
    {
        if (description == AlertDescription.close_notify) { PeerClosed = true; Fail("the peer closed the link"); return; }
        if (level == AlertLevel.fatal) Fail($"the peer sent DTLS alert {AlertDescription.GetText(description)}");
    }

    public int HandshakeTimeoutMillis => (int)config.HandshakeTimeout.TotalMilliseconds;
    public int ResendMillis => (int)config.RetransmitInitial.TotalMilliseconds;
}

internal sealed class EdgeDtlsClient(BcTlsCrypto crypto, DtlsPeerPolicy policy) : DefaultTlsClient(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();
    protected override int[] GetSupportedCipherSuites() => TlsUtilities.GetSupportedCipherSuites(Crypto, DtlsPeerPolicy.CipherSuites);
    public override int GetHandshakeTimeoutMillis() => policy.HandshakeTimeoutMillis;
    public override int GetHandshakeResendTimeMillis() => policy.ResendMillis;
    public override bool IgnoreCorruptDtlsRecords => true;
    public override TlsAuthentication GetAuthentication() => new Authentication(this, policy);
    public override void NotifyHandshakeComplete() { base.NotifyHandshakeComplete(); policy.Completed(m_context); }
    public override void NotifyAlertRaised(short level, short description, string message, Exception cause) => policy.AlertRaised(level, description, message);
    public override void NotifyAlertReceived(short level, short description) => policy.AlertReceived(level, description);

    private sealed class Authentication(EdgeDtlsClient client, DtlsPeerPolicy policy) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate) => policy.VerifyPeer(serverCertificate?.Certificate);
        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) => policy.Signer(client.m_context, (BcTlsCrypto)client.Crypto);
    }
}

internal sealed class EdgeDtlsServer(BcTlsCrypto crypto, DtlsPeerPolicy policy) : DefaultTlsServer(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();
    protected override int[] GetSupportedCipherSuites() => TlsUtilities.GetSupportedCipherSuites(Crypto, DtlsPeerPolicy.CipherSuites);
    public override int GetHandshakeTimeoutMillis() => policy.HandshakeTimeoutMillis;
    public override int GetHandshakeResendTimeMillis() => policy.ResendMillis;
    public override bool IgnoreCorruptDtlsRecords => true;
    protected override TlsCredentialedSigner GetECDsaSignerCredentials() => policy.Signer(m_context, (BcTlsCrypto)Crypto);

    public override CertificateRequest GetCertificateRequest() =>
        new([ClientCertificateType.ecdsa_sign], TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context), null);

    public override void NotifyClientCertificate(Certificate clientCertificate) => policy.VerifyPeer(clientCertificate);
    public override void NotifyHandshakeComplete() { base.NotifyHandshakeComplete(); policy.Completed(m_context); }
    public override void NotifyAlertRaised(short level, short description, string message, Exception cause) => policy.AlertRaised(level, description, message);
    public override void NotifyAlertReceived(short level, short description) => policy.AlertReceived(level, description);
}
