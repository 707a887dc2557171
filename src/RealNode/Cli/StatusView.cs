// How `edgevpn status` prints a NodeStatus: a summary line, then one row per link with fixed
// columns; RTT "-" when the transport has none (path "unknown" until ICE is bound).
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeVpn.RealNode.Host;

namespace EdgeVpn.RealNode.Cli;

public static class StatusView
{
    public static readonly JsonSerializerOptions IndentedJson = new(ControlProtocol.Json) { WriteIndented = true };

    public static string Table(NodeStatus s)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"node {s.NodeId}  overlay {s.OverlayId}  account {s.Account}\n");
        b.Append(CultureInfo.InvariantCulture, $"signaling {s.Signaling}  members {s.Members}  links up (total) {s.LinksUpTotal}  link failures {s.LinkFailuresTotal}  uptime {s.UptimeSeconds:0.0} s\n");
        if (s.LastLinkFailure is not null) b.Append(CultureInfo.InvariantCulture, $"last link failure: {s.LastLinkFailure}\n");
        if (s.LastTransportError is not null) b.Append(CultureInfo.InvariantCulture, $"last transport error: {s.LastTransportError}\n");
        if (s.Links.Count == 0) { b.Append("no links\n"); return b.ToString(); }
        string[] head = ["PEER", "LINK", "KIND", "STATE", "ROLE", "PATH", "RTT ms", "IN bytes", "OUT bytes", "AGE s"];
        var rows = new List<string[]> { head };
        foreach (var l in s.Links)
            rows.Add([l.Peer[..Math.Min(8, l.Peer.Length)], l.Link, l.Kind, l.State, l.Initiator ? "initiator" : "responder", l.Path,
                l.RttMs is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) : "-",
                l.BytesIn.ToString(CultureInfo.InvariantCulture), l.BytesOut.ToString(CultureInfo.InvariantCulture),
                l.AgeSeconds.ToString("0", CultureInfo.InvariantCulture)]);
        var widths = Enumerable.Range(0, head.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var r in rows)
            b.Append(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        return b.ToString();
    }
}
