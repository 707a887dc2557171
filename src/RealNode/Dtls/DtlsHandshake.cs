// Runs one blocking BouncyCastle DTLS 1.2 handshake in the given role over any BouncyCastle
// DatagramTransport; shared by DtlsLink and the record benchmark. Throws IOException (or
// TlsTimeoutException) on failure; policy.Failure then says why in words where it can.
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace EdgeVpn.RealNode.Dtls;

internal static class DtlsHandshake
{
    public static DtlsTransport Run(DtlsRole role, DtlsPeerPolicy policy, DatagramTransport transport)
    {
        var crypto = new BcTlsCrypto(new SecureRandom());
        return role == DtlsRole.Client
            ? new DtlsClientProtocol().Connect(new EdgeDtlsClient(crypto, policy), transport)
            // No HelloVerifyRequest cookie: ICE connectivity checks already proved the peer's address.
            : new DtlsServerProtocol { VerifyRequests = false }.Accept(new EdgeDtlsServer(crypto, policy), transport);
    }
}
