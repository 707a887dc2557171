// The key arithmetic of SCRAM-SHA-1 (RFC 5802 §3), shared by the client and the server side so
// the two can never disagree: SaltedPassword = Hi(password, salt, i) (PBKDF2-HMAC-SHA1),
// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
// ServerKey = HMAC(SaltedPassword, "Server Key"); ClientProof = ClientKey XOR
// HMAC(StoredKey, AuthMessage); ServerSignature = HMAC(ServerKey, AuthMessage).
using System.Security.Cryptography;
using System.Text;

namespace EdgeVpn.Protocol.Xmpp;

internal static class ScramSha1
{
    /// <summary>"n,," (no channel binding, no authzid) base64-encoded, as the client's c= attribute.</summary>
    public const string ChannelBindingNone = "biws";

    public readonly record struct Keys(byte[] ClientKey, byte[] StoredKey, byte[] ServerKey);

    public static Keys Derive(string preparedPassword, byte[] salt, int iterations)
    {
        byte[] salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(preparedPassword), salt, iterations, HashAlgorithmName.SHA1, 20);
        byte[] clientKey = HMACSHA1.HashData(salted, "Client Key"u8);
        return new Keys(clientKey, SHA1.HashData(clientKey), HMACSHA1.HashData(salted, "Server Key"u8));
    }

    public static byte[] AuthMessage(string clientFirstBare, string serverFirst, string clientFinalWithoutProof) =>
        Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{clientFinalWithoutProof}");

    /// <summary>A SCRAM message's "x=value" attributes (RFC 5802 §5.1), in order; false when one is malformed.</summary>
    public static bool TryAttributes(string message, out List<(char Name, string Value)> attributes)
    {
        attributes = [];
        foreach (var part in message.Split(','))
        {
            if (part.Length < 2 || part[1] != '=') return false;
            attributes.Add((part[0], part[2..]));
        }
        return true;
    }

    public static byte[] Xor(byte[] a, byte[] b)
    {
        var r = new byte[a.Length];
        for (int k = 0; k < r.Length; k++) r[k] = (byte)(a[k] ^ b[k]);
        return r;
    }
}
