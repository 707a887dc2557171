// The node's side of the control socket (protocol: ControlProtocol). Listens on a Unix domain
// socket whose directory is created owner-only (0700) and whose file is owner/group (0660): the
// status holds no secret, but it is not for every local user either.
// Bounds: ClientsMax connections served at once (more wait in the listen backlog), a request
// line of at most RequestBytesMax bytes read within ReadTimeout, then one reply and close.
// A stale socket (a socket file nobody listens on) is replaced; a live one is an error naming the
// path, so two nodes never share one socket; any other file at the path is left alone and is an
// error. The file is removed on Dispose.
using System.Net.Sockets;
using EdgeVpn.Platform;

namespace EdgeVpn.RealNode.Host;

public sealed class ControlServer : IAsyncDisposable
{
    public const int ClientsMax = 8;
    private readonly Socket _listener;
    private readonly Func<CancellationToken, Task<NodeStatus>> _status;
    private readonly SemaphoreSlim _slots = new(ClientsMax);
    private readonly CancellationTokenSource _stop = new();
    private Task? _accepting;

    public string Path { get; }
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);

    private ControlServer(string path, Socket listener, Func<CancellationToken, Task<NodeStatus>> status)
    {
        Path = path;
        _listener = listener;
        _status = status;
    }

    /// <summary>The most bytes a Unix socket path holds (sun_path is 108 bytes with its NUL).</summary>
    public const int PathBytesMax = 107;

    /// <summary>Binds the socket; the error (an IOException or SocketException) names the cause:
    /// permission, in use, too long, or a file there that is not a socket. On failure nothing it
    /// made is left behind (directories included).</summary>
    public static ControlServer Start(string path, Func<CancellationToken, Task<NodeStatus>> status)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the control socket is a Unix domain socket (Linux)");
        // Checked before anything is made: the default path ($XDG_RUNTIME_DIR/edgevpn/OVERLAY.sock)
        // is built from the environment and the overlay id, so the config's own bound never saw it.
        if (path.Contains('\0', StringComparison.Ordinal)) throw new IOException("the path contains a NUL character");
        int bytes = System.Text.Encoding.UTF8.GetByteCount(path);
        if (bytes > PathBytesMax)
            throw new IOException($"the path is {bytes} bytes, longer than {PathBytesMax} bytes (the most a Unix socket path holds); set a shorter Control.Socket");
        string? dir = System.IO.Path.GetDirectoryName(path);
        string? created = null;   // the topmost directory made here, removed again on failure
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
        {
            for (string? d = dir; !string.IsNullOrEmpty(d) && !Directory.Exists(d); d = System.IO.Path.GetDirectoryName(d)) created = d;
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            ReplaceStaleSocket(path);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            if (created is not null) RemoveCreated(dir!, created);
            throw;
        }
        var server = new ControlServer(path, listener, status);
        server._accepting = server.AcceptLoopAsync();
        return server;
    }

    /// <summary>Deletes a socket file nobody listens on (what a crashed node leaves); refuses a live
    /// socket and anything that is not a socket. A typo in Control.Socket must never delete a real
    /// file, not even an empty one (a lock or flag file), and the node runs as root.</summary>
    private static void ReplaceStaleSocket(string path)
    {
        var kind = UnixFileKinds.Of(path);
        if (kind == UnixFileKind.Missing) return;
        if (kind != UnixFileKind.Socket)
            throw new IOException($"the path exists and is not a socket ({UnixFileKinds.Describe(kind)}); it is left alone: remove it or set another Control.Socket");
        if (IsLive(path)) throw new IOException($"control socket {path} is in use by another running node");
        File.Delete(path);
    }

    /// <summary>Removes the directories from dir up to top (made by Start), each only when empty.</summary>
    private static void RemoveCreated(string dir, string top)
    {
        for (string? d = dir; d is not null; d = System.IO.Path.GetDirectoryName(d))
        {
            try { Directory.Delete(d); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
            if (d == top) return;
        }
    }

    private static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { probe.Connect(new UnixDomainSocketEndPoint(path)); return true; }
        catch (SocketException) { return false; }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(_stop.Token);
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using (client)
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(ReadTimeout);
                string reply;
                var line = await ReadLineAsync(client, timeout.Token);
                if (line is null) reply = ControlProtocol.ErrorResponse($"no request line within {ControlProtocol.RequestBytesMax} bytes and {ReadTimeout.TotalSeconds:0} s");
                else
                {
                    var request = ControlProtocol.ParseRequest(line);
                    reply = !request.Ok ? ControlProtocol.ErrorResponse(request.Error!)
                        : ControlProtocol.StatusResponse(await _status(timeout.Token));
                }
                await client.SendAsync(ControlProtocol.Line(reply), SocketFlags.None, timeout.Token);
                client.Shutdown(SocketShutdown.Send);
                await DrainAsync(client, timeout.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or System.Threading.Channels.ChannelClosedException)
        {
            // The client went away, was too slow, or the node is stopping: nothing to answer.
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Reads and drops what the client still sends (bounded), so that closing with unread
    /// bytes does not reset the connection before the client has read the reply.</summary>
    private static async Task DrainAsync(Socket client, CancellationToken ct)
    {
        var sink = new byte[4096];
        try
        {
            for (int total = 0; total < 1 << 20;)
            {
                int n = await client.ReceiveAsync(sink, SocketFlags.None, ct);
                if (n == 0) return;
                total += n;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
    }

    /// <summary>Bytes up to the first newline, or null when none came within the bounds.</summary>
    private static async Task<byte[]?> ReadLineAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[ControlProtocol.RequestBytesMax + 1];
        int filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                int n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
                if (n == 0) return null;
                int newline = Array.IndexOf(buffer, (byte)'\n', filled, n);
                filled += n;
                if (newline >= 0) return buffer[..newline];
            }
        }
        catch (OperationCanceledException) { }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        if (_accepting is not null) await _accepting;
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _stop.Dispose();
    }
}

/// <summary>The `edgevpn status` side: one request, one response.</summary>
public static class ControlClient
{
    public static async Task<Protocol.Core.ParseResult<NodeStatus>> StatusAsync(string path, TimeSpan timeout)
    {
        if (!File.Exists(path)) return Protocol.Core.ParseResult<NodeStatus>.Fail($"no control socket at {path} (is the node running?)");
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
            await socket.SendAsync(ControlProtocol.Line(ControlProtocol.StatusRequest), SocketFlags.None, cts.Token);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var bytes = new MemoryStream();
            var chunk = new byte[16 * 1024];
            while (bytes.Length <= ControlProtocol.ResponseBytesMax)
            {
                int n = await stream.ReadAsync(chunk, cts.Token);
                if (n == 0) break;
                bytes.Write(chunk, 0, n);
            }
            return ControlProtocol.ParseResponse(System.Text.Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\n'));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return Protocol.Core.ParseResult<NodeStatus>.Fail($"cannot talk to a node at {path}: {(e is OperationCanceledException ? "timed out" : e.Message)}");
        }
    }
}
