// The server side of SASL SCRAM-SHA-1 (RFC 5802 §5) for one exchange, without channel binding,
// hand-written (no SASL package is served) for the simulator's virtual XMPP server; pure: the salt,
// the iteration count and the server's nonce come from the caller (the simulator derives them from
// its seed-free names, so a run stays a function of its parameters).
//   HandleClientFirst("n,,n=<user>,r=<cnonce>")  -> the user named (the caller looks up its keys)
//   ServerFirst(keys…)                            -> "r=<cnonce><snonce>,s=<salt>,i=<n>"
//   HandleClientFinal("c=biws,r=…,p=<proof>")    -> "v=<server signature>" when the proof is right
// Refused, with the RFC 5802 §7 error word where one fits: a gs2 header other than "n,,", an
// authzid, a mandatory extension (m=), a nonce that is not ours, a wrong proof. Never throws.
using System.Security.Cryptography;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Xmpp;

public sealed class ScramSha1Server
{
    /// <summary>What a server stores for an account instead of its password (RFC 5802 §2.2):
    /// derived once (PBKDF2 is deliberately slow), used for every login.</summary>
    public sealed record StoredCredentials(byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey)
    {
        public static StoredCredentials From(string preparedPassword, byte[] salt, int iterations)
        {
            var keys = ScramSha1.Derive(preparedPassword, salt, iterations);
            return new StoredCredentials(salt, iterations, keys.StoredKey, keys.ServerKey);
        }
    }

    private string? _clientFirstBare, _serverFirst, _nonce;
    private byte[]? _storedKey, _serverKey;

    /// <summary>Parses the client's first message; gives the (unescaped) user name.</summary>
    public ParseResult<string> HandleClientFirst(string clientFirst)
    {
        if (!clientFirst.StartsWith("n,,", StringComparison.Ordinal))
            return ParseResult<string>.Fail("channel binding or an authzid was asked for (only \"n,,\" is supported)");
        string bare = clientFirst[3..];
        string? user = null, nonce = null;
        if (!ScramSha1.TryAttributes(bare, out var attributes)) return ParseResult<string>.Fail("client-first-message has a malformed attribute");
        foreach (var (key, value) in attributes)
        {
            switch (key)
            {
                case 'm': return ParseResult<string>.Fail("extensions-not-supported");
                case 'n': user ??= value; break;
                case 'r': nonce ??= value; break;
            }
        }
        if (user is null || nonce is null || user.Length == 0 || nonce.Length == 0) return ParseResult<string>.Fail("client-first-message lacks n or r");
        if (nonce.Any(c => c is < '!' or > '~' or ',')) return ParseResult<string>.Fail("client nonce is not printable ASCII");
        string name = user.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
        _clientFirstBare = bare;
        _nonce = nonce;
        return name;
    }

    /// <summary>The server's first message, for the user's stored credentials; the server's part
    /// of the nonce must be printable ASCII without ','.</summary>
    public string ServerFirst(StoredCredentials credentials, string serverNonce)
    {
        if (_nonce is null) throw new InvariantViolation("ScramSha1Server: ServerFirst before HandleClientFirst");
        _storedKey = credentials.StoredKey;
        _serverKey = credentials.ServerKey;
        _nonce += serverNonce;
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(credentials.Salt)},i={credentials.Iterations}";
        return _serverFirst;
    }

    /// <summary>Checks the client's proof; gives the server-final-message ("v=…").</summary>
    public ParseResult<string> HandleClientFinal(string clientFinal)
    {
        if (_serverFirst is null || _storedKey is null || _serverKey is null) return ParseResult<string>.Fail("client-final-message before server-first-message");
        int at = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (at < 0) return ParseResult<string>.Fail("client-final-message lacks p");
        string withoutProof = clientFinal[..at];
        string? c = null, r = null;
        if (!ScramSha1.TryAttributes(withoutProof, out var attributes)) return ParseResult<string>.Fail("client-final-message has a malformed attribute");
        foreach (var (name, value) in attributes)
        {
            if (name == 'c') c ??= value;
            if (name == 'r') r ??= value;
        }
        if (c != ScramSha1.ChannelBindingNone) return ParseResult<string>.Fail("channel-bindings-dont-match");
        if (r != _nonce) return ParseResult<string>.Fail("nonce does not match");
        var proof = new byte[32];
        if (!Convert.TryFromBase64String(clientFinal[(at + 3)..], proof, out int n) || n != 20) return ParseResult<string>.Fail("invalid-proof");
        byte[] authMessage = ScramSha1.AuthMessage(_clientFirstBare!, _serverFirst, withoutProof);
        byte[] clientKey = ScramSha1.Xor(proof[..20], HMACSHA1.HashData(_storedKey, authMessage));
        if (!CryptographicOperations.FixedTimeEquals(SHA1.HashData(clientKey), _storedKey)) return ParseResult<string>.Fail("invalid-proof");
        return "v=" + Convert.ToBase64String(HMACSHA1.HashData(_serverKey, authMessage));
    }
}
