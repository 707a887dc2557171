// A link's identity: 64 random bits drawn by the initiator from its seeded generator,
// printed as 16 hex digits. Both ends and the signaling messages name the link by it.
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Links;

public readonly record struct LinkId(ulong Value)
{
    public override string ToString() => Value.ToString("x16");

    public static ParseResult<LinkId> Parse(string? text)
    {
        if (text is null || text.Length != 16) return ParseResult<LinkId>.Fail("link id must be 16 hex digits");
        return ulong.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out ulong v)
            ? new LinkId(v)
            : ParseResult<LinkId>.Fail("link id has a non-hex character");
    }
}
