// What the virtual UDP fabric did with one datagram. RouteResult is the allocation-free form the
// simulator's per-packet path uses; FabricRoute is the same outcome with IPEndPoints, for code
// that speaks the ICE agent's types (Transmit/Datagram carry IPEndPoint).
namespace EdgeVpn.Sim.Net;

/// <summary>Delivered to Host, which sees it come from SeenSource and arrive at its own LocalDestination; or dropped.</summary>
public readonly record struct RouteResult(int Host, Ip4Endpoint SeenSource, Ip4Endpoint LocalDestination, DropReason Drop)
{
    public bool Delivered => Drop == DropReason.None;

    public static RouteResult Deliver(int host, Ip4Endpoint seenSource, Ip4Endpoint localDestination) =>
        new(host, seenSource, localDestination, DropReason.None);

    public static RouteResult Dropped(DropReason reason) => new(-1, default, default, reason);

    public FabricRoute ToFabricRoute() => Delivered
        ? new FabricRoute.Delivery(Host, SeenSource.ToIPEndPoint(), LocalDestination.ToIPEndPoint())
        : new FabricRoute.Drop(Drop);

    public override string ToString() => Delivered ? $"host {Host}: {SeenSource} -> {LocalDestination}" : $"drop({Drop})";
}

public abstract record FabricRoute
{
    private FabricRoute() { }

    public sealed record Delivery(int HostId, System.Net.IPEndPoint SeenSource, System.Net.IPEndPoint LocalDestination) : FabricRoute;

    public sealed record Drop(DropReason Reason) : FabricRoute;
}
