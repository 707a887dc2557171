// Which of the host's addresses become ICE host candidates (one UDP socket each). Select is
// pure over a snapshot of the interfaces so that the rules are tested without a real host;
// Enumerate takes that snapshot from the operating system (in the calling thread's network
// namespace: getifaddrs asks the kernel over netlink).
// Rules: skip interfaces that are down (anything but Up; Unknown is kept, because Linux reports
// "unknown" for loopback, tun/tap and for interfaces .NET cannot find in /sys, e.g. when the
// thread entered another network namespace), skip loopback unless IncludeLoopback, skip
// interfaces named in ExcludedInterfaces (the overlay's own tap must never carry its underlay),
// skip unspecified, multicast and IPv6 link-local addresses (they need a scope id that does not
// survive signaling), IPv6 only when IncludeIpv6. At most AddressesMax addresses, in interface
// order then address order, duplicates removed.
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace EdgeVpn.RealNode.Ice;

/// <summary>One interface as the selection sees it.</summary>
public sealed record HostInterface(string Name, bool Up, bool Loopback, IReadOnlyList<IPAddress> Addresses);

public sealed record HostInterfaceOptions
{
    public bool IncludeLoopback { get; init; }
    public bool IncludeIpv6 { get; init; } = true;
    /// <summary>Interface names never used (e.g. the overlay's tap).</summary>
    public IReadOnlyList<string> ExcludedInterfaces { get; init; } = [];
    /// <summary>When not empty, exactly these addresses are used and the interfaces are not asked.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];
    public int AddressesMax { get; init; } = 8;
}

public static class HostInterfaces
{
    public static IReadOnlyList<IPAddress> Select(IEnumerable<HostInterface> interfaces, HostInterfaceOptions options)
    {
        var chosen = new List<IPAddress>();
        foreach (var i in interfaces)
        {
            if (!i.Up || (i.Loopback && !options.IncludeLoopback) || options.ExcludedInterfaces.Contains(i.Name, StringComparer.Ordinal)) continue;
            foreach (var a in i.Addresses)
            {
                if (chosen.Count == options.AddressesMax) return chosen;
                if (Usable(a, options) && (options.IncludeLoopback || !IPAddress.IsLoopback(a)) && !chosen.Contains(a)) chosen.Add(a);
            }
        }
        return chosen;
    }

    private static bool Usable(IPAddress a, HostInterfaceOptions options) => a.AddressFamily switch
    {
        AddressFamily.InterNetwork => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.Broadcast) && (a.GetAddressBytes()[0] & 0xF0) != 0xE0,
        AddressFamily.InterNetworkV6 => options.IncludeIpv6 && !a.Equals(IPAddress.IPv6Any) && !a.IsIPv6LinkLocal && !a.IsIPv6Multicast
            && !a.IsIPv4MappedToIPv6 && !a.IsIPv6SiteLocal,
        _ => false,
    };

    /// <summary>The addresses to bind: the configured ones, or the selection over the host's interfaces now.</summary>
    public static IReadOnlyList<IPAddress> Choose(HostInterfaceOptions options) =>
        options.Addresses.Count > 0 ? [.. options.Addresses.Take(options.AddressesMax)] : Select(Enumerate(), options);

    /// <summary>A snapshot of the host's interfaces (in the calling thread's network namespace).</summary>
    public static IReadOnlyList<HostInterface> Enumerate() =>
        [.. NetworkInterface.GetAllNetworkInterfaces().Select(n => new HostInterface(
            n.Name,
            n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown,
            n.NetworkInterfaceType == NetworkInterfaceType.Loopback,
            [.. n.GetIPProperties().UnicastAddresses.Select(u => u.Address)]))];
}
