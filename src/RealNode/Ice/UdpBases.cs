// The UDP sockets of one link end: one per chosen host address, bound to that address and an
// ephemeral port (the agent's "bases"), plus a receive loop per socket.
// Contract:
//  - Bind creates the sockets in the calling thread's network namespace (a socket stays in the
//    namespace it was made in, whichever thread later uses it; the tests rely on this).
//  - Each receive loop passes every datagram, with the base it arrived on and its sender, to the
//    sink given to Start, from a thread-pool thread; the sink must be thread-safe and must copy
//    the bytes (the buffer is reused for the next datagram).
//  - Send never throws on network errors (unreachable, no buffer space, ...): it returns the
//    reason, and the caller logs and counts it. UDP is best effort.
//  - Dispose stops the loops and closes the sockets; safe to call twice.
using System.Net;
using System.Net.Sockets;

namespace EdgeVpn.RealNode.Ice;

public sealed class UdpBases : IDisposable
{
    /// <summary>The largest UDP payload over IPv4.</summary>
    public const int ReceiveBufferBytes = 65_535;
    /// <summary>Consecutive receive errors on one socket after which its loop gives up.</summary>
    public const int ReceiveErrorsMax = 100;

    private readonly List<(IPEndPoint Local, Socket Socket)> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private UdpBases() { }

    /// <summary>The bound local endpoints, in the order of the addresses given.</summary>
    public IReadOnlyList<IPEndPoint> Locals => [.. _sockets.Select(s => s.Local)];

    /// <summary>Binds one socket per address; addresses that cannot be bound are skipped and reported in failures.</summary>
    public static UdpBases Bind(IReadOnlyList<IPAddress> addresses, int receiveBufferBytes, List<string> failures)
    {
        var bases = new UdpBases();
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                if (address.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
                socket.ReceiveBufferSize = receiveBufferBytes;
                socket.Bind(new IPEndPoint(address, 0));
                bases._sockets.Add(((IPEndPoint)socket.LocalEndPoint!, socket));
            }
            catch (SocketException e)
            {
                failures.Add($"cannot bind UDP on {address}: {e.SocketErrorCode}");
                socket.Dispose();
            }
        }
        return bases;
    }

    /// <summary>Starts one receive loop per socket; loopEnded is told why a loop stopped early.</summary>
    public void Start(Action<IPEndPoint, IPEndPoint, ReadOnlySpan<byte>> sink, Action<IPEndPoint, string> loopEnded)
    {
        foreach (var (local, socket) in _sockets)
            _loops.Add(Task.Run(() => ReceiveLoopAsync(local, socket, sink, loopEnded)));
    }

    private async Task ReceiveLoopAsync(IPEndPoint local, Socket socket, Action<IPEndPoint, IPEndPoint, ReadOnlySpan<byte>> sink, Action<IPEndPoint, string> loopEnded)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferBytes);
        EndPoint any = local.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        int errors = 0;
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Linux reports ICMP errors on unconnected UDP sockets only with IP_RECVERR, so
                // these are rare; a socket that only fails is given up rather than spun on.
                if (++errors < ReceiveErrorsMax) continue;
                loopEnded(local, $"{errors} receive errors in a row, last {e.SocketErrorCode}");
                return;
            }
            errors = 0;
            sink(local, (IPEndPoint)r.RemoteEndPoint, buffer.AsSpan(0, r.ReceivedBytes));
        }
    }

    /// <summary>Sends from the socket bound to from; null when sent, else why not.</summary>
    public string? Send(IPEndPoint from, IPEndPoint to, byte[] bytes)
    {
        foreach (var (local, socket) in _sockets)
        {
            if (!local.Equals(from)) continue;
            try
            {
                socket.SendTo(bytes, SocketFlags.None, to);
                return null;
            }
            catch (SocketException e)
            {
                return $"send {bytes.Length} bytes {from} -> {to}: {e.SocketErrorCode}";
            }
            catch (ObjectDisposedException)
            {
                return "socket closed";
            }
        }
        return $"no socket bound to {from}";
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        foreach (var (_, socket) in _sockets) socket.Dispose();
        try { Task.WaitAll([.. _loops], TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stop.Dispose();
    }
}
