// The local control protocol between `edgevpn status` and a running node, over a Unix domain
// socket: the client sends one request line, the node answers one response line, then closes.
//   request   {"command":"status"}\n                    (at most RequestBytesMax bytes)
//   response  {"ok":true,"status":{…NodeStatus…}}\n
//             {"ok":false,"error":"…"}\n                 (a malformed or unknown request)
// Field names are camelCase. Contract: ParseRequest and ParseResponse never throw; they refuse
// anything but the shapes above (unknown fields included) with a one-line reason.
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.RealNode.Host;

public enum ControlCommand { Status }

public static class ControlProtocol
{
    public const int RequestBytesMax = 4096;
    public const int ResponseBytesMax = 4 << 20;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 8,
        // A local socket read by our own client and by people: keep quotes and accents readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string StatusRequest => "{\"command\":\"status\"}";

    public static ParseResult<ControlCommand> ParseRequest(ReadOnlySpan<byte> line)
    {
        if (line.Length > RequestBytesMax) return ParseResult<ControlCommand>.Fail($"request longer than {RequestBytesMax} bytes");
        try
        {
            using var doc = JsonDocument.Parse(line.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ParseResult<ControlCommand>.Fail("request must be a JSON object");
            int fields = 0;
            foreach (var p in root.EnumerateObject())
            {
                fields++;
                if (p.Name != "command") return ParseResult<ControlCommand>.Fail($"unknown field '{EdgeVpn.Protocol.Core.Printable.Of(p.Name, 40)}'");
            }
            if (fields != 1 || !root.TryGetProperty("command", out var c) || c.ValueKind != JsonValueKind.String)
                return ParseResult<ControlCommand>.Fail("request needs exactly one field, \"command\", a string");
            return c.GetString() switch
            {
                "status" => ControlCommand.Status,
                var other => ParseResult<ControlCommand>.Fail($"unknown command '{EdgeVpn.Protocol.Core.Printable.Of(other, 40)}'"),
            };
        }
        catch (JsonException e)
        {
            return ParseResult<ControlCommand>.Fail("request is not JSON: " + EdgeVpn.Protocol.Core.Printable.Of(e.Message, 120));
        }
    }

    public static string StatusResponse(NodeStatus status) =>
        "{\"ok\":true,\"status\":" + JsonSerializer.Serialize(status, Json) + "}";

    public static string ErrorResponse(string error) =>
        "{\"ok\":false,\"error\":" + JsonSerializer.Serialize(error, Json) + "}";

    /// <summary>The status, or the node's (or the parser's) error.</summary>
    public static ParseResult<NodeStatus> ParseResponse(string line)
    {
        if (line.Length > ResponseBytesMax) return ParseResult<NodeStatus>.Fail("response too long");
        try
        {
            using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 8 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ParseResult<NodeStatus>.Fail("response has no \"ok\" field");
            if (ok.ValueKind == JsonValueKind.False)
                return ParseResult<NodeStatus>.Fail("the node refused: " + (root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : "(no reason)"));
            if (!root.TryGetProperty("status", out var s)) return ParseResult<NodeStatus>.Fail("response has no \"status\"");
            var status = s.Deserialize<NodeStatus>(Json);
            return status is null ? ParseResult<NodeStatus>.Fail("empty status") : status;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return ParseResult<NodeStatus>.Fail("response is not a status: " + EdgeVpn.Protocol.Core.Printable.Of(e.Message, 120));
        }
    }

    public static byte[] Line(string json) => Encoding.UTF8.GetBytes(json + "\n");
}
