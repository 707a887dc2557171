// The UDP sockets of one link end: one per chosen host address, bound to that address and an
// ephemeral port (the agent's "bases"), plus a receive loop per socket.
// Contract:
//  - Bind creates the sockets in the calling thread's network namespace (a socket stays in the
//    namespace it was made in, whichever thread later uses it; the tests rely on this).
//  - Each socket has its own receive thread (blocking recvfrom, woken every ReceivePoll to
//    notice Dispose), not the thread pool: a starved pool delays async completions by seconds
//    (measured under the test host), which breaks 50 ms pacing and consent timing. The thread
//    passes every datagram, with the base it arrived on and its sender, to the sink given to
//    Start; the sink must be thread-safe and must copy the bytes (the buffer is reused).
//  - Send never throws on network errors (unreachable, no buffer space, ...): it returns the
//    reason, and the caller logs and counts it. UDP is best effort.
//  - Dispose stops the receive threads and closes the sockets; safe to call twice, from any thread.
using System.Net;
using System.Net.Sockets;

namespace EdgeVpn.RealNode.Ice;

public sealed class UdpBases : IDisposable
{
    /// <summary>The largest UDP payload over IPv4.</summary>
    public const int ReceiveBufferBytes = 65_535;
    /// <summary>Consecutive receive errors on one socket after which its loop gives up.</summary>
    public const int ReceiveErrorsMax = 100;

    /// <summary>How often a blocked receive wakes up to notice Dispose.</summary>
    public static readonly TimeSpan ReceivePoll = TimeSpan.FromMilliseconds(250);

    private readonly List<(IPEndPoint Local, Socket Socket)> _sockets = [];
    private readonly List<Thread> _threads = [];
    private volatile bool _stopped;
    private int _disposed;

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
                socket.ReceiveTimeout = (int)ReceivePoll.TotalMilliseconds;
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

    /// <summary>Starts one receive thread per socket; loopEnded is told why a thread stopped early.</summary>
    public void Start(Action<IPEndPoint, IPEndPoint, ReadOnlySpan<byte>> sink, Action<IPEndPoint, string> loopEnded, string name)
    {
        foreach (var (local, socket) in _sockets)
        {
            var thread = new Thread(() => ReceiveLoop(local, socket, sink, loopEnded)) { IsBackground = true, Name = $"{name} udp {local}" };
            _threads.Add(thread);
            thread.Start();
        }
    }

    private void ReceiveLoop(IPEndPoint local, Socket socket, Action<IPEndPoint, IPEndPoint, ReadOnlySpan<byte>> sink, Action<IPEndPoint, string> loopEnded)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferBytes);
        EndPoint any = local.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        int errors = 0;
        while (!_stopped)
        {
            int n;
            EndPoint from = any;
            try
            {
                n = socket.ReceiveFrom(buffer, SocketFlags.None, ref from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                continue;   // the poll to notice Dispose
            }
            catch (SocketException e)
            {
                if (_stopped) return;
                // Linux reports ICMP errors on unconnected UDP sockets only with IP_RECVERR, so
                // these are rare; a socket that only fails is given up rather than spun on.
                if (++errors < ReceiveErrorsMax) continue;
                loopEnded(local, $"{errors} receive errors in a row, last {e.SocketErrorCode}");
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            errors = 0;
            sink(local, (IPEndPoint)from, buffer.AsSpan(0, n));
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

    /// <summary>Stops the receive threads (each within ReceivePoll) and closes the sockets.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopped = true;
        foreach (var t in _threads) if (t != Thread.CurrentThread) t.Join(ReceivePoll * 4);
        foreach (var (_, socket) in _sockets) socket.Dispose();
    }
}
