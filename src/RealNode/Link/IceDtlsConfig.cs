// Turns the config file's Ice (and Tap) sections into the link transport's options: STUN and
// TURN servers resolved to addresses once at start, the overlay's own tap excluded from the host
// candidates (its traffic must never carry its own underlay), and the configured datagram bound.
// Resolution:
//   - every name is looked up at once, and all of them within one bound (ResolveTimeout): with an
//     unreachable DNS server each lookup blocks ~10 s, and names looked up one after another
//     held the start for that long per name, with nothing in the log;
//   - a name that does not resolve within the bound is skipped with a warning, so a node still
//     links over host candidates on its LAN;
//   - the agent allocates on one relay, so of the TURN servers the first that resolves is used
//     (the log names it): the later ones are the fallbacks a second entry is listed for;
//   - cancelling (SIGINT/SIGTERM during start) ends the wait at once.
// Names are not looked up again later: a node started before DNS works runs without the servers
// whose names failed until it is restarted (the warning says so).
// Log lines never contain a password.
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.RealNode.Link;

/// <summary>Looks a host name up (Dns.GetHostAddressesAsync in the node; a fake in tests).</summary>
public delegate Task<IPAddress[]> NameResolver(string host, CancellationToken ct);

public static class IceDtlsConfig
{
    /// <summary>How long start waits for all STUN and TURN names together.</summary>
    public static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    public static readonly NameResolver SystemResolver = (host, ct) => Dns.GetHostAddressesAsync(host, ct);

    /// <summary>The options with every server resolved or skipped within bound; throws
    /// OperationCanceledException only when ct is cancelled.</summary>
    public static async Task<IceLinkOptions> LinkOptionsAsync(IceSettings ice, TapSettings? tap, HostLog log, NameResolver resolve, TimeSpan bound, CancellationToken ct)
    {
        var names = ice.Stun.Concat(ice.Turn.Select(t => t.Address))
            .Select(s => s.Host).Where(h => !IPAddress.TryParse(h, out _)).Distinct(StringComparer.Ordinal).ToList();
        var lookups = new Dictionary<string, Task<Lookup>>(StringComparer.Ordinal);
        if (names.Count > 0)
        {
            log(XmppLogLevel.Info, $"resolving {names.Count} STUN/TURN server name{(names.Count == 1 ? "" : "s")} (at most {bound.TotalSeconds:0.#} s): {string.Join(", ", names)}");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(bound);
            foreach (var name in names) lookups[name] = LookUpAsync(resolve, name, bound, deadline.Token);
            await Task.WhenAll(lookups.Values);
            ct.ThrowIfCancellationRequested();
        }

        var stun = new List<IPEndPoint>();
        for (int i = 0; i < ice.Stun.Count; i++)
            if (Address(ice.Stun[i], $"Ice.Stun[{i}]", lookups, log) is { } e) stun.Add(e);
        IceTurnServer? turn = null;
        for (int i = 0; i < ice.Turn.Count && turn is null; i++)
        {
            if (Address(ice.Turn[i].Address, $"Ice.Turn[{i}].Address", lookups, log) is not { } t) continue;
            turn = new IceTurnServer(t, ice.Turn[i].User, ice.Turn[i].Password.Reveal());
            int unused = ice.Turn.Count - i - 1;
            log(XmppLogLevel.Info, $"TURN server: Ice.Turn[{i}] {ice.Turn[i].Address} ({t})"
                + (i > 0 ? ", the first that resolves" : "")
                + (unused > 0 ? $"; {unused} more not used (the agent allocates on one relay)" : ""));
        }
        return new IceLinkOptions(new IceConfig { StunServers = stun, Turn = turn })
        {
            Interfaces = new HostInterfaceOptions { ExcludedInterfaces = tap is null ? [] : [tap.Name] },
            DatagramBytesMax = ice.DatagramBytesMax,
        };
    }

    private sealed record Lookup(IPAddress? Address, string? Problem);

    private static IPEndPoint? Address(ServerAddress server, string field, Dictionary<string, Task<Lookup>> lookups, HostLog log)
    {
        if (IPAddress.TryParse(server.Host, out var literal)) return new IPEndPoint(literal, server.Port);
        var result = lookups[server.Host].Result;   // every lookup has ended (WhenAll above)
        if (result.Address is { } a) return new IPEndPoint(a, server.Port);
        log(XmppLogLevel.Warning, $"{field}: {server.Host} {result.Problem}; server skipped until the node restarts");
        return null;
    }

    /// <summary>Never throws: a failure, the bound or cancellation is a Problem.</summary>
    private static async Task<Lookup> LookUpAsync(NameResolver resolve, string host, TimeSpan bound, CancellationToken ct)
    {
        try
        {
            // WaitAsync: a resolver that does not heed the token still ends here at the bound.
            var addresses = await resolve(host, ct).WaitAsync(ct);
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return chosen is not null ? new Lookup(chosen, null) : new Lookup(null, "has no address");
        }
        catch (SocketException e) { return new Lookup(null, $"cannot be resolved ({e.SocketErrorCode})"); }
        catch (OperationCanceledException) { return new Lookup(null, $"was not resolved within {bound.TotalSeconds:0.#} s"); }
        catch (ArgumentException e) { return new Lookup(null, $"cannot be resolved ({e.Message})"); }
    }
}
