// The trace format: every input kind round-trips through a line, the header is checked, the
// writer stops at its bound, and no line makes the parser throw. The writer survives a full disk
// (one warning, tracing ends, the host loop keeps running) and its file is owner-only.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Protocol.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Host;

public class NodeTraceTests
{
    public static TheoryData<string> Lines() => new(AllLines());

    private static List<string> AllLines()
    {
        var link = new LinkId(0xabc);
        var at = new Instant(123_456_789);
        NodeInput?[] inputs =
        [
            null,
            new NodeInput.Presence(new MembershipView([HostTestKit.IdOf(2), HostTestKit.IdOf(1)], 1)),
            new NodeInput.Presence(new MembershipView([], 1)),
            new NodeInput.Signal(HostTestKit.IdOf(2), new LinkResponse(link, LinkRefusal.None, "a b c", "sha-256 X")),
            new NodeInput.EndpointPrepared(link, "a=candidate:1 1 udp 2 10.0.0.1 9 typ host"),
            new NodeInput.EndpointPrepared(link, ""),
            new NodeInput.TransportUp(link), new NodeInput.TransportDown(link), new NodeInput.KeepAlive(link),
            new NodeInput.LinkFrame(link, [1, 2, 3]), new NodeInput.LocalFrame(HostTestKit.ArpRequest(1, 2)),
            new NodeInput.Leave(), new NodeInput.Bootstrap(null), new NodeInput.Bootstrap(HostTestKit.IdOf(3)),
            new NodeInput.Membership(HostTestKit.IdOf(4), new MembershipMessage.Stabilize(9)),
        ];
        return inputs.Select(i => NodeTrace.Format(new TraceEntry(at, i))).ToList();
    }

    [Theory]
    [MemberData(nameof(Lines))]
    public void Every_input_kind_round_trips_through_one_line(string line)
    {
        long version = 0;
        var parsed = NodeTrace.ParseLine(line, ref version);
        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(line, NodeTrace.Format(parsed.Value!.Value));
    }

    [Fact]
    public void The_header_round_trips_and_another_version_is_refused()
    {
        var h = new TraceHeader(HostTestKit.IdOf(7), 99, "sha-256 A B");
        string text = NodeTrace.FormatHeader(h);
        Assert.StartsWith("edgevpn-trace 1 ", text, StringComparison.Ordinal);
        Assert.Equal(h, NodeTrace.ParseHeader(text).Value);
        Assert.Contains("version 2", NodeTrace.ParseHeader(text.Replace("trace 1", "trace 2", StringComparison.Ordinal)).Error);
        Assert.False(NodeTrace.ParseHeader("").Ok);
    }

    [Fact]
    public void The_writer_stops_at_its_bound_with_a_marker()
    {
        var sw = new StringWriter();
        var w = new NodeTraceWriter(sw, 200);
        w.WriteHeader(new TraceHeader(HostTestKit.IdOf(1), 1, "f"));
        for (int i = 0; i < 50; i++) w.Write(new TraceEntry(new Instant(i), null));
        Assert.True(w.Truncated);
        Assert.True(sw.ToString().Length < 260);
        Assert.Contains("# truncated", sw.ToString());
        var replay = NodeTraceReplay.Run(new StringReader(sw.ToString()), new EdgeNodeConfig());
        Assert.Null(replay.Error);
    }

    /// <summary>A disk that is full: every write to the file fails, as on /dev/full.</summary>
    private sealed class FullDisk : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device");
    }

    [Fact]
    public void A_write_error_logs_one_warning_and_ends_tracing_without_throwing()
    {
        var warnings = new List<string>();
        var w = new NodeTraceWriter(new StreamWriter(new FullDisk()), 1 << 20, (level, text) => { if (level >= XmppLogLevel.Warning) warnings.Add(text); });
        w.WriteHeader(new TraceHeader(HostTestKit.IdOf(1), 1, "f"));
        for (int i = 0; i < 50; i++) w.Write(new TraceEntry(new Instant(i), null));   // each timeout entry flushes
        w.Dispose();
        Assert.True(w.Failed);
        Assert.Contains("No space left on device", Assert.Single(warnings));
    }

    [Fact]
    public async Task A_host_whose_trace_cannot_be_written_keeps_running()
    {
        var warnings = new List<string>();
        var trace = new NodeTraceWriter(new StreamWriter(new FullDisk()), 1 << 20, (_, text) => { lock (warnings) warnings.Add(text); });
        var host = new NodeHost(
            new NodeHostOptions { NodeId = HostTestKit.IdOf(1), Seed = 1, Protocol = HostTestKit.Protocol, OverlayId = "ov", Account = "user1@xmpp.test", Trace = trace, Log = (_, text) => { lock (warnings) warnings.Add(text); } },
            events => new LoopbackLinkNetwork().Attach(HostTestKit.IdOf(1), events, HostTestKit.FingerprintOf(1)),
            new NullLocalPort(), new InMemorySignaling().PortFor(HostTestKit.JidOf(1)), TimeProvider.System);
        var loop = host.RunAsync(CancellationToken.None);
        // Each frame from the tap is a trace line; the writer's buffer fills and goes to the disk.
        for (int k = 0; k < 1000 && !trace.Failed; k++)
        {
            await host.PostAsync(new HostEvent.LocalFrame(HostTestKit.ArpRequest(1, 2)));
            await host.StatusAsync().WaitAsync(TimeSpan.FromSeconds(30));   // the loop has handled the frame
        }
        Assert.True(trace.Failed, "the trace never reached the disk");
        Assert.Equal("ov", (await host.StatusAsync().WaitAsync(TimeSpan.FromSeconds(30))).OverlayId);
        Assert.False(loop.IsCompleted);
        await host.PostAsync(new HostEvent.Stop());
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
        await host.DisposeAsync();
        lock (warnings) Assert.Single(warnings, t => t.StartsWith("trace: write failed", StringComparison.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_trace_file_is_owner_only_new_or_old()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgevpn-trace-{Environment.ProcessId}-{Guid.NewGuid():N}.trace");
        try
        {
            using (var w = NodeTraceWriter.Open(path, 1 << 20, null)) w.WriteHeader(new TraceHeader(HostTestKit.IdOf(1), 1, "f"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            using (NodeTraceWriter.Open(path, 1 << 20, null)) { }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_malformed_line_stops_replay_with_its_number()
    {
        string trace = NodeTrace.FormatHeader(new TraceHeader(HostTestKit.IdOf(1), 1, "f")) + "\n5 T\n6 Q\n";
        Assert.StartsWith("line 3: trace line: unknown kind", NodeTraceReplay.Run(new StringReader(trace), new EdgeNodeConfig()).Error);
    }

    [Fact]
    public void Random_lines_never_throw() =>
        PropertyRunner.Check(PropertyRunner.Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var lines = AllLines();
            var chars = lines[rng.NextInt(lines.Count)].ToCharArray();
            for (int k = 0; k < 1 + rng.NextInt(3); k++) chars[rng.NextInt(chars.Length)] = " TPSEUDKFLXBM-,=#0az{\"/"[rng.NextInt(23)];
            long v = 0;
            var r = NodeTrace.ParseLine(new string(chars), ref v);
            return r.Ok || r.Error!.StartsWith("trace line", StringComparison.Ordinal);
        }, 500);
}
