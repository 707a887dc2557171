// Settings of one real ICE link end (IceLink): the pure agent's configuration, which host
// addresses to bind, and the bounds of the queues between the sockets, the loop and the layer
// above. Validate names every value out of range. Never log an IceLinkOptions or its IceConfig:
// the TURN password is in them (the records' generated ToString would print it).
namespace EdgeVpn.RealNode.Ice;

public sealed record IceLinkOptions
{
    public IceLinkOptions(Protocol.Ice.IceConfig ice) => Ice = ice;

    public Protocol.Ice.IceConfig Ice { get; init; }
    public HostInterfaceOptions Interfaces { get; init; } = new();
    /// <summary>Received datagrams waiting for the loop; beyond this they are dropped and counted.</summary>
    public int InputDatagramsMax { get; init; } = 4096;
    /// <summary>Application datagrams waiting for the layer above (IDatagramPath.Received).</summary>
    public int ReceivedDatagramsMax { get; init; } = 4096;
    /// <summary>Application datagrams waiting to be sent; beyond this IDatagramPath.Send refuses.</summary>
    public int SendDatagramsMax { get; init; } = 4096;
    /// <summary>The largest application datagram; TURN framing (at most 36 bytes) comes on top.</summary>
    public int DatagramBytesMax { get; init; } = 16 * 1024;
    /// <summary>Log lines about dropped datagrams and send errors per link; later ones are only counted.</summary>
    public int DropLogsMax { get; init; } = 50;
    /// <summary>Kernel receive buffer per socket (SO_RCVBUF, capped by net.core.rmem_max).</summary>
    public int SocketReceiveBufferBytes { get; init; } = 1 << 20;
    /// <summary>The agent's random seed (credentials, tie-breaker, transaction ids); null draws one from the OS.</summary>
    public ulong? Seed { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Ice.Validate());
        void Count(string name, int v, int min, int max)
        {
            if (v < min || v > max) problems.Add($"{name} {v} is outside [{min}, {max}]");
        }
        Count(nameof(InputDatagramsMax), InputDatagramsMax, 1, 1 << 20);
        Count(nameof(ReceivedDatagramsMax), ReceivedDatagramsMax, 1, 1 << 20);
        Count(nameof(SendDatagramsMax), SendDatagramsMax, 1, 1 << 20);
        Count(nameof(DatagramBytesMax), DatagramBytesMax, 1, 65_000);
        Count(nameof(DropLogsMax), DropLogsMax, 0, 100_000);
        Count(nameof(SocketReceiveBufferBytes), SocketReceiveBufferBytes, 4096, 1 << 28);
        Count("Interfaces.AddressesMax", Interfaces.AddressesMax, 1, Ice.LocalInterfacesMax);
        return problems;
    }
}
