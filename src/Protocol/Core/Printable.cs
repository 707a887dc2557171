// Untrusted text echoed in an error message (a parser's "unknown word 'x'"): control characters
// become '?', so a log line stays one line and a terminal is not driven by what a peer sent, and
// the length is capped ("..." marks a cut). One definition for every parser's messages.
using System.Text;

namespace EdgeVpn.Protocol.Core;

public static class Printable
{
    public static string Of(string? s, int max = 80)
    {
        if (s is null) return "(none)";
        var sb = new StringBuilder(Math.Min(s.Length, max) + 3);
        foreach (char c in s)
        {
            if (sb.Length >= max) { sb.Append("..."); break; }
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        return sb.ToString();
    }
}
