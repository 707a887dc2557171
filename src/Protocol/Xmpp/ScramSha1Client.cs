// The client side of SASL SCRAM-SHA-1 (RFC 5802) without channel binding (gs2 header "n,,"),
// hand-written (no SASL package is served). Pure: the client nonce comes in from the caller.
//   ClientFirst            -> "n,,n=<user>,r=<cnonce>"
//   HandleServerFirst(s)   -> "c=biws,r=<nonce>,p=<proof>" or an error
//   VerifyServerFinal(s)   -> ok when the server proved it knows the salted password
// The server's iteration count is bounded (IterationsMin..IterationsMax): too few would let an
// attacker who impersonates the server crack the password offline from our proof cheaply, too
// many would let a server make us spin. The password is SASLprep'ed with the shared prep used for
// STUN long-term credentials (StunStringPrep: same profile family, same documented limits).
// Nothing here ever returns or formats the password; errors name only the field at fault.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Xmpp;

public sealed class ScramSha1Client
{
    public const int IterationsMin = 4096;
    public const int IterationsMax = 1_000_000;
    private const string Gs2Header = "n,,";

    private readonly string _password;
    private readonly string _clientNonce;
    private readonly string _clientFirstBare;
    private byte[]? _serverSignature;

    private ScramSha1Client(string username, string password, string clientNonce)
    {
        _password = password;
        _clientNonce = clientNonce;
        _clientFirstBare = $"n={EscapeName(username)},r={clientNonce}";
    }

    /// <summary>Checks the inputs; the nonce must be printable ASCII without ',' (RFC 5802 §5.1).</summary>
    public static ParseResult<ScramSha1Client> Create(string username, string password, string clientNonce)
    {
        var user = StunStringPrep.Prepare(username, "username");
        if (!user.Ok) return ParseResult<ScramSha1Client>.Fail(user.Error!);
        var pass = StunStringPrep.Prepare(password, "password");
        if (!pass.Ok) return ParseResult<ScramSha1Client>.Fail("the password is not usable for SCRAM (SASLprep refused it)");
        if (clientNonce.Length < 16 || clientNonce.Any(c => c is < '!' or > '~' or ','))
            return ParseResult<ScramSha1Client>.Fail("client nonce must be at least 16 printable ASCII characters without ','");
        return new ScramSha1Client(user.Value, pass.Value, clientNonce);
    }

    public string ClientFirst => Gs2Header + _clientFirstBare;

    public ParseResult<string> HandleServerFirst(string serverFirst)
    {
        string? nonce = null, salt = null, iterations = null;
        if (!ScramSha1.TryAttributes(serverFirst, out var attributes)) return ParseResult<string>.Fail("server-first-message has a malformed attribute");
        foreach (var (name, value) in attributes)
        {
            switch (name)
            {
                case 'm': return ParseResult<string>.Fail("server requires an unsupported SCRAM extension");
                case 'r': nonce ??= value; break;
                case 's': salt ??= value; break;
                case 'i': iterations ??= value; break;
            }
        }
        if (nonce is null || salt is null || iterations is null) return ParseResult<string>.Fail("server-first-message lacks r, s or i");
        if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length)
            return ParseResult<string>.Fail("server nonce does not extend our nonce");
        if (nonce.Any(c => c is < '!' or > '~')) return ParseResult<string>.Fail("server nonce is not printable ASCII");
        if (!int.TryParse(iterations, NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i < IterationsMin || i > IterationsMax)
            return ParseResult<string>.Fail($"iteration count '{Truncate(iterations)}' outside {IterationsMin}..{IterationsMax}");
        byte[] saltBytes;
        try { saltBytes = Convert.FromBase64String(salt); }
        catch (FormatException) { return ParseResult<string>.Fail("salt is not base64"); }
        if (saltBytes.Length == 0) return ParseResult<string>.Fail("empty salt");

        var keys = ScramSha1.Derive(_password, saltBytes, i);
        string clientFinalWithoutProof = $"c={ScramSha1.ChannelBindingNone},r={nonce}";
        byte[] authMessage = ScramSha1.AuthMessage(_clientFirstBare, serverFirst, clientFinalWithoutProof);
        byte[] proof = ScramSha1.Xor(keys.ClientKey, HMACSHA1.HashData(keys.StoredKey, authMessage));
        _serverSignature = HMACSHA1.HashData(keys.ServerKey, authMessage);
        return $"{clientFinalWithoutProof},p={Convert.ToBase64String(proof)}";
    }

    public ParseResult<bool> VerifyServerFinal(string serverFinal)
    {
        if (_serverSignature is null) return ParseResult<bool>.Fail("server-final-message before server-first-message");
        if (serverFinal.StartsWith("e=", StringComparison.Ordinal)) return ParseResult<bool>.Fail($"server reported SCRAM error '{Truncate(serverFinal[2..])}'");
        string? v = serverFinal.Split(',').FirstOrDefault(p => p.StartsWith("v=", StringComparison.Ordinal));
        if (v is null) return ParseResult<bool>.Fail("server-final-message lacks v");
        byte[] signature;
        try { signature = Convert.FromBase64String(v[2..]); }
        catch (FormatException) { return ParseResult<bool>.Fail("server signature is not base64"); }
        return CryptographicOperations.FixedTimeEquals(signature, _serverSignature)
            ? true
            : ParseResult<bool>.Fail("server signature does not match: the server does not know our password (or a man in the middle)");
    }

    private static string EscapeName(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    private static string Truncate(string s) => s.Length <= 32 ? s : s[..32] + "...";
}
