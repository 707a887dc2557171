// The socket adapter around XmppSession: one loop owns the session and performs its transport
// intents on a real TCP socket and SslStream, feeding back what happened. Everything the
// session decides is in the session; this file only moves bytes and reads the clock.
//   - Time comes from the TimeProvider given (Instant = time since the client was made).
//   - One read at a time, started by the loop only after the previous chunk was handed to the
//     session and its outputs performed. So when <proceed/> arrives no plaintext read is pending,
//     and the TLS handshake owns the socket until it ends.
//   - Writes are awaited in order, each bounded by WriteTimeout.
//   - Application events (Online, Roster, PeerPresence, Signal, Log, Offline, Stopped) go to a
//     bounded channel; a slow reader slows the loop down rather than losing events.
//   - SASL bytes (Sensitive) are never logged; nothing here logs bytes at all.
// RunAsync returns when the session stops (Stop, permanent failure, attempts exhausted) or the
// token is cancelled (then the session is stopped politely first, bounded by WriteTimeout).
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Threading.Channels;
using EdgeVpn.Protocol.Core;

using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.RealNode.Xmpp;

public sealed class XmppClient : IAsyncDisposable
{
    public const int EventsCapacity = 4096;
    private const int ReadChunkBytes = 16 * 1024;

    private sealed class Connection(int number) : IDisposable
    {
        public int Number { get; } = number;
        public TcpClient Tcp { get; } = new() { NoDelay = true };
        public CancellationTokenSource Cancel { get; } = new();
        public Stream? Stream { get; set; }
        public bool Handshaking { get; set; }
        public Task<int>? PendingRead { get; set; }
        public byte[] Buffer { get; } = new byte[ReadChunkBytes];
        public string? TlsRefusal { get; set; }

        public void Dispose()
        {
            Cancel.Cancel();
            Stream?.Dispose();
            Tcp.Dispose();
            Cancel.Dispose();
        }
    }

    private readonly XmppSession _session;
    private readonly TlsTrust _trust;
    private readonly TimeProvider _time;
    private readonly long _epoch;
    private readonly Channel<XmppInput> _inputs = Channel.CreateUnbounded<XmppInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<XmppOutput> _events = Channel.CreateBounded<XmppOutput>(new BoundedChannelOptions(EventsCapacity) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private Connection? _connection;
    private Task<bool>? _inputWait;

    public XmppClient(XmppConfig config, TlsTrust trust, TimeProvider time)
    {
        _session = new XmppSession(config, () => Convert.ToHexString(RandomNumberGenerator.GetBytes(18)));
        _trust = trust;
        _time = time;
        _epoch = time.GetTimestamp();
    }

    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public ChannelReader<XmppOutput> Events => _events.Reader;
    public XmppState State => _session.State;

    /// <summary>Queues a signal for the loop (thread-safe).</summary>
    public void SendSignal(Jid to, string json) => _inputs.Writer.TryWrite(new XmppInput.SendSignal(to, json));

    /// <summary>Asks the loop to stop politely (thread-safe).</summary>
    public void Stop(string reason) => _inputs.Writer.TryWrite(new XmppInput.Stop(reason));

    private Instant Now => Instant.FromTimeSpan(_time.GetElapsedTime(_epoch));

    /// <summary>Says goodbye to the server within WriteTimeout; gives up quietly after that.</summary>
    private async Task StopWithGraceAsync()
    {
        if (_session.State == XmppState.Stopped) return;
        _session.Handle(Now, new XmppInput.Stop("cancelled"));
        using var grace = new CancellationTokenSource(WriteTimeout);
        try { await PerformOutputsAsync(grace.Token); }
        catch (OperationCanceledException) { }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            _session.Handle(Now, new XmppInput.Start());
            while (true)
            {
                await PerformOutputsAsync(ct);
                if (_session.State == XmppState.Stopped) return;
                if (ct.IsCancellationRequested)
                {
                    await StopWithGraceAsync();
                    return;
                }
                await WaitForSomethingAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Cancelled while waiting (e.g. on a full event channel nobody reads any more): a
            // requested stop, not a failure.
            await StopWithGraceAsync();
        }
        finally
        {
            _connection?.Dispose();
            _connection = null;
            _events.Writer.TryComplete();
        }
    }

    private async Task WaitForSomethingAsync(CancellationToken ct)
    {
        var conn = _connection;
        // Read only in states that expect bytes: not before the session has seen the connection
        // (ConnectAsync sets Stream from another thread), never during the TLS handshake.
        if (conn is { Stream: not null, Handshaking: false, PendingRead: null }
            && _session.State is not (XmppState.Connecting or XmppState.TlsHandshaking))
            conn.PendingRead = conn.Stream.ReadAsync(conn.Buffer, conn.Cancel.Token).AsTask();
        _inputWait ??= _inputs.Reader.WaitToReadAsync(CancellationToken.None).AsTask();

        using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tasks = new List<Task> { _inputWait };
        if (conn?.PendingRead is { } read) tasks.Add(read);
        if (_session.PollTimeout() is { } at)
        {
            var delay = at - Now;
            tasks.Add(Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, _time, wake.Token));
        }
        tasks.Add(Task.Delay(Timeout.InfiniteTimeSpan, wake.Token));   // ends on cancellation
        await Task.WhenAny(tasks);
        await wake.CancelAsync();

        if (conn?.PendingRead is { IsCompleted: true } done && conn == _connection)
        {
            conn.PendingRead = null;
            HandleReadResult(conn, done);
        }
        if (_inputWait.IsCompleted)
        {
            _inputWait = null;
            while (_inputs.Reader.TryRead(out var input)) _session.Handle(Now, input);
        }
        _session.HandleTimeout(Now);
        _session.CheckInvariants();
    }

    private void HandleReadResult(Connection conn, Task<int> read)
    {
        if (read.IsCompletedSuccessfully && read.Result > 0)
        {
            _session.Handle(Now, new XmppInput.Received(conn.Number, conn.Buffer.AsSpan(0, read.Result).ToArray()));
            return;
        }
        string reason = read.IsCompletedSuccessfully ? "the server closed the connection" : Describe(read.Exception?.GetBaseException());
        _session.Handle(Now, new XmppInput.TransportFailed(conn.Number, reason));
    }

    private async Task PerformOutputsAsync(CancellationToken ct)
    {
        while (_session.TryPollOutput(out var output))
        {
            switch (output)
            {
                case XmppOutput.Connect c:
                    _connection?.Dispose();
                    _connection = new Connection(c.Connection);
                    _ = ConnectAsync(_connection, c.Host, c.Port);
                    break;
                case XmppOutput.Send s:
                    await WriteAsync(s);
                    break;
                case XmppOutput.StartTls t:
                    if (_connection is { } tlsConn && tlsConn.Number == t.Connection)
                    {
                        if (tlsConn.PendingRead is not null)
                        {
                            Post(new XmppInput.TransportFailed(t.Connection, "internal: a plaintext read was pending at STARTTLS"));
                            break;
                        }
                        tlsConn.Handshaking = true;
                        _ = HandshakeAsync(tlsConn, t.ServerName);
                    }
                    break;
                case XmppOutput.Close c:
                    if (_connection?.Number == c.Connection) { _connection.Dispose(); _connection = null; }
                    break;
                default:
                    await _events.Writer.WriteAsync(output, ct);
                    break;
            }
        }
    }

    private async Task WriteAsync(XmppOutput.Send s)
    {
        var conn = _connection;
        if (conn is null || conn.Number != s.Connection || conn.Stream is null) return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(conn.Cancel.Token);
        timeout.CancelAfter(WriteTimeout);
        try
        {
            await conn.Stream.WriteAsync(s.Bytes, timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Post(new XmppInput.TransportFailed(s.Connection, "write failed: " + Describe(e)));
        }
    }

    private async Task ConnectAsync(Connection conn, string host, int port)
    {
        try
        {
            await conn.Tcp.ConnectAsync(host, port, conn.Cancel.Token);
            conn.Stream = conn.Tcp.GetStream();
            Post(new XmppInput.TransportConnected(conn.Number));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            Post(new XmppInput.TransportFailed(conn.Number, $"connect to {host}:{port} failed: {Describe(e)}"));
        }
    }

    private async Task HandshakeAsync(Connection conn, string serverName)
    {
        try
        {
            var ssl = new SslStream(conn.Stream!, leaveInnerStreamOpen: false);
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    bool ok = _trust.Validate(certificate, errors, out string reason);
                    if (!ok) conn.TlsRefusal = reason;
                    return ok;
                },
            };
            await ssl.AuthenticateAsClientAsync(options, conn.Cancel.Token);
            conn.Stream = ssl;
            conn.Handshaking = false;
            Post(new XmppInput.TlsEstablished(conn.Number));
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Post(new XmppInput.TransportFailed(conn.Number, "TLS: " + (conn.TlsRefusal ?? Describe(e))));
        }
    }

    private void Post(XmppInput input) => _inputs.Writer.TryWrite(input);

    private static string Describe(Exception? e) => e switch
    {
        null => "unknown error",
        SocketException s => $"{s.SocketErrorCode}: {s.Message}",
        OperationCanceledException => "cancelled",
        _ => e.Message,
    };

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _connection = null;
        _events.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
