// Turns the config file's Ice (and Tap) sections into the link transport's options: STUN and
// TURN servers resolved to addresses once at start (a name that does not resolve is skipped
// with a warning, so a node still links over host candidates on its LAN), only the first TURN
// server used (the agent allocates on one relay; a warning names the rest), the overlay's own
// tap excluded from the host candidates (its traffic must never carry its own underlay), and
// the configured datagram bound. Warnings never contain a password.
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.RealNode.Link;

public static class IceDtlsConfig
{
    public static IceLinkOptions LinkOptions(IceSettings ice, TapSettings? tap, List<string> warnings)
    {
        var stun = new List<IPEndPoint>();
        for (int i = 0; i < ice.Stun.Count; i++)
            if (Resolve(ice.Stun[i], $"Ice.Stun[{i}]", warnings) is { } e) stun.Add(e);
        IceTurnServer? turn = null;
        if (ice.Turn.Count > 0 && Resolve(ice.Turn[0].Address, "Ice.Turn[0].Address", warnings) is { } t)
            turn = new IceTurnServer(t, ice.Turn[0].User, ice.Turn[0].Password.Reveal());
        if (ice.Turn.Count > 1) warnings.Add($"Ice.Turn: only the first TURN server is used; {ice.Turn.Count - 1} more ignored");
        return new IceLinkOptions(new IceConfig { StunServers = stun, Turn = turn })
        {
            Interfaces = new HostInterfaceOptions { ExcludedInterfaces = tap is null ? [] : [tap.Name] },
            DatagramBytesMax = ice.DatagramBytesMax,
        };
    }

    private static IPEndPoint? Resolve(ServerAddress server, string field, List<string> warnings)
    {
        if (IPAddress.TryParse(server.Host, out var literal)) return new IPEndPoint(literal, server.Port);
        try
        {
            var addresses = Dns.GetHostAddresses(server.Host);
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (chosen is not null) return new IPEndPoint(chosen, server.Port);
            warnings.Add($"{field}: {server.Host} has no address; server skipped");
        }
        catch (SocketException e)
        {
            warnings.Add($"{field}: cannot resolve {server.Host} ({e.SocketErrorCode}); server skipped");
        }
        return null;
    }
}
