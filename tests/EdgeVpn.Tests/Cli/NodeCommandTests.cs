// `edgevpn node` run whole in this process (NodeCommand, its stderr captured), against a real
// Prosody where signaling matters:
//   - a refused password ends the node with exit 2, and its last error line says why at any log
//     level, after every line the XMPP session logged (none is lost on the way out);
//   - leaving on a signal logs each step in order (links, then signaling, then stopped), exit 0;
//   - a signal while STUN/TURN names resolve leaves at once, exit 0;
//   - a regular file at Control.Socket is left alone and the node exits 2;
//   - a trace that cannot be written (/dev/full) costs a warning, not the node;
//   - the start line counts the STUN/TURN servers that resolved against those configured.
// Cancelling RunAsync's token is what SIGINT/SIGTERM do (they share one shutdown path).
// Waits are for a log line or the end of the run, each bounded; nothing sleeps.
using System.Net;
using System.Security.Cryptography;
using System.Text;
using EdgeVpn.RealNode.Cli;
using EdgeVpn.RealNode.Link;
using EdgeVpn.Tests.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public sealed class NodeCommandTests(ProsodyServer prosody) : IClassFixture<ProsodyServer>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "evn-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)))).FullName;

    /// <summary>Console.Error during a run: its lines, and a wait for a line holding some text.</summary>
    private sealed class ErrorLines : TextWriter
    {
        private readonly StringBuilder _partial = new();
        private readonly List<string> _lines = [];
        private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_lines)
            {
                if (value != '\n') { _partial.Append(value); return; }
                string line = _partial.ToString();
                _partial.Clear();
                _lines.Add(line);
                foreach (var (text, seen) in _waits)
                    if (line.Contains(text, StringComparison.Ordinal)) seen.TrySetResult();
            }
        }

        public List<string> Lines { get { lock (_lines) return [.. _lines]; } }

        public Task Seen(string text)
        {
            lock (_lines)
            {
                var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal))) seen.SetResult();
                else _waits.Add((text, seen));
                return seen.Task.WaitAsync(Bound);
            }
        }
    }

    private string Config(string password = "alice-pw-1", string level = "info", string? socket = null, string extra = "", int? port = null) => $$"""
        {
          "Overlay": { "Id": "ov" },
          "Signaling": { "Host": "127.0.0.1", "Port": {{port ?? prosody.Port}}, "Account": "alice@{{ProsodyServer.Domain}}", "Password": "{{password}}",
                         "Group": "{{ProsodyServer.Group}}", "CertificateSha256": "{{Pin}}" },
          "Control": { "Socket": "{{socket ?? Path.Combine(_dir, "node.sock")}}" },
          "Log": { "Level": "{{level}}" },
          {{extra}}
        }
        """;

    // Tests that never reach the server still need a pin in the config.
    private string Pin => prosody.CertificateSha256.Length > 0 ? Convert.ToHexString(prosody.CertificateSha256) : new string('A', 64);

    private void StartProsody() => prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true));

    /// <summary>Runs the node with this config; during (if any) runs alongside and may cancel it.</summary>
    private async Task<(int Exit, List<string> Lines)> Run(string config, Func<ErrorLines, CancellationTokenSource, Task>? during = null, NameResolver? resolve = null)
    {
        string path = Path.Combine(_dir, "node.json");
        File.WriteAllText(path, config);
        var err = new ErrorLines();
        var old = Console.Error;
        Console.SetError(err);
        using var cts = new CancellationTokenSource();
        try
        {
            var run = Task.Run(() => NodeCommand.RunAsync(new FileInfo(path), resolve ?? ServerAddressBook.SystemResolver, cts.Token));
            if (during is not null) await during(err, cts);
            int exit = await run.WaitAsync(Bound);
            return (exit, err.Lines);
        }
        finally { Console.SetError(old); }
    }

    private static int IndexOf(List<string> lines, string text) => lines.FindIndex(l => l.Contains(text, StringComparison.Ordinal));

    [ProsodyFact]
    public async Task A_refused_password_exits_2_with_the_reason_last_after_every_line_the_session_logged()
    {
        StartProsody();
        var (exit, lines) = await Run(Config(password: "wrong-password"));
        Assert.Equal(CliApp.ExitBadInput, exit);
        int reason = IndexOf(lines, "xmpp: stopped: authentication failed: not-authorized");
        int final = IndexOf(lines, "edgevpn node: signaling stopped: authentication failed: not-authorized");
        Assert.True(reason >= 0 && final > reason, string.Join('\n', lines));
        Assert.EndsWith(" info stopped", lines[^1], StringComparison.Ordinal);
    }

    [ProsodyFact]
    public async Task A_refused_password_is_named_in_the_last_error_line_at_log_level_warning()
    {
        StartProsody();
        var (exit, lines) = await Run(Config(password: "wrong-password", level: "warning"));
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Contains("edgevpn node: signaling stopped: authentication failed: not-authorized", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("wrong-password", StringComparison.Ordinal));
    }

    [ProsodyFact]
    public async Task Leaving_on_a_signal_logs_links_then_signaling_then_stopped_and_exits_0()
    {
        StartProsody();
        var (exit, lines) = await Run(Config(), async (err, cts) =>
        {
            await err.Seen("signaling online");
            await cts.CancelAsync();
        });
        Assert.Equal(CliApp.ExitOk, exit);
        int online = IndexOf(lines, "signaling online"), leaving = IndexOf(lines, "leaving: closing links"), xmpp = IndexOf(lines, "xmpp: stopped: leaving");
        Assert.True(online >= 0 && leaving > online && xmpp > leaving, string.Join('\n', lines));
        Assert.EndsWith(" info stopped", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signal_while_server_names_resolve_leaves_at_once_with_exit_0()
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        NameResolver hang = (_, _) => { asked.TrySetResult(); return new TaskCompletionSource<IPAddress[]>().Task; };
        var (exit, lines) = await Run(Config(port: 1, extra: "\"Ice\": { \"Stun\": [ \"stun.test:3478\" ] },"), async (_, cts) =>
        {
            await asked.Task.WaitAsync(Bound);
            await cts.CancelAsync();
        }, hang);
        Assert.Equal(CliApp.ExitOk, exit);
        Assert.Contains(lines, l => l.Contains("resolving 1 STUN/TURN server name (at most 5 s): stun.test", StringComparison.Ordinal));
        Assert.EndsWith(" info stopped during start", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_regular_file_at_the_control_socket_path_survives_and_the_node_exits_2()
    {
        string flag = Path.Combine(_dir, "precious.flag");
        File.WriteAllBytes(flag, []);
        var (exit, lines) = await Run(Config(port: 1, socket: flag));
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Contains(lines, l => l.StartsWith($"edgevpn node: Control.Socket: cannot listen on {flag}: ", StringComparison.Ordinal) && l.Contains("is not a socket (a regular file)", StringComparison.Ordinal));
        Assert.True(File.Exists(flag));
    }

    [Fact]
    public async Task A_trace_on_a_full_disk_costs_a_warning_not_the_node()
    {
        var (exit, lines) = await Run(Config(port: 1, extra: "\"Trace\": { \"Path\": \"/dev/full\" },"), async (err, cts) =>
        {
            await err.Seen("no tap configured");   // started: the host loop runs
            await cts.CancelAsync();
        });
        Assert.Equal(CliApp.ExitOk, exit);
        Assert.Single(lines, l => l.Contains("warning trace: write failed (No space left on device", StringComparison.Ordinal));
        Assert.EndsWith(" info stopped", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_start_line_counts_the_servers_that_resolved_and_says_the_rest_are_looked_up_again()
    {
        NameResolver oneOfTwo = (host, _) => host == "stun-a.test"
            ? Task.FromResult(new[] { IPAddress.Parse("192.0.2.1") })
            : Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException(11001));
        var (exit, lines) = await Run(Config(port: 1, extra: "\"Ice\": { \"Stun\": [ \"stun-a.test:3478\", \"stun-b.test:3478\" ] },"), async (err, cts) =>
        {
            await err.Seen("links: ICE");
            await cts.CancelAsync();
        }, oneOfTwo);
        Assert.Equal(CliApp.ExitOk, exit);
        Assert.Contains(lines, l => l.Contains("links: ICE (1 of 2 STUN servers, no TURN server resolved; the others are looked up again from 5 s, doubling to 5 min) with DTLS", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
