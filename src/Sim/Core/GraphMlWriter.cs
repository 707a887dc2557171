// Writes an overlay as GraphML (read by networkx.read_graphml and Gephi): nodes carry their
// 32-hex-digit id, edges their link kind. Undirected, one edge per link.
using System.Security;
using EdgeVpn.Protocol.Links;

namespace EdgeVpn.Sim;

public static class GraphMlWriter
{
    public static void Write(TextWriter w, Simulation sim, Overlay overlay)
    {
        w.WriteLine("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        w.WriteLine("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">");
        w.WriteLine("  <key id=\"nid\" for=\"node\" attr.name=\"nodeId\" attr.type=\"string\"/>");
        w.WriteLine("  <key id=\"pos\" for=\"node\" attr.name=\"ringPosition\" attr.type=\"double\"/>");
        w.WriteLine("  <key id=\"type\" for=\"edge\" attr.name=\"linkType\" attr.type=\"string\"/>");
        w.WriteLine("  <graph id=\"overlay\" edgedefault=\"undirected\">");
        foreach (var n in sim.Nodes)
        {
            if (!n.Alive) continue;
            double pos = Protocol.Ring.NodeId.FractionOfRing(n.Id.Value);
            w.WriteLine($"    <node id=\"n{n.Index}\"><data key=\"nid\">{n.Id}</data><data key=\"pos\">{pos.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}</data></node>");
        }
        int e = 0;
        foreach (var edge in overlay.Edges)
            w.WriteLine($"    <edge id=\"e{e++}\" source=\"n{edge.Initiator}\" target=\"n{edge.Responder}\"><data key=\"type\">{SecurityElement.Escape(KindName(edge.Kind))}</data></edge>");
        w.WriteLine("  </graph>");
        w.WriteLine("</graphml>");
    }

    public static string KindName(LinkKind kind) => kind switch
    {
        LinkKind.Successor => "successor",
        LinkKind.LongDistance => "long",
        LinkKind.OnDemand => "ondemand",
        _ => kind.ToString(),
    };
}
