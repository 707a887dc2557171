// The endpoint data one link end sends over signaling so the peer's ICE agent can reach it:
// credentials and candidates as RFC 8839 SDP attribute lines (one per line, CRLF between them):
//   a=ice-ufrag:<4..256 ice-chars>
//   a=ice-pwd:<22..256 ice-chars>
//   a=candidate:<foundation> <component> UDP <priority> <address> <port> typ <host|srflx|prflx|relay> [raddr <address> rport <port>]
//   a=end-of-candidates        (RFC 8840: no more candidates will follow)
// Only what our agent speaks is accepted: one component (id 1), UDP, IP literals (no FQDN or
// mDNS names). Candidate extension attributes (name value pairs after the type, e.g.
// "generation 0") are accepted and ignored, as RFC 8839 §5.1 asks of a receiver.
// Parse never throws: malformed text gives a one-line error naming the line and the defect.
// Bounds: TextLengthMax characters, CandidatesMax candidates. Pure (hand-written: no SDP package
// is served, and only these three attributes are needed).
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Ice;

/// <summary>One end's ICE credentials and candidates, as carried in a link-setup offer or answer.</summary>
public sealed record IceEndpoint(string Ufrag, string Password, IReadOnlyList<IceCandidate> Candidates);

public static class IceEndpointCodec
{
    public const int TextLengthMax = 16 * 1024;
    public const int CandidatesMax = 64;
    public const int UfragLengthMin = 4, UfragLengthMax = 256;
    public const int PasswordLengthMin = 22, PasswordLengthMax = 256;
    public const uint PriorityMax = int.MaxValue;   // RFC 8445 §5.1.2: 1 .. 2^31 - 1

    private const string UfragPrefix = "a=ice-ufrag:", PwdPrefix = "a=ice-pwd:", CandidatePrefix = "a=candidate:";
    private const string EndOfCandidates = "a=end-of-candidates";

    public static string Encode(IceEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var sb = new StringBuilder();
        sb.Append(UfragPrefix).Append(endpoint.Ufrag).Append("\r\n");
        sb.Append(PwdPrefix).Append(endpoint.Password).Append("\r\n");
        foreach (var c in endpoint.Candidates) sb.Append("a=").Append(EncodeCandidate(c)).Append("\r\n");
        sb.Append(EndOfCandidates);
        return sb.ToString();
    }

    /// <summary>The candidate attribute without "a=": "candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host".</summary>
    public static string EncodeCandidate(IceCandidate c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var s = string.Create(CultureInfo.InvariantCulture,
            $"candidate:{c.Foundation} {IceCandidate.ComponentId} UDP {c.Priority} {c.Address.Address} {c.Address.Port} typ {TypeName(c.Type)}");
        return c.RelatedAddress is { } r ? string.Create(CultureInfo.InvariantCulture, $"{s} raddr {r.Address} rport {r.Port}") : s;
    }

    public static ParseResult<IceEndpoint> Parse(string? text)
    {
        if (text is null) return ParseResult<IceEndpoint>.Fail("no endpoint text");
        if (text.Length > TextLengthMax) return ParseResult<IceEndpoint>.Fail($"endpoint text has {text.Length} characters, limit {TextLengthMax}");
        string? ufrag = null, pwd = null;
        bool ended = false;
        var candidates = new List<IceCandidate>();
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].EndsWith('\r') ? lines[n][..^1] : lines[n];
            string where = $"line {n + 1}";
            if (line.Length == 0)
            {
                if (n == lines.Length - 1) break;   // a final line break
                return ParseResult<IceEndpoint>.Fail($"{where}: empty line");
            }
            if (ended) return ParseResult<IceEndpoint>.Fail($"{where}: text after a=end-of-candidates");
            if (line.StartsWith(UfragPrefix, StringComparison.Ordinal))
            {
                if (ufrag is not null) return ParseResult<IceEndpoint>.Fail($"{where}: a second a=ice-ufrag");
                ufrag = line[UfragPrefix.Length..];
                if (IceString(ufrag, UfragLengthMin, UfragLengthMax) is { } bad) return ParseResult<IceEndpoint>.Fail($"{where}: ice-ufrag {bad}");
            }
            else if (line.StartsWith(PwdPrefix, StringComparison.Ordinal))
            {
                if (pwd is not null) return ParseResult<IceEndpoint>.Fail($"{where}: a second a=ice-pwd");
                pwd = line[PwdPrefix.Length..];
                if (IceString(pwd, PasswordLengthMin, PasswordLengthMax) is { } bad) return ParseResult<IceEndpoint>.Fail($"{where}: ice-pwd {bad}");
            }
            else if (line.StartsWith(CandidatePrefix, StringComparison.Ordinal))
            {
                if (candidates.Count == CandidatesMax) return ParseResult<IceEndpoint>.Fail($"{where}: more than {CandidatesMax} candidates");
                var c = ParseCandidate(line[2..]);
                if (!c.Ok) return ParseResult<IceEndpoint>.Fail($"{where}: {c.Error}");
                candidates.Add(c.Value);
            }
            else if (line == EndOfCandidates) ended = true;
            else return ParseResult<IceEndpoint>.Fail($"{where}: '{Clip(line)}' is not an a=ice-ufrag, a=ice-pwd, a=candidate or a=end-of-candidates line");
        }
        if (ufrag is null) return ParseResult<IceEndpoint>.Fail("no a=ice-ufrag line");
        if (pwd is null) return ParseResult<IceEndpoint>.Fail("no a=ice-pwd line");
        return new IceEndpoint(ufrag, pwd, candidates);
    }

    /// <summary>Parses a candidate attribute value "candidate:..." (without "a=").</summary>
    public static ParseResult<IceCandidate> ParseCandidate(string? value)
    {
        static ParseResult<IceCandidate> Fail(string e) => ParseResult<IceCandidate>.Fail("candidate: " + e);
        if (value is null || !value.StartsWith("candidate:", StringComparison.Ordinal)) return Fail("does not start with 'candidate:'");
        var f = value["candidate:".Length..].Split(' ');
        if (f.Length < 8) return Fail($"{f.Length} fields, at least 8 needed (foundation component transport priority address port typ type)");
        if (f.Length % 2 != 0) return Fail("an extension attribute has no value");
        if (f[0].Length > IceCandidate.FoundationLengthMax || IceString(f[0], 1, IceCandidate.FoundationLengthMax) is not null)
            return Fail($"foundation '{Clip(f[0])}' is not 1..{IceCandidate.FoundationLengthMax} ice-chars");
        if (!Digits(f[1], 3, out ulong component) || component < 1 || component > 256) return Fail($"component id '{Clip(f[1])}' is not a number in 1..256");
        if (component != IceCandidate.ComponentId) return Fail($"component {component} is not supported (one component, id {IceCandidate.ComponentId})");
        if (!f[2].Equals("UDP", StringComparison.OrdinalIgnoreCase)) return Fail($"transport '{Clip(f[2])}' is not supported (UDP only)");
        if (!Digits(f[3], 10, out ulong priority) || priority < 1 || priority > PriorityMax) return Fail($"priority '{Clip(f[3])}' is not a number in 1..{PriorityMax}");
        if (Address(f[4], f[5]) is not { } address) return Fail($"'{Clip(f[4])} {Clip(f[5])}' is not an IP literal and a port in 1..65535");
        if (f[6] != "typ") return Fail($"'{Clip(f[6])}' where 'typ' belongs");
        if (TypeOf(f[7]) is not { } type) return Fail($"type '{Clip(f[7])}' is not host, srflx, prflx or relay");
        IPEndPoint? related = null;
        int i = 8;
        if (i < f.Length && f[i] == "raddr")
        {
            if (i + 3 >= f.Length || f[i + 2] != "rport") return Fail("raddr without rport");
            if (Address(f[i + 1], f[i + 3], portZeroOk: true) is not { } r) return Fail($"related address '{Clip(f[i + 1])} {Clip(f[i + 3])}' is not an IP literal and a port");
            related = r;
            i += 4;
        }
        for (; i < f.Length; i += 2)
            if (f[i].Length == 0 || f[i + 1].Length == 0 || f[i] is "raddr" or "rport") return Fail($"malformed extension attribute '{Clip(f[i])}'");
        return new IceCandidate(f[0], (uint)priority, address, type, related);
    }

    private static string TypeName(IceCandidateType t) => t switch
    {
        IceCandidateType.Host => "host",
        IceCandidateType.ServerReflexive => "srflx",
        IceCandidateType.PeerReflexive => "prflx",
        _ => "relay",
    };

    private static IceCandidateType? TypeOf(string s) => s switch
    {
        "host" => IceCandidateType.Host,
        "srflx" => IceCandidateType.ServerReflexive,
        "prflx" => IceCandidateType.PeerReflexive,
        "relay" => IceCandidateType.Relayed,
        _ => null,
    };

    /// <summary>Null when s is minLength..maxLength ice-chars (ALPHA / DIGIT / "+" / "/"), else what is wrong.</summary>
    private static string? IceString(string s, int minLength, int maxLength)
    {
        if (s.Length < minLength || s.Length > maxLength) return $"has {s.Length} characters, not {minLength}..{maxLength}";
        foreach (char ch in s)
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '+' or '/')) return $"contains '{(char.IsControl(ch) ? '?' : ch)}', not an ice-char";
        return null;
    }

    private static bool Digits(string s, int lengthMax, out ulong value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > lengthMax) return false;
        foreach (char ch in s)
        {
            if (!char.IsAsciiDigit(ch)) return false;
            value = value * 10 + (ulong)(ch - '0');
        }
        return true;
    }

    private static IPEndPoint? Address(string address, string port, bool portZeroOk = false)
    {
        if (!Digits(port, 5, out ulong p) || p > 65_535 || (p == 0 && !portZeroOk)) return null;
        // IP literals only: IPAddress.TryParse also takes forms like "1" or "0x1"; insist on dots or colons.
        if (address.Length == 0 || address.Length > 45 || !(address.Contains('.') || address.Contains(':'))) return null;
        foreach (char ch in address) if (!(char.IsAsciiHexDigit(ch) || ch is '.' or ':')) return null;
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return null;
        if (ip.AddressFamily == AddressFamily.InterNetwork)
            foreach (var octet in address.Split('.'))   // four decimal octets, no leading zeros (no octal reading)
                if (octet.Length is 0 or > 3 || (octet.Length > 1 && octet[0] == '0') || !octet.All(char.IsAsciiDigit)) return null;
        if (ip.AddressFamily == AddressFamily.InterNetwork && address.Split('.').Length != 4) return null;
        return new IPEndPoint(ip, (int)p);
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
