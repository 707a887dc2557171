// A password or other credential read from the configuration. It is never printed: ToString,
// string interpolation and record printing all show "(hidden)"; only Reveal() hands out the text,
// and the callers of Reveal are the adapters that must send it (XMPP SASL, TURN long-term
// credentials). Equality compares the text, so two parses of one file compare equal.
namespace EdgeVpn.RealNode.Config;

public sealed class Secret : IEquatable<Secret>
{
    public const string Hidden = "(hidden)";
    private readonly string _text;

    public Secret(string text) => _text = text;

    /// <summary>The credential itself, for the one adapter that must send it.</summary>
    public string Reveal() => _text;

    public int Length => _text.Length;

    public override string ToString() => Hidden;
    public bool Equals(Secret? other) => other is not null && string.Equals(_text, other._text, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is Secret s && Equals(s);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text);
}
