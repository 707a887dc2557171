// Turns the config file's Ice (and Tap) sections into the link transport's options: the STUN and
// TURN servers as the first pass of the ServerAddressBook resolved them, the overlay's own tap
// excluded from the host candidates (its traffic must never carry its own underlay), and the
// configured datagram bound.
// Resolution (the book's contract has the details):
//   - at start every name is looked up at once, and all of them within one bound
//     (ServerAddressBook.ResolveTimeout), so an unreachable DNS server holds the start for that
//     bound only; cancelling (SIGINT/SIGTERM during start) ends the wait at once;
//   - a name that does not resolve then is skipped with a warning, so a node still links over host
//     candidates on its LAN; the book looks it up again with back-off while the node runs;
//   - of the TURN servers the first listed that resolves is used (the agent allocates on one
//     relay; the later ones are the fallbacks a second entry is listed for);
//   - these options are the template; each new link reads the servers as the book holds them then
//     (IceDtlsTransportOptions.Servers), so a name that resolves later, or an address that changes,
//     reaches the next link setup without a restart.
// Log lines never contain a password.
using EdgeVpn.Protocol.Ice;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.RealNode.Link;

public static class IceDtlsConfig
{
    /// <summary>The options with every server resolved or skipped within the book's bound; throws
    /// OperationCanceledException only when ct is cancelled.</summary>
    public static async Task<IceLinkOptions> LinkOptionsAsync(IceSettings ice, TapSettings? tap, ServerAddressBook servers, CancellationToken ct)
    {
        await servers.ResolveAllAsync(ct);
        return new IceLinkOptions(servers.Current.ApplyTo(new IceConfig()))
        {
            Interfaces = new HostInterfaceOptions { ExcludedInterfaces = tap is null ? [] : [tap.Name] },
            DatagramBytesMax = ice.DatagramBytesMax,
        };
    }
}
