// An incremental, bounded parser for one XMPP XML stream (RFC 6120 §4, §11): bytes in, events
// out (the stream header, each complete stanza as an XmlElement tree, the stream's end, or one
// error). Hand-written: no XMPP package is served, and System.Xml's readers pull from a stream
// and block, which does not fit a sans-IO session fed arbitrary chunks.
//
// The XML subset is the one RFC 6120 §11.1 allows: elements, attributes, character data,
// CDATA, the five predefined entities and character references, and an XML declaration before
// the root. Comments, processing instructions, DTDs and other entity references are refused
// ("restricted-xml"). Namespaces are resolved (default and prefixed); an undeclared prefix is
// "bad-namespace-prefix".
//
// Bounds (XmlLimits): a stanza's size in bytes (its tokens, whatever the chunking), the depth
// of elements inside a stanza, attributes per element, and the stream header's size. The
// buffered bytes never exceed the larger of those limits plus one fed chunk.
//
// Errors: the first malformed or oversized input yields one Error event with an RFC 6120 stream
// error condition and a reason, and the parser ignores everything after it (an XML stream cannot
// be resynchronized after malformed XML). Nothing in here throws on any input.
// Reset() starts a new stream (after STARTTLS and after SASL success) and discards any bytes
// still buffered, returning their count so the caller can refuse plaintext injected before TLS.
using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace EdgeVpn.Protocol.Xmpp;

public sealed record XmlLimits(int StanzaBytesMax = 65_536, int DepthMax = 16, int AttributesMax = 32, int HeaderBytesMax = 4_096)
{
    public static readonly XmlLimits Default = new();
}

public abstract record XmlStreamEvent
{
    /// <summary>The opening &lt;stream:stream&gt; tag (an element without children).</summary>
    public sealed record Header(XmlElement Stream) : XmlStreamEvent;
    /// <summary>A complete first-level child of the stream.</summary>
    public sealed record Stanza(XmlElement Element) : XmlStreamEvent;
    /// <summary>&lt;/stream:stream&gt;: the peer closed its stream.</summary>
    public sealed record End : XmlStreamEvent;
    /// <summary>Condition: an RFC 6120 §4.9.3 stream error condition name.</summary>
    public sealed record Error(string Condition, string Reason) : XmlStreamEvent;
}

public sealed class XmlStreamParser(XmlLimits limits)
{
    public const string StreamsNamespace = "http://etherx.jabber.org/streams";
    private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";

    private sealed class Open(string qName, XmlElement? element, List<KeyValuePair<string, string>>? declarations)
    {
        public string QName { get; } = qName;
        public XmlElement? Element { get; } = element;   // null for the stream root
        public List<KeyValuePair<string, string>>? Declarations { get; } = declarations;
    }

    private readonly XmlLimits _limits = limits;
    private readonly List<Open> _open = [];
    private readonly Queue<XmlStreamEvent> _events = new();
    private byte[] _buf = [];
    private int _start, _end;
    private int _scanned;          // bytes of the pending token already scanned
    private byte _quote;           // the open quote inside a pending start tag, or 0
    private int _stanzaBytes;      // bytes consumed by the stanza being built
    private bool _failed, _ended, _declarationAllowed = true;

    public XmlStreamParser() : this(XmlLimits.Default) { }

    public XmlLimits Limits => _limits;
    public bool Failed => _failed;
    public int BufferedBytes => _end - _start;

    public int Reset()
    {
        int discarded = _end - _start;
        _open.Clear();
        _events.Clear();
        _start = _end = _scanned = _stanzaBytes = 0;
        _quote = 0;
        _failed = _ended = false;
        _declarationAllowed = true;
        if (_buf.Length > 2 * _limits.StanzaBytesMax) _buf = [];
        return discarded;
    }

    public bool TryPollEvent(out XmlStreamEvent ev) => _events.TryDequeue(out ev!);

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_failed || _ended || data.IsEmpty) return;
        Append(data);
        ParseTokens();
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_end + data.Length > _buf.Length)
        {
            int pending = _end - _start;
            if (pending + data.Length > _buf.Length)
            {
                var bigger = new byte[Math.Max(pending + data.Length, Math.Max(4096, _buf.Length * 2))];
                Array.Copy(_buf, _start, bigger, 0, pending);
                _buf = bigger;
            }
            else Array.Copy(_buf, _start, _buf, 0, pending);
            _start = 0;
            _end = pending;
        }
        data.CopyTo(_buf.AsSpan(_end));
        _end += data.Length;
    }

    private bool InStanza => _open.Count >= 2;

    private void ParseTokens()
    {
        while (!_failed && !_ended && _end > _start)
        {
            var avail = _buf.AsSpan(_start, _end - _start);
            if (avail[0] != (byte)'<')
            {
                if (!InStanza) { ConsumeWhitespaceOutsideStanzas(avail); continue; }
                int lt = avail[_scanned..].IndexOf((byte)'<');
                if (lt < 0) { Wait(avail.Length); return; }
                int len = _scanned + lt;
                if (!Count(len)) return;
                OnText(avail[..len], raw: false);
                Consume(len);
                continue;
            }
            if (avail.Length < 2) { Wait(avail.Length); return; }
            int tokenLength = avail[1] switch
            {
                (byte)'?' => FindTerminator(avail, "?>"u8),
                (byte)'!' => ScanBang(avail),
                (byte)'/' => FindTerminator(avail, ">"u8),
                _ => ScanStartTag(avail),
            };
            if (_failed) return;
            if (tokenLength < 0) { Wait(avail.Length); return; }
            var token = avail[..tokenLength];
            bool startsStanza = _open.Count == 1 && avail[1] != (byte)'/';
            if (startsStanza) _stanzaBytes = 0;
            if ((InStanza || startsStanza) && !Count(tokenLength)) return;
            switch (avail[1])
            {
                case (byte)'?': OnDeclaration(token); break;
                case (byte)'!': OnText(token[9..^3], raw: true); break;   // only CDATA reaches here
                case (byte)'/': OnEndTag(token[2..^1]); break;
                default: OnStartTag(token[1..^1]); break;
            }
            Consume(tokenLength);
        }
    }

    private void ConsumeWhitespaceOutsideStanzas(ReadOnlySpan<byte> avail)
    {
        int n = 0;
        while (n < avail.Length && avail[n] != (byte)'<')
        {
            if (avail[n] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                Fail("not-well-formed", _open.Count == 0 ? "text before the stream header" : "text between stanzas");
                return;
            }
            n++;
        }
        Consume(n);
    }

    /// <summary>Counts consumed stanza bytes; false (and failed) when the stanza is too big.</summary>
    private bool Count(int tokenLength)
    {
        _stanzaBytes += tokenLength;
        if (_stanzaBytes <= _limits.StanzaBytesMax) return true;
        Fail("policy-violation", $"stanza larger than {_limits.StanzaBytesMax} bytes");
        return false;
    }

    /// <summary>An incomplete token: keep it, unless it is already too big to ever be accepted.</summary>
    private void Wait(int pending)
    {
        int max = InStanza ? _limits.StanzaBytesMax - _stanzaBytes
            : _open.Count == 1 ? _limits.StanzaBytesMax
            : _limits.HeaderBytesMax;
        if (pending > max)
            Fail("policy-violation", _open.Count == 0 ? $"stream header larger than {_limits.HeaderBytesMax} bytes" : $"stanza larger than {_limits.StanzaBytesMax} bytes");
    }

    private void Consume(int n)
    {
        _start += n;
        _scanned = 0;
        _quote = 0;
        if (_start == _end) _start = _end = 0;
    }

    private int FindTerminator(ReadOnlySpan<byte> avail, ReadOnlySpan<byte> terminator)
    {
        int from = Math.Max(2, _scanned - terminator.Length + 1);
        int i = avail[from..].IndexOf(terminator);
        if (i < 0) { _scanned = avail.Length; return -1; }
        return from + i + terminator.Length;
    }

    private int ScanBang(ReadOnlySpan<byte> avail)
    {
        ReadOnlySpan<byte> cdata = "<![CDATA["u8;
        int n = Math.Min(avail.Length, cdata.Length);
        if (!avail[..n].SequenceEqual(cdata[..n]))
        {
            Fail("restricted-xml", avail.Length > 3 && avail[2] == '-' ? "comments are not allowed in XMPP" : "DTDs and declarations are not allowed in XMPP");
            return -1;
        }
        if (n < cdata.Length) return -1;
        if (!InStanza) { Fail("not-well-formed", "CDATA outside a stanza"); return -1; }
        int from = Math.Max(cdata.Length, _scanned - 2);
        int i = avail[from..].IndexOf("]]>"u8);
        if (i < 0) { _scanned = avail.Length; return -1; }
        return from + i + 3;
    }

    private int ScanStartTag(ReadOnlySpan<byte> avail)
    {
        for (int i = Math.Max(1, _scanned); i < avail.Length; i++)
        {
            byte b = avail[i];
            if (_quote != 0) { if (b == _quote) _quote = 0; }
            else if (b is (byte)'"' or (byte)'\'') _quote = b;
            else if (b == (byte)'>') return i + 1;
            else if (b == (byte)'<') { Fail("not-well-formed", "'<' inside a tag"); return -1; }
        }
        _scanned = avail.Length;
        return -1;
    }

    private void OnDeclaration(ReadOnlySpan<byte> token)
    {
        if (!_declarationAllowed || _open.Count != 0 || !token.StartsWith("<?xml"u8) || token.Length < 7 || !IsSpace(token[5]))
        {
            Fail("restricted-xml", "processing instructions are not allowed in XMPP");
            return;
        }
        _declarationAllowed = false;
        if (!TryDecode(token, out string text)) return;
        if (text.Contains("encoding", StringComparison.Ordinal)
            && !text.Contains("UTF-8", StringComparison.OrdinalIgnoreCase))
            Fail("unsupported-encoding", "the stream is not UTF-8");
    }

    private void OnStartTag(ReadOnlySpan<byte> content)
    {
        _declarationAllowed = false;
        if (!TryDecode(content, out string text)) return;
        bool selfClosing = text.EndsWith('/');
        if (selfClosing) text = text[..^1];
        int pos = 0;
        string qName = ReadName(text, ref pos);
        if (qName.Length == 0) { Fail("not-well-formed", "a tag without a name"); return; }

        var attributes = new List<KeyValuePair<string, string>>();
        List<KeyValuePair<string, string>>? declarations = null;
        while (true)
        {
            int ws = pos;
            while (pos < text.Length && IsSpace(text[pos])) pos++;
            if (pos >= text.Length) break;
            if (pos == ws) { Fail("not-well-formed", $"no space before an attribute of <{qName}>"); return; }
            string name = ReadName(text, ref pos);
            while (pos < text.Length && IsSpace(text[pos])) pos++;
            if (name.Length == 0 || pos >= text.Length || text[pos] != '=') { Fail("not-well-formed", $"a malformed attribute in <{qName}>"); return; }
            pos++;
            while (pos < text.Length && IsSpace(text[pos])) pos++;
            if (pos >= text.Length || text[pos] is not ('"' or '\'')) { Fail("not-well-formed", $"attribute {name} of <{qName}> is not quoted"); return; }
            char q = text[pos];
            int close = text.IndexOf(q, pos + 1);
            if (close < 0) { Fail("not-well-formed", $"attribute {name} of <{qName}> is not closed"); return; }
            string raw = text[(pos + 1)..close];
            pos = close + 1;
            if (raw.Contains('<')) { Fail("not-well-formed", $"'<' in attribute {name} of <{qName}>"); return; }
            if (!TryUnescape(raw, attribute: true, out string value)) return;
            if (attributes.Count + (declarations?.Count ?? 0) >= _limits.AttributesMax)
            {
                Fail("policy-violation", $"<{qName}> has more than {_limits.AttributesMax} attributes");
                return;
            }
            if (name == "xmlns" || name.StartsWith("xmlns:", StringComparison.Ordinal))
            {
                string prefix = name == "xmlns" ? "" : name[6..];
                if (prefix is "xml" or "xmlns" || (prefix.Length > 0 && value.Length == 0))
                {
                    Fail("bad-namespace-prefix", $"<{qName}> declares the reserved or empty prefix {name}");
                    return;
                }
                declarations ??= [];
                if (declarations.Any(d => d.Key == prefix)) { Fail("not-well-formed", $"<{qName}> declares {name} twice"); return; }
                declarations.Add(new(prefix, value));
                continue;
            }
            if (attributes.Any(a => a.Key == name)) { Fail("not-well-formed", $"<{qName}> has attribute {name} twice"); return; }
            attributes.Add(new(name, value));
        }

        var open = new Open(qName, null, declarations);
        _open.Add(open);   // pushed first so that its own declarations resolve its name
        int colon = qName.IndexOf(':');
        string prefixOfName = colon < 0 ? "" : qName[..colon];
        string local = colon < 0 ? qName : qName[(colon + 1)..];
        string? ns = Resolve(prefixOfName);
        if (ns is null || local.Length == 0) { Fail("bad-namespace-prefix", $"<{qName}> uses an undeclared prefix"); return; }
        foreach (var a in attributes)
        {
            int c = a.Key.IndexOf(':');
            if (c >= 0 && Resolve(a.Key[..c]) is null) { Fail("bad-namespace-prefix", $"attribute {a.Key} of <{qName}> uses an undeclared prefix"); return; }
        }
        _open.RemoveAt(_open.Count - 1);

        var element = new XmlElement(local, ns);
        foreach (var a in attributes) element.AddAttributeUnchecked(a.Key, a.Value);

        if (_open.Count == 0)
        {
            if (local != "stream" || ns != StreamsNamespace)
            {
                Fail("invalid-namespace", $"the stream root is <{qName}> in '{ns}', not <stream> in {StreamsNamespace}");
                return;
            }
            _events.Enqueue(new XmlStreamEvent.Header(element));
            if (selfClosing) { _ended = true; _events.Enqueue(new XmlStreamEvent.End()); return; }
            _open.Add(new Open(qName, null, declarations));
            return;
        }
        if (_open.Count - 1 >= _limits.DepthMax)
        {
            Fail("policy-violation", $"elements nested deeper than {_limits.DepthMax} in a stanza");
            return;
        }
        _open[^1].Element?.Add(element);
        if (selfClosing)
        {
            if (_open.Count == 1) EmitStanza(element);
            return;
        }
        _open.Add(new Open(qName, element, declarations));
    }

    private void OnEndTag(ReadOnlySpan<byte> content)
    {
        if (!TryDecode(content, out string text)) return;
        string name = text.TrimEnd(' ', '\t', '\r', '\n');
        if (_open.Count == 0) { Fail("not-well-formed", $"end tag </{name}> before the stream header"); return; }
        var top = _open[^1];
        if (name != top.QName) { Fail("not-well-formed", $"end tag </{name}> does not close <{top.QName}>"); return; }
        _open.RemoveAt(_open.Count - 1);
        if (_open.Count == 0) { _ended = true; _events.Enqueue(new XmlStreamEvent.End()); return; }
        if (_open.Count == 1) EmitStanza(top.Element!);
    }

    private void EmitStanza(XmlElement element)
    {
        _events.Enqueue(new XmlStreamEvent.Stanza(element));
        _stanzaBytes = 0;
    }

    private void OnText(ReadOnlySpan<byte> bytes, bool raw)
    {
        if (!TryDecode(bytes, out string text)) return;
        if (!raw && !TryUnescape(text, attribute: false, out text)) return;
        _open[^1].Element!.AppendTextUnchecked(text);
    }

    private string? Resolve(string prefix)
    {
        if (prefix == "xml") return XmlNamespace;
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            var decls = _open[i].Declarations;
            if (decls is null) continue;
            foreach (var d in decls) if (d.Key == prefix) return d.Value;
        }
        return prefix.Length == 0 ? "" : null;
    }

    private bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        text = "";
        char[] chars = ArrayPool<char>.Shared.Rent(bytes.Length + 1);
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out _, out int written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done) { Fail("not-well-formed", "invalid UTF-8"); return false; }
            text = new string(chars, 0, written);
        }
        finally { ArrayPool<char>.Shared.Return(chars); }
        if (!XmlElement.IsValidXmlText(text)) { Fail("not-well-formed", "a character XML does not allow"); return false; }
        return true;
    }

    /// <summary>Resolves the predefined entities and character references; attribute values get
    /// literal whitespace normalized to spaces (XML 1.0 §3.3.3).</summary>
    private bool TryUnescape(string raw, bool attribute, out string value)
    {
        value = raw;
        if (raw.IndexOf('&') < 0 && !(attribute && raw.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)) return true;
        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '&') { sb.Append(attribute && c is '\t' or '\n' or '\r' ? ' ' : c); continue; }
            int semi = raw.IndexOf(';', i + 1);
            if (semi < 0 || semi - i > 12) { Fail("not-well-formed", "'&' outside an entity reference"); return false; }
            string entity = raw[(i + 1)..semi];
            i = semi;
            switch (entity)
            {
                case "lt": sb.Append('<'); continue;
                case "gt": sb.Append('>'); continue;
                case "amp": sb.Append('&'); continue;
                case "quot": sb.Append('"'); continue;
                case "apos": sb.Append('\''); continue;
            }
            if (!entity.StartsWith('#')) { Fail("restricted-xml", $"entity &{entity}; is not allowed in XMPP"); return false; }
            bool hex = entity.StartsWith("#x", StringComparison.Ordinal);
            string digits = entity[(hex ? 2 : 1)..];
            if (digits.Length == 0 || !int.TryParse(digits, hex ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int cp)
                || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            {
                Fail("not-well-formed", $"bad character reference &{entity};");
                return false;
            }
            string s = char.ConvertFromUtf32(cp);
            if (!XmlElement.IsValidXmlText(s)) { Fail("not-well-formed", $"character reference &{entity}; names a character XML does not allow"); return false; }
            sb.Append(s);
        }
        value = sb.ToString();
        return true;
    }

    private static string ReadName(string text, ref int pos)
    {
        int start = pos;
        while (pos < text.Length && !IsSpace(text[pos]) && text[pos] is not ('=' or '/' or '"' or '\'' or '>' or '<' or '&')) pos++;
        string name = text[start..pos];
        if (name.Length > 0 && (char.IsAsciiDigit(name[0]) || name[0] is '-' or '.' or ':')) return "";
        return name;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';
    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private void Fail(string condition, string reason)
    {
        if (_failed) return;
        _failed = true;
        _events.Enqueue(new XmlStreamEvent.Error(condition, reason));
    }
}
