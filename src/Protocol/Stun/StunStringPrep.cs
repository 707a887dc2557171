// The string preparation applied to passwords and realms before they become keys: a documented
// subset of PRECIS OpaqueString (RFC 8265, used by RFC 8489) and SASLprep (RFC 4013, RFC 5389).
// What it does:
//   - maps every non-ASCII space (Unicode category Zs) to U+0020 (both profiles);
//   - removes the characters SASLprep maps to nothing (RFC 3454 table B.1: soft hyphen,
//     zero-width joiners and spaces, variation selectors, BOM);
//   - rejects the empty string, control characters, private-use code points, non-characters
//     and unpaired surrogates, with an error naming the position.
// What it does not do: Unicode normalization (NFC for OpaqueString, NFKC for SASLprep). With
// InvariantGlobalization string.Normalize is a no-op and Protocol takes no packages, so a
// non-ASCII password whose normalized form differs from itself gives a key different from a
// full implementation's; callers must pass such strings already normalized (RFC 5769's
// "The\u00ADM\u00AAtr\u2168" must be given as its SASLprep form "TheMatrIX"). ASCII passwords
// without control characters pass unchanged, which is all ICE ever uses (ice-char is ASCII).
using System.Globalization;
using System.Text;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public static class StunStringPrep
{
    public static ParseResult<string> Prepare(string? value, string what)
    {
        if (string.IsNullOrEmpty(value)) return ParseResult<string>.Fail($"{what} is empty");
        bool ascii = true;
        foreach (char c in value) if (c is < (char)0x20 or >= (char)0x7F) { ascii = false; break; }
        if (ascii) return value;

        var sb = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, value[i + 1]);
                if (IsProhibitedSupplementary(cp)) return ParseResult<string>.Fail($"{what} has prohibited code point U+{cp:X} at {i}");
                sb.Append(c).Append(value[i + 1]);
                i++;
                continue;
            }
            if (char.IsSurrogate(c)) return ParseResult<string>.Fail($"{what} has an unpaired surrogate at {i}");
            if (IsMappedToNothing(c)) continue;
            if (c != ' ' && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator) { sb.Append(' '); continue; }
            if (char.IsControl(c) || (c >= 0xE000 && c <= 0xF8FF) || c is '\uFFFE' or '\uFFFF' || (c >= 0xFDD0 && c <= 0xFDEF))
                return ParseResult<string>.Fail($"{what} has prohibited character U+{(int)c:X4} at {i}");
            sb.Append(c);
        }
        return sb.Length == 0 ? ParseResult<string>.Fail($"{what} is empty after mapping") : sb.ToString();
    }

    private static bool IsMappedToNothing(char c) => c is '\u00AD' or '\u034F' or '\u1806' or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF'
        || (c >= '\u180B' && c <= '\u180D') || (c >= '\uFE00' && c <= '\uFE0F');

    private static bool IsProhibitedSupplementary(int cp) =>
        (cp & 0xFFFE) == 0xFFFE || cp >= 0xF0000;   // non-characters and the private-use planes 15-16
}
