// The namespaces we speak and the stanzas we build and read: the standard ones (RFC 6120/6121,
// XEP-0199 ping) and our own two elements:
//   <presence><node xmlns='urn:edgevpn:xmpp:0' id='<32 hex digits>' overlay='...'/></presence>
//   <message to='peer' type='headline'><signal xmlns='urn:edgevpn:xmpp:0'>{json}</signal></message>
// Signals are 'headline' messages: RFC 6121 §5.2.2 lets servers neither store them offline nor
// redirect them to other resources, so a stale link request is never delivered hours later.
using System.Text;
using System.Text.Json;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public static class XmppNs
{
    public const string Client = "jabber:client";
    public const string Streams = XmlStreamParser.StreamsNamespace;
    public const string StreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";
    public const string Tls = "urn:ietf:params:xml:ns:xmpp-tls";
    public const string Sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
    public const string Bind = "urn:ietf:params:xml:ns:xmpp-bind";
    public const string Session = "urn:ietf:params:xml:ns:xmpp-session";
    public const string Stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
    public const string Roster = "jabber:iq:roster";
    public const string Ping = "urn:xmpp:ping";
    /// <summary>Our own namespace, versioned.</summary>
    public const string EdgeVpn = "urn:edgevpn:xmpp:0";
}

public static class XmppStanzas
{
    public static string StreamHeader(string domain, Jid? from)
    {
        var sb = new StringBuilder("<?xml version='1.0'?><stream:stream");
        XmlElement.AppendAttribute(sb, "to", domain);
        if (from is not null) XmlElement.AppendAttribute(sb, "from", from.ToString());
        sb.Append(" version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        return sb.ToString();
    }

    public const string StreamClose = "</stream:stream>";

    public static string StreamError(string condition) =>
        $"<stream:error><{condition} xmlns='{XmppNs.StreamErrors}'/></stream:error>";

    /// <summary>The XML of an element written inside a jabber:client stream.</summary>
    public static string InStream(XmlElement e)
    {
        var sb = new StringBuilder();
        e.Write(sb, XmppNs.Client);
        return sb.ToString();
    }

    /// <summary>A SASL payload as element text (RFC 6120 §6.4.2): base64 of its UTF-8, "=" when empty.</summary>
    public static string SaslText(string payload) =>
        payload.Length == 0 ? "=" : Convert.ToBase64String(Encoding.UTF8.GetBytes(payload));

    /// <summary>The payload of SASL element text: "" for none or "=", false when not base64 of UTF-8.</summary>
    public static bool TryDecodeSaslText(string text, out string decoded)
    {
        decoded = "";
        text = text.Trim();
        if (text is "" or "=") return true;
        var bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out int n)) return false;
        try { decoded = new UTF8Encoding(false, true).GetString(bytes, 0, n); }
        catch (DecoderFallbackException) { return false; }
        return true;
    }

    public static XmlElement Iq(string type, string id, string? to = null) =>
        new XmlElement("iq", XmppNs.Client).With("type", type).With("id", id).With("to", to);

    public static XmlElement Presence(NodeId node, string? overlay) =>
        new XmlElement("presence", XmppNs.Client)
            .Add(new XmlElement("node", XmppNs.EdgeVpn).With("id", node.ToString()).With("overlay", overlay));

    public static XmlElement Signal(Jid to, string id, string json) =>
        new XmlElement("message", XmppNs.Client).With("to", to.ToString()).With("type", "headline").With("id", id)
            .Add(new XmlElement("signal", XmppNs.EdgeVpn).WithText(json));

    /// <summary>The error reply RFC 6120 §8.4 demands for an iq request we do not handle.</summary>
    public static XmlElement IqError(XmlElement request, string condition)
    {
        var reply = new XmlElement("iq", XmppNs.Client).With("type", "error").With("id", request.Attr("id")).With("to", request.Attr("from"));
        return reply.Add(new XmlElement("error", XmppNs.Client).With("type", "cancel")
            .Add(new XmlElement(condition, XmppNs.Stanzas)));
    }

    /// <summary>Null when the JSON is well-formed, within the size and depth bounds; else the reason.</summary>
    public static string? CheckJson(string json, int bytesMax, int depthMax)
    {
        if (!XmlElement.IsValidXmlText(json)) return "payload holds characters XML cannot carry";
        int bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > bytesMax) return $"payload of {bytes} bytes exceeds {bytesMax}";
        if (bytes == 0) return "empty payload";
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = depthMax });
        try
        {
            while (reader.Read()) { }
            return null;
        }
        catch (JsonException e)
        {
            return "payload is not JSON: " + e.Message;
        }
    }
}
