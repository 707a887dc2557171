// The JSON signaling payload that travels inside our XMPP <signal/> element (and in trace lines):
// link negotiation (LinkRequest / LinkResponse / LinkComplete) and, for lookup membership,
// membership messages relayed by the server. Our own format (EdgeVPN also sends JSON over XMPP,
// with other field names):
//   {"v":1,"t":"request","link":"<16 hex>","kind":"successor|long|ondemand"}
//   {"v":1,"t":"response","link":"…","refusal":"none|collision|…","endpoint":"…","fingerprint":"…"}
//   {"v":1,"t":"complete","link":"…","endpoint":"…","fingerprint":"…"}
//   {"v":1,"t":"membership","data":"<base64 of MembershipCodec bytes>"}
// Contract: Decode never throws; it refuses another version, an unknown type or enum word, a
// missing or mistyped field, unknown fields, and anything over PayloadBytesMax. Encode writes
// compact JSON on one line. The sender's node id is not in the payload: the host takes it from
// the XMPP presence of the sending address, so a peer cannot speak for another node id.
using System.Text;
using System.Text.Json;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;

namespace EdgeVpn.Protocol.Node;

/// <summary>One decoded payload: exactly one of Link and Membership is set.</summary>
public readonly record struct SignalPayload(LinkSignal? Link, MembershipMessage? Membership);

public static class SignalCodec
{
    public const int Version = 1;
    public const int PayloadBytesMax = 16 * 1024;

    private static readonly (string Word, LinkKind Kind)[] Kinds =
        [("successor", LinkKind.Successor), ("long", LinkKind.LongDistance), ("ondemand", LinkKind.OnDemand)];
    private static readonly (string Word, LinkRefusal Refusal)[] Refusals =
    [
        ("none", LinkRefusal.None), ("collision", LinkRefusal.Collision), ("too-many-incoming-long", LinkRefusal.TooManyIncomingLong),
        ("too-many-incoming", LinkRefusal.TooManyIncoming), ("not-accepting", LinkRefusal.NotAccepting), ("excluded", LinkRefusal.Excluded),
    ];

    public static string Encode(LinkSignal signal)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            switch (signal)
            {
                case LinkRequest r:
                    w.WriteString("t", "request");
                    w.WriteString("link", r.Link.ToString());
                    w.WriteString("kind", Kinds.First(k => k.Kind == r.Kind).Word);
                    break;
                case LinkResponse r:
                    w.WriteString("t", "response");
                    w.WriteString("link", r.Link.ToString());
                    w.WriteString("refusal", Refusals.First(k => k.Refusal == r.Refusal).Word);
                    w.WriteString("endpoint", r.Endpoint);
                    w.WriteString("fingerprint", r.Fingerprint);
                    break;
                case LinkComplete c:
                    w.WriteString("t", "complete");
                    w.WriteString("link", c.Link.ToString());
                    w.WriteString("endpoint", c.Endpoint);
                    w.WriteString("fingerprint", c.Fingerprint);
                    break;
                default:
                    throw new ArgumentException($"unknown link signal {signal.GetType().Name}", nameof(signal));
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Encode(MembershipMessage message) =>
        $"{{\"v\":{Version},\"t\":\"membership\",\"data\":\"{Convert.ToBase64String(MembershipCodec.Encode(message))}\"}}";

    public static ParseResult<SignalPayload> Decode(string json)
    {
        if (json.Length > PayloadBytesMax || Encoding.UTF8.GetByteCount(json) > PayloadBytesMax)
            return ParseResult<SignalPayload>.Fail($"signal payload larger than {PayloadBytesMax} bytes");
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            return Read(doc.RootElement);
        }
        catch (JsonException e)
        {
            return ParseResult<SignalPayload>.Fail("signal payload is not JSON: " + Printable(e.Message));
        }
    }

    private static ParseResult<SignalPayload> Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return Fail("must be a JSON object");
        var seen = new List<string>();
        foreach (var p in root.EnumerateObject())
        {
            if (seen.Contains(p.Name)) return Fail($"duplicate field '{Printable(p.Name)}'");
            seen.Add(p.Name);
        }
        if (!root.TryGetProperty("v", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int version))
            return Fail("field 'v' (version) is missing or not a number");
        if (version != Version) return Fail($"version {version} is not {Version}");
        string? type = Text(root, "t");
        string[] allowed = type switch
        {
            "request" => ["v", "t", "link", "kind"],
            "response" => ["v", "t", "link", "refusal", "endpoint", "fingerprint"],
            "complete" => ["v", "t", "link", "endpoint", "fingerprint"],
            "membership" => ["v", "t", "data"],
            _ => [],
        };
        if (allowed.Length == 0) return Fail($"unknown type '{Printable(type ?? "(missing)")}'");
        foreach (string name in seen)
            if (!allowed.Contains(name)) return Fail($"unknown field '{Printable(name)}' in a {type}");
        foreach (string name in allowed)
            if (!root.TryGetProperty(name, out _)) return Fail($"field '{name}' is missing from a {type}");

        if (type == "membership")
        {
            string? data = Text(root, "data");
            if (data is null) return Fail("field 'data' must be a string");
            byte[] bytes;
            try { bytes = Convert.FromBase64String(data); }
            catch (FormatException) { return Fail("field 'data' is not base64"); }
            var m = MembershipCodec.Parse(bytes);
            return m.Ok ? new SignalPayload(null, m.Value) : Fail("membership message: " + m.Error);
        }

        var link = LinkId.Parse(Text(root, "link"));
        if (!link.Ok) return Fail(link.Error!);
        if (type == "request")
        {
            string? kind = Text(root, "kind");
            var k = Kinds.FirstOrDefault(x => x.Word == kind);
            if (k.Word is null) return Fail($"unknown link kind '{Printable(kind ?? "(not a string)")}'");
            return new SignalPayload(new LinkRequest(link.Value, k.Kind), null);
        }
        string? endpoint = Text(root, "endpoint"), fingerprint = Text(root, "fingerprint");
        if (endpoint is null || fingerprint is null) return Fail("fields 'endpoint' and 'fingerprint' must be strings");
        if (type == "complete") return new SignalPayload(new LinkComplete(link.Value, endpoint, fingerprint), null);
        string? refusal = Text(root, "refusal");
        var r = Refusals.FirstOrDefault(x => x.Word == refusal);
        if (r.Word is null) return Fail($"unknown refusal '{Printable(refusal ?? "(not a string)")}'");
        return new SignalPayload(new LinkResponse(link.Value, r.Refusal, endpoint, fingerprint), null);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    private static ParseResult<SignalPayload> Fail(string problem) => ParseResult<SignalPayload>.Fail("signal payload: " + problem);

    private static string Printable(string s) => Core.Printable.Of(s, 60);
}
