// A small XML element tree for XMPP stanzas: local name, namespace, attributes in document
// order, child elements and the concatenated character data. Hand-written (no XMPP package is
// served, and System.Xml's DOM is neither incremental nor bounded the way a stream needs).
// Mixed content keeps only the text (XMPP payloads never interleave text and elements where
// order matters). Attribute names are kept as written (e.g. "xml:lang"); namespace
// declarations are not attributes here: an element's Namespace is already resolved.
// Serialization (ToXml) declares xmlns only where an element's namespace differs from its
// parent's, and escapes text and attribute values; it never emits a character XML forbids
// because Create/Add reject such strings (IsValidXmlText) with an ArgumentException, which
// only our own code can trigger: peer input is checked before it gets here.
using System.Text;

namespace EdgeVpn.Protocol.Xmpp;

public sealed class XmlElement
{
    private readonly List<KeyValuePair<string, string>> _attributes = [];
    private readonly List<XmlElement> _children = [];
    private string _text = "";

    public XmlElement(string name, string ns)
    {
        if (name.Length == 0) throw new ArgumentException("an element needs a name", nameof(name));
        Name = name;
        Namespace = ns;
    }

    public string Name { get; }
    public string Namespace { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Attributes => _attributes;
    public IReadOnlyList<XmlElement> Children => _children;
    public string Text => _text;

    public string? Attr(string name)
    {
        foreach (var a in _attributes) if (a.Key == name) return a.Value;
        return null;
    }

    public XmlElement? Child(string name, string ns)
    {
        foreach (var c in _children) if (c.Name == name && c.Namespace == ns) return c;
        return null;
    }

    public IEnumerable<XmlElement> ChildrenNamed(string name, string ns) =>
        _children.Where(c => c.Name == name && c.Namespace == ns);

    public bool Is(string name, string ns) => Name == name && Namespace == ns;

    /// <summary>Adds or replaces an attribute; a null value is skipped (for optional attributes).</summary>
    public XmlElement With(string name, string? value)
    {
        if (value is null) return this;
        RequireValid(value, name);
        for (int i = 0; i < _attributes.Count; i++)
            if (_attributes[i].Key == name) { _attributes[i] = new(name, value); return this; }
        _attributes.Add(new(name, value));
        return this;
    }

    public XmlElement Add(XmlElement child) { _children.Add(child); return this; }

    public XmlElement WithText(string text)
    {
        RequireValid(text, "text");
        _text = text;
        return this;
    }

    internal void AppendTextUnchecked(string text) => _text = _text.Length == 0 ? text : _text + text;
    internal void AddAttributeUnchecked(string name, string value) => _attributes.Add(new(name, value));

    public string ToXml()
    {
        var sb = new StringBuilder();
        Write(sb, parentNamespace: null);
        return sb.ToString();
    }

    public override string ToString() => ToXml();

    /// <summary>Writes this element as a child of an element in parentNamespace (null: a root).</summary>
    internal void Write(StringBuilder sb, string? parentNamespace)
    {
        sb.Append('<').Append(Name);
        if (Namespace != parentNamespace) AppendAttribute(sb, "xmlns", Namespace);
        foreach (var a in _attributes) AppendAttribute(sb, a.Key, a.Value);
        if (_children.Count == 0 && _text.Length == 0) { sb.Append("/>"); return; }
        sb.Append('>');
        AppendEscaped(sb, _text, attribute: false);
        foreach (var c in _children) c.Write(sb, Namespace);
        sb.Append("</").Append(Name).Append('>');
    }

    internal static void AppendAttribute(StringBuilder sb, string name, string value)
    {
        sb.Append(' ').Append(name).Append("='");
        AppendEscaped(sb, value, attribute: true);
        sb.Append('\'');
    }

    /// <summary>Valid XML text escaped for an attribute value in single quotes (or, attribute: false, character data).</summary>
    public static string Escape(string s, bool attribute = true)
    {
        var sb = new StringBuilder(s.Length);
        AppendEscaped(sb, s, attribute);
        return sb.ToString();
    }

    private static void AppendEscaped(StringBuilder sb, string s, bool attribute)
    {
        foreach (char c in s)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '\'' when attribute: sb.Append("&apos;"); break;
                case '"' when attribute: sb.Append("&quot;"); break;
                // Attribute-value normalization would turn literal whitespace into spaces.
                case '\t' when attribute: sb.Append("&#9;"); break;
                case '\n' when attribute: sb.Append("&#10;"); break;
                case '\r': sb.Append("&#13;"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>True when every character of s may appear in an XML 1.0 document.</summary>
    public static bool IsValidXmlText(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c < 0x20) { if (c is '\t' or '\n' or '\r') continue; return false; }
            if (c is '\uFFFE' or '\uFFFF') return false;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
                return false;
            }
            if (char.IsLowSurrogate(c)) return false;
        }
        return true;
    }

    private static void RequireValid(string s, string what)
    {
        if (!IsValidXmlText(s)) throw new ArgumentException($"{what} holds a character XML does not allow", what);
    }
}
