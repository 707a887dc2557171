// The control socket: a status request gets the node's status, malformed, unknown and oversized
// requests get an error line (and the server keeps serving), a second node cannot take a live
// socket, a stale socket file is replaced but any other file is left alone, a path too long for a
// socket is refused before anything is made, and the socket file goes away with the server.
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using EdgeVpn.RealNode.Host;
using Xunit;
using EdgeVpn.Platform;

namespace EdgeVpn.Tests.Host;

public sealed class ControlSocketTests : IAsyncLifetime
{
    internal static readonly NodeStatus Sample = new("10000000000000000000000000000001", "ov", "alice@xmpp.test", "online", 2,
        [new PeerStatus("20000000000000000000000000000002", "bob@xmpp.test/edgevpn")],
        [new LinkStatus("20000000000000000000000000000002", "40ab62d28e6374a7", "successor", "connected", true, 12.2, "relay", 23.4, 1000, 2000)],
        3, 1, "20000000: TransportFailed", null, 5, 6, 99.5);

    private readonly string _path = Path.Combine(Path.GetTempPath(), "edgevpn-test-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)) + ".sock");
    private ControlServer? _server;

    public Task InitializeAsync()
    {
        _server = ControlServer.Start(_path, _ => Task.FromResult(Sample));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private async Task<string> Raw(byte[] request, bool closeAfterSend = false)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        try { await s.SendAsync(request, SocketFlags.None); } catch (SocketException) { }
        if (closeAfterSend) s.Shutdown(SocketShutdown.Send);
        var buffer = new byte[1 << 16];
        var all = new MemoryStream();
        int n;
        while ((n = await s.ReceiveAsync(buffer, SocketFlags.None)) > 0) all.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(all.ToArray());
    }

    [Fact]
    public async Task A_status_request_gets_the_status_back_intact()
    {
        var r = await ControlClient.StatusAsync(_path, TimeSpan.FromSeconds(30));
        Assert.True(r.Ok, r.Error);
        Assert.Equal(Sample with { Peers = r.Value.Peers, Links = r.Value.Links }, r.Value);
        Assert.Equal(Sample.Links, r.Value.Links);
        Assert.Equal(Sample.Peers, r.Value.Peers);
    }

    [Theory]
    [InlineData("hello\n", "request is not JSON")]
    [InlineData("[1]\n", "request must be a JSON object")]
    [InlineData("{\"command\":\"reboot\"}\n", "unknown command 'reboot'")]
    [InlineData("{\"command\":\"status\",\"x\":1}\n", "unknown field 'x'")]
    [InlineData("{\"command\":1}\n", "exactly one field")]
    [InlineData("{}\n", "exactly one field")]
    public async Task A_malformed_request_gets_an_error_line_and_the_server_keeps_serving(string request, string reason)
    {
        string reply = await Raw(Encoding.UTF8.GetBytes(request));
        Assert.StartsWith("{\"ok\":false,\"error\":", reply, StringComparison.Ordinal);
        Assert.Contains(reason, reply);
        Assert.True((await ControlClient.StatusAsync(_path, TimeSpan.FromSeconds(30))).Ok);
    }

    [Fact]
    public async Task An_oversized_request_is_refused_without_reading_it_all()
    {
        string reply = await Raw(Encoding.UTF8.GetBytes(new string('x', ControlProtocol.RequestBytesMax + 100) + "\n"));
        Assert.Contains("no request line within", reply);
    }

    [Fact]
    public async Task A_request_without_a_newline_is_refused_when_the_client_stops_sending()
    {
        string reply = await Raw(Encoding.UTF8.GetBytes("{\"command\":\"status\"}"), closeAfterSend: true);
        Assert.Contains("no request line", reply);
    }

    [Fact]
    public void A_second_server_cannot_take_a_live_socket()
    {
        var e = Assert.Throws<IOException>(() => ControlServer.Start(_path, _ => Task.FromResult(Sample)));
        Assert.Contains("in use", e.Message);
    }

    /// <summary>What a crashed node leaves: a socket file nobody listens on. .NET unlinks the file
    /// of a socket it disposes, so the file is moved away from the path it was bound to first.</summary>
    private static void MakeStaleSocket(string path)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path + ".bound"));
        File.Move(path + ".bound", path);
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_and_the_file_is_removed_on_dispose()
    {
        string path = _path + ".2";
        MakeStaleSocket(path);
        Assert.Equal(UnixFileKind.Socket, UnixFileKinds.Of(path));
        var server = ControlServer.Start(path, _ => Task.FromResult(Sample));
        Assert.True((await ControlClient.StatusAsync(path, TimeSpan.FromSeconds(30))).Ok);
        await server.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    // A typo in Control.Socket that names a lock or flag file: empty, nobody listening, like a
    // stale socket to a size check, but a real file that the node (running as root) must not delete.
    [Theory]
    [InlineData("")]
    [InlineData("data")]
    public void A_regular_file_at_the_path_survives_and_the_server_refuses_to_start(string content)
    {
        string path = _path + ".file";
        File.WriteAllText(path, content);
        try
        {
            var e = Assert.Throws<IOException>(() => ControlServer.Start(path, _ => Task.FromResult(Sample)));
            Assert.Contains("is not a socket (a regular file)", e.Message);
            Assert.Equal(content, File.ReadAllText(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_path_too_long_for_a_socket_is_refused_and_leaves_no_directory_behind()
    {
        string top = _path + ".dir";
        string path = Path.Combine(top, new string('x', 60), new string('y', 60) + ".sock");
        var e = Assert.Throws<IOException>(() => ControlServer.Start(path, _ => Task.FromResult(Sample)));
        Assert.Contains($"longer than {ControlServer.PathBytesMax} bytes", e.Message);
        Assert.False(Directory.Exists(top));
    }

    [Fact]
    public async Task Talking_to_a_missing_socket_is_a_clean_error()
    {
        var r = await ControlClient.StatusAsync(_path + ".none", TimeSpan.FromSeconds(30));
        Assert.Contains("no control socket at", r.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"ok\":true}")]
    [InlineData("{\"ok\":false,\"error\":\"nope\"}")]
    [InlineData("{\"ok\":true,\"status\":{\"nodeId\":1}}")]
    [InlineData("{\"ok\":true,\"status\":{\"surprise\":1}}")]
    public void A_malformed_response_is_a_clean_error(string line) => Assert.False(ControlProtocol.ParseResponse(line).Ok);
}
