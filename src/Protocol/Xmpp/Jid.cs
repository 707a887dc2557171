// An XMPP address (RFC 7622): [localpart@]domainpart[/resourcepart]. Parsing checks structure
// and the RFC's length bound (1..1023 bytes of UTF-8 per part) and refuses characters that can
// never appear in a part (spaces and controls in the local and domain parts, '@' and '/' where
// they would be separators, and the characters RFC 7622 §3.3.1 excludes from localparts). It does
// not apply the PRECIS profiles: the local and domain parts are lower-cased (ASCII only) so that
// comparisons of what Prosody sends back match what we configured; other case folding is left to
// the server, which is the authority on its own addresses.
using System.Text;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Xmpp;

public sealed record Jid(string? Local, string Domain, string? Resource)
{
    public const int PartBytesMax = 1023;

    public Jid Bare => Resource is null ? this : this with { Resource = null };
    public bool IsBare => Resource is null;

    public override string ToString() =>
        (Local is null ? "" : Local + "@") + Domain + (Resource is null ? "" : "/" + Resource);

    public static ParseResult<Jid> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return ParseResult<Jid>.Fail("empty address");
        int slash = text.IndexOf('/');
        string head = slash < 0 ? text : text[..slash];
        string? resource = slash < 0 ? null : text[(slash + 1)..];
        int at = head.IndexOf('@');
        string? local = at < 0 ? null : head[..at];
        string domain = at < 0 ? head : head[(at + 1)..];

        if (local is not null)
        {
            if (CheckPart(local, "localpart") is { } e) return ParseResult<Jid>.Fail(e);
            foreach (char c in local)
                if (c is '"' or '&' or '\'' or '/' or ':' or '<' or '>' or '@' || c <= ' ' || c == '\u007F')
                    return ParseResult<Jid>.Fail($"localpart has a forbidden character U+{(int)c:X4}");
            local = local.ToLowerInvariant();
        }
        domain = domain.TrimEnd('.');   // a trailing dot is the same domain (RFC 7622 §3.2)
        if (CheckPart(domain, "domainpart") is { } d) return ParseResult<Jid>.Fail(d);
        foreach (char c in domain)
            if (c is '@' or '/' || c <= ' ' || c == '\u007F')
                return ParseResult<Jid>.Fail($"domainpart has a forbidden character U+{(int)c:X4}");
        if (resource is not null)
        {
            if (CheckPart(resource, "resourcepart") is { } r) return ParseResult<Jid>.Fail(r);
            foreach (char c in resource)
                if (char.IsControl(c)) return ParseResult<Jid>.Fail($"resourcepart has a control character U+{(int)c:X4}");
        }
        return new Jid(local, domain.ToLowerInvariant(), resource);
    }

    private static string? CheckPart(string part, string what)
    {
        if (part.Length == 0) return $"empty {what}";
        if (!XmlElement.IsValidXmlText(part)) return $"{what} is not valid text";
        int bytes = Encoding.UTF8.GetByteCount(part);
        return bytes > PartBytesMax ? $"{what} longer than {PartBytesMax} bytes" : null;
    }
}
