// A certificate fingerprint as SDP and EdgeVPN signaling carry it (RFC 8122 §5):
//   hash-func SP fingerprint, e.g. "sha-256 AB:CD:...:EF" (32 upper-case hex pairs joined by ':').
// Only sha-256 is produced and accepted: RFC 8122 requires the hash of the certificate's
// signature algorithm or stronger, and every certificate here is ECDSA P-256 with SHA-256.
// Parsing is tolerant where RFC 8122 allows nothing to go wrong by being so: the hash name is
// case-insensitive, hex digits may be lower case (RFC 4572 fingerprints were often written so);
// everything else (missing space, wrong length, stray characters) is refused with a reason.
// Comparison is in constant time over the 32 bytes.
using System.Security.Cryptography;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.RealNode.Dtls;

public sealed class DtlsFingerprint : IEquatable<DtlsFingerprint>
{
    public const string HashName = "sha-256";
    public const int DigestBytes = 32;
    /// <summary>"sha-256 " plus 32 pairs and 31 colons: longer input is refused before any work.</summary>
    public const int TextLengthMax = 8 + DigestBytes * 3 - 1;

    private readonly byte[] _digest;

    private DtlsFingerprint(byte[] digest) => _digest = digest;

    public ReadOnlySpan<byte> Digest => _digest;

    /// <summary>The fingerprint of a DER-encoded certificate.</summary>
    public static DtlsFingerprint OfCertificate(ReadOnlySpan<byte> certificateDer) => new(SHA256.HashData(certificateDer));

    public static DtlsFingerprint FromDigest(ReadOnlySpan<byte> digest) =>
        digest.Length == DigestBytes ? new DtlsFingerprint(digest.ToArray())
            : throw new ArgumentException($"a sha-256 digest is {DigestBytes} bytes, not {digest.Length}", nameof(digest));

    public static ParseResult<DtlsFingerprint> Parse(string? text)
    {
        if (text is null) return ParseResult<DtlsFingerprint>.Fail("fingerprint missing");
        if (text.Length > TextLengthMax + 16) return ParseResult<DtlsFingerprint>.Fail($"fingerprint too long ({text.Length} characters)");
        text = text.Trim();
        int space = text.IndexOf(' ');
        if (space < 0) return ParseResult<DtlsFingerprint>.Fail("fingerprint must be '<hash-func> <hex pairs>' (RFC 8122), e.g. 'sha-256 AB:CD:...'");
        string hash = text[..space];
        if (!hash.Equals(HashName, StringComparison.OrdinalIgnoreCase))
            return ParseResult<DtlsFingerprint>.Fail($"fingerprint hash function '{Printable(hash)}' is not supported (only {HashName})");
        string pairs = text[(space + 1)..];
        if (pairs.Length != DigestBytes * 3 - 1)
            return ParseResult<DtlsFingerprint>.Fail($"a {HashName} fingerprint is {DigestBytes} hex pairs separated by ':' ({DigestBytes * 3 - 1} characters), not {pairs.Length} characters");
        var digest = new byte[DigestBytes];
        for (int i = 0; i < DigestBytes; i++)
        {
            int at = i * 3;
            if (i > 0 && pairs[at - 1] != ':')
                return ParseResult<DtlsFingerprint>.Fail($"fingerprint: expected ':' at position {at - 1} of the hex part");
            int hi = HexValue(pairs[at]), lo = HexValue(pairs[at + 1]);
            if (hi < 0 || lo < 0)
                return ParseResult<DtlsFingerprint>.Fail($"fingerprint: '{Printable(pairs.Substring(at, 2))}' at position {at} is not a hex pair");
            digest[i] = (byte)(hi << 4 | lo);
        }
        return new DtlsFingerprint(digest);
    }

    /// <summary>"sha-256 AB:CD:..." (RFC 8122 form, upper-case hex).</summary>
    public override string ToString() => HashName + " " + string.Join(':', _digest.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    public bool Equals(DtlsFingerprint? other) => other is not null && CryptographicOperations.FixedTimeEquals(_digest, other._digest);
    public override bool Equals(object? obj) => Equals(obj as DtlsFingerprint);
    public override int GetHashCode() => BitConverter.ToInt32(_digest, 0);

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    private static string Printable(string s) => Protocol.Core.Printable.Of(s, 16);
}
