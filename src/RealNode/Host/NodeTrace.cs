// The node trace: every (time, input) the host gave the node's machines, one line each, so that
// a test can replay a real run into fresh pure machines and get the same outputs. Text, so a
// person can read it; frames and opaque strings in base64.
//   header  edgevpn-trace 1 node=<32 hex> seed=<u64> fingerprint=<base64 of UTF-8>
//   lines   <ns> T                        HandleTimeout(now)
//           <ns> P <id>,<id>,…|-          Presence(view of these ids; versions renumber from 1)
//           <ns> S <from id> <json>       Signal (the link signal in SignalCodec's JSON, to end of line)
//           <ns> E <link> <b64 endpoint>  EndpointPrepared
//           <ns> U|D|K <link>             TransportUp / TransportDown / KeepAlive
//           <ns> F <link> <b64 frame>     LinkFrame
//           <ns> L <b64 frame>            LocalFrame
//           <ns> X                        Leave
//           <ns> B <id>|-                 Bootstrap (lookup membership)
//           <ns> M <from id> <b64>        Membership (MembershipCodec bytes)
//           # …                           a comment (e.g. "# truncated at N bytes")
// <ns> is the node's Instant in nanoseconds. Contract: ParseLine never throws; a malformed line
// is an error naming the line's kind. Configuration is not in the trace: replay takes the same
// EdgeNodeConfig (the node's config file holds it).
using System.Globalization;
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

public readonly record struct TraceHeader(NodeId Node, ulong Seed, string Fingerprint);

/// <summary>One trace entry: Input null means HandleTimeout.</summary>
public readonly record struct TraceEntry(Instant At, NodeInput? Input);

public static class NodeTrace
{
    public const int Version = 1;
    public const string Magic = "edgevpn-trace";
    public const int LineCharsMax = 1 << 20;

    public static string FormatHeader(TraceHeader h) =>
        $"{Magic} {Version} node={h.Node} seed={h.Seed.ToString(CultureInfo.InvariantCulture)} fingerprint={B64(Encoding.UTF8.GetBytes(h.Fingerprint))}";

    public static ParseResult<TraceHeader> ParseHeader(string? line)
    {
        var parts = (line ?? "").Split(' ');
        if (parts.Length != 5 || parts[0] != Magic) return ParseResult<TraceHeader>.Fail($"not an {Magic} header");
        if (parts[1] != Version.ToString(CultureInfo.InvariantCulture)) return ParseResult<TraceHeader>.Fail($"trace version {Cut(parts[1])} is not {Version}");
        if (!parts[2].StartsWith("node=", StringComparison.Ordinal) || !parts[3].StartsWith("seed=", StringComparison.Ordinal) || !parts[4].StartsWith("fingerprint=", StringComparison.Ordinal))
            return ParseResult<TraceHeader>.Fail("header fields must be node=, seed=, fingerprint=");
        var node = NodeId.Parse(parts[2][5..]);
        if (!node.Ok) return ParseResult<TraceHeader>.Fail("header: " + node.Error);
        if (!ulong.TryParse(parts[3][5..], NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)) return ParseResult<TraceHeader>.Fail("header: seed is not a number");
        var fp = FromB64(parts[4][12..]);
        if (fp is null) return ParseResult<TraceHeader>.Fail("header: fingerprint is not base64");
        return new TraceHeader(node.Value, seed, Encoding.UTF8.GetString(fp));
    }

    public static string Format(TraceEntry e)
    {
        string ns = e.At.Nanoseconds.ToString(CultureInfo.InvariantCulture);
        return e.Input switch
        {
            null => $"{ns} T",
            NodeInput.Presence p => $"{ns} P {(p.View.Count == 0 ? "-" : string.Join(",", p.View.Members.ToArray()))}",
            NodeInput.Signal s => $"{ns} S {s.From} {SignalCodec.Encode(s.Message)}",
            NodeInput.EndpointPrepared ep => $"{ns} E {ep.Link} {B64(Encoding.UTF8.GetBytes(ep.Endpoint))}",
            NodeInput.TransportUp u => $"{ns} U {u.Link}",
            NodeInput.TransportDown d => $"{ns} D {d.Link}",
            NodeInput.KeepAlive k => $"{ns} K {k.Link}",
            NodeInput.LinkFrame f => $"{ns} F {f.Link} {B64(f.Frame)}",
            NodeInput.LocalFrame l => $"{ns} L {B64(l.Frame)}",
            NodeInput.Leave => $"{ns} X",
            NodeInput.Bootstrap b => $"{ns} B {(b.Member is { } m ? m.ToString() : "-")}",
            NodeInput.Membership m => $"{ns} M {m.From} {B64(MembershipCodec.Encode(m.Message))}",
            _ => throw new ArgumentException($"unknown node input {e.Input.GetType().Name}", nameof(e)),
        };
    }

    /// <summary>Parses one entry line; comment lines give Ok with a null result.</summary>
    public static ParseResult<TraceEntry?> ParseLine(string line, ref long presenceVersion)
    {
        if (line.Length > LineCharsMax) return Fail("line longer than the bound");
        if (line.StartsWith('#')) return ParseResult<TraceEntry?>.Success(null);
        int s1 = line.IndexOf(' ');
        if (s1 < 0 || !long.TryParse(line.AsSpan(0, s1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ns))
            return Fail("a line starts with the time in nanoseconds and a space");
        string rest = line[(s1 + 1)..];
        string kind = rest.Length > 0 ? rest[..1] : "";
        string args = rest.Length > 2 ? rest[2..] : "";
        if (rest.Length > 1 && rest[1] != ' ') return Fail($"unknown kind '{Cut(rest)}'");
        var at = new Instant(ns);
        switch (kind)
        {
            case "T": return Entry(at, null, args.Length == 0);
            case "X": return Entry(at, new NodeInput.Leave(), args.Length == 0);
            case "P":
            {
                if (args == "-") return Entry(at, new NodeInput.Presence(new MembershipView([], ++presenceVersion)), true);
                var ids = new List<NodeId>();
                foreach (var part in args.Split(','))
                {
                    var id = NodeId.Parse(part);
                    if (!id.Ok) return Fail("P: " + id.Error);
                    ids.Add(id.Value);
                }
                return Entry(at, new NodeInput.Presence(new MembershipView(ids.ToArray(), ++presenceVersion)), true);
            }
            case "S":
            {
                int sp = args.IndexOf(' ');
                if (sp < 0) return Fail("S: want a node id and a JSON payload");
                var from = NodeId.Parse(args[..sp]);
                if (!from.Ok) return Fail("S: " + from.Error);
                var payload = SignalCodec.Decode(args[(sp + 1)..]);
                if (!payload.Ok || payload.Value.Link is null) return Fail("S: " + (payload.Error ?? "not a link signal"));
                return Entry(at, new NodeInput.Signal(from.Value, payload.Value.Link), true);
            }
            case "E" or "F":
            {
                var parts = args.Split(' ');
                if (parts.Length != 2) return Fail($"{kind}: want a link id and base64");
                var link = LinkId.Parse(parts[0]);
                var bytes = FromB64(parts[1]);
                if (!link.Ok || bytes is null) return Fail($"{kind}: bad link id or base64");
                return Entry(at, kind == "E" ? new NodeInput.EndpointPrepared(link.Value, Encoding.UTF8.GetString(bytes)) : new NodeInput.LinkFrame(link.Value, bytes), true);
            }
            case "U" or "D" or "K":
            {
                var link = LinkId.Parse(args);
                if (!link.Ok) return Fail($"{kind}: {link.Error}");
                NodeInput input = kind switch { "U" => new NodeInput.TransportUp(link.Value), "D" => new NodeInput.TransportDown(link.Value), _ => new NodeInput.KeepAlive(link.Value) };
                return Entry(at, input, true);
            }
            case "L":
            {
                var bytes = FromB64(args);
                return bytes is null ? Fail("L: bad base64") : Entry(at, new NodeInput.LocalFrame(bytes), true);
            }
            case "B":
            {
                if (args == "-") return Entry(at, new NodeInput.Bootstrap(null), true);
                var id = NodeId.Parse(args);
                return id.Ok ? Entry(at, new NodeInput.Bootstrap(id.Value), true) : Fail("B: " + id.Error);
            }
            case "M":
            {
                var parts = args.Split(' ');
                if (parts.Length != 2) return Fail("M: want a node id and base64");
                var from = NodeId.Parse(parts[0]);
                var bytes = FromB64(parts[1]);
                if (!from.Ok || bytes is null) return Fail("M: bad node id or base64");
                var m = MembershipCodec.Parse(bytes);
                return m.Ok ? Entry(at, new NodeInput.Membership(from.Value, m.Value), true) : Fail("M: " + m.Error);
            }
            default: return Fail($"unknown kind '{Cut(kind)}'");
        }
    }

    /// <summary>A stable one-line description of an output, for comparing a run with its replay.</summary>
    public static string Describe(NodeOutput o) => o switch
    {
        NodeOutput.SendOnLink s => $"SendOnLink {s.Link} {s.Peer} {Convert.ToHexString(s.Frame)}",
        NodeOutput.DeliverLocal d => $"DeliverLocal {Convert.ToHexString(d.Frame)}",
        NodeOutput.SendMembership m => $"SendMembership {m.To} {m.ViaSignaling} {Convert.ToHexString(MembershipCodec.Encode(m.Message))}",
        _ => o.ToString(),
    };

    private static ParseResult<TraceEntry?> Entry(Instant at, NodeInput? input, bool wellFormed) =>
        wellFormed ? ParseResult<TraceEntry?>.Success(new TraceEntry(at, input)) : Fail("trailing text");

    private static ParseResult<TraceEntry?> Fail(string problem) => ParseResult<TraceEntry?>.Fail("trace line: " + problem);

    private static string B64(byte[] b) => b.Length == 0 ? "=" : Convert.ToBase64String(b);

    private static byte[]? FromB64(string s)
    {
        if (s == "=") return [];
        if (s.Length == 0) return null;
        try { return Convert.FromBase64String(s); }
        catch (FormatException) { return null; }
    }

    private static string Cut(string s) => EdgeVpn.Protocol.Core.Printable.Of(s, 20);
}
