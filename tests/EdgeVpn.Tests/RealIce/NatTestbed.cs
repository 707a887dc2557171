// A NAT testbed for ICE integration tests, built in this machine's kernel (recipes verified in
// ../shared/testbed/TESTBED.md) with a real coturn (Debian package `coturn`) on the "internet":
//   pub  : a bridge 203.0.113.1/24 (the internet) with coturn on 203.0.113.1:3478, and a
//          default route into a spare veth (coturn drops a whole allocation when one relayed
//          send finds no route, which happens when a check goes to a private host candidate);
//   natN : a router, wanN 203.0.113.1N on the bridge, lanN towards hN; MASQUERADE per preset;
//          unsolicited NEW inbound to the router itself is dropped (else a peer's first probe
//          makes a conntrack entry that collides with the later SNAT mapping);
//   h1   : 10.0.1.2 behind nat1, h2: 192.168.2.2 behind nat2.
// Every namespace is named evice<pid>x<random>-<role>, so parallel runs and other testbeds never
// collide, and namespaces left by a crashed run (its pid no longer alive) are swept at start,
// with the processes the kernel still lists in them (`ip netns pids`: an orphaned coturn).
// coturn runs in pub from a config generated in a temporary directory named like the namespaces (long-term credentials,
// no TLS, permission, channel and nonce lifetimes shortened so that refreshes happen during a
// test) and is stopped by its recorded PID. Dispose kills coturn, deletes the namespaces it
// recorded and the directory, also after a failed start. Needs root, iproute2, iptables and
// coturn; otherwise Unavailable says why and the tests are skipped (scripts/test.sh installs
// coturn and iptables when it runs as root).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeVpn.Tests.RealIce;

public enum NatPreset
{
    /// <summary>MASQUERADE: endpoint-independent mapping, address-and-port-dependent filtering.</summary>
    PortRestricted,
    /// <summary>MASQUERADE --random-fully: a new port per destination; needs TURN.</summary>
    Symmetric,
}

public sealed partial class NatTestbed : IDisposable
{
    public const string TurnUser = "edgevpn";
    public const string Realm = "edgevpn.test";
    /// <summary>Short lifetimes (coturn: 300, 600, 600 s) so that refreshes and 438 Stale Nonce happen within a test.</summary>
    public const int PermissionLifetimeSeconds = 5, ChannelLifetimeSeconds = 7, StaleNonceSeconds = 4;
    public static readonly IPEndPoint TurnServer = new(IPAddress.Parse("203.0.113.1"), 3478);
    private const string NamePrefix = "evice";
    private static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly List<string> _namespaces = [];
    private readonly List<string> _output = [];
    private Process? _coturn;
    private bool _started;
    private Exception? _startFailure;

    /// <summary>Null when the testbed can be built; else the reason to skip.</summary>
    public static string? Unavailable { get; } = Probe();

    public string Id { get; } = $"{NamePrefix}{Environment.ProcessId}x{Convert.ToHexString(RandomNumberGenerator.GetBytes(2)).ToLowerInvariant()}";
    public string Pub => Id + "-pub";
    public string Host(int i) => $"{Id}-h{i}";
    public string Router(int i) => $"{Id}-nat{i}";
    public string Dir => Path.Combine(Path.GetTempPath(), Id);
    /// <summary>The TURN password: random per testbed, so a log line containing it is a leak, not a coincidence.</summary>
    public string TurnPassword { get; } = "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(9)).ToLowerInvariant();
    public int? CoturnPid => _coturn?.Id;

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (!Environment.IsPrivilegedProcess) return "network namespaces and iptables need root";
        foreach (var tool in new[] { "ip", "iptables", "turnserver" })
            if (Which(tool) is null) return $"'{tool}' is not installed (Debian packages iproute2, iptables, coturn; scripts/test.sh installs them when run as root)";
        return null;
    }

    public void EnsureStarted()
    {
        lock (_gate)
        {
            // A failed start fails every test of the fixture with the same reason (Dispose still cleans up).
            if (_startFailure is not null) throw new InvalidOperationException("the NAT testbed failed to start: " + _startFailure.Message, _startFailure);
            if (_started) return;
            _started = true;
            try
            {
                SweepStale();
                Build();
                StartCoturn();
            }
            catch (Exception e)
            {
                _startFailure = e;
                throw;
            }
        }
    }

    private void Build()
    {
        foreach (var ns in new[] { Pub, Router(1), Router(2), Host(1), Host(2) })
        {
            Run("ip", "netns", "add", ns);
            _namespaces.Add(ns);
            Run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Run("ip", "-n", Pub, "link", "add", "br0", "type", "bridge");
        Run("ip", "-n", Pub, "addr", "add", "203.0.113.1/24", "dev", "br0");
        Run("ip", "-n", Pub, "link", "set", "br0", "up");
        Run("ip", "-n", Pub, "link", "add", "sink", "type", "veth", "peer", "name", "sink-peer");
        Run("ip", "-n", Pub, "link", "set", "sink", "up");
        Run("ip", "-n", Pub, "link", "set", "sink-peer", "up");
        Run("ip", "-n", Pub, "route", "add", "default", "dev", "sink");
        string[] lans = ["10.0.1", "192.168.2"];
        for (int i = 1; i <= 2; i++)
        {
            string nat = Router(i), host = Host(i), lan = lans[i - 1];
            Run("ip", "link", "add", $"wan{i}", "netns", nat, "type", "veth", "peer", "name", $"pub-n{i}", "netns", Pub);
            Run("ip", "-n", Pub, "link", "set", $"pub-n{i}", "master", "br0", "up");
            Run("ip", "-n", nat, "addr", "add", $"203.0.113.1{i}/24", "dev", $"wan{i}");
            Run("ip", "-n", nat, "link", "set", $"wan{i}", "up");
            Run("ip", "link", "add", $"lan{i}", "netns", nat, "type", "veth", "peer", "name", "eth0", "netns", host);
            Run("ip", "netns", "exec", nat, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            Run("ip", "-n", nat, "addr", "add", $"{lan}.1/24", "dev", $"lan{i}");
            Run("ip", "-n", nat, "link", "set", $"lan{i}", "up");
            Run("ip", "-n", host, "addr", "add", $"{lan}.2/24", "dev", "eth0");
            Run("ip", "-n", host, "link", "set", "eth0", "up");
            Run("ip", "-n", host, "route", "add", "default", "via", $"{lan}.1");
            Run("ip", "-n", nat, "route", "add", "default", "via", "203.0.113.1");
            Run("ip", "netns", "exec", nat, "iptables", "-A", "INPUT", "-i", $"wan{i}", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP");
            SetNat(i, NatPreset.PortRestricted);
        }
    }

    /// <summary>Sets router i's NAT behaviour and forgets its existing mappings.</summary>
    public void SetNat(int router, NatPreset preset)
    {
        string nat = Router(router);
        Run("ip", "netns", "exec", nat, "iptables", "-t", "nat", "-F", "POSTROUTING");
        string[] rule = ["ip", "netns", "exec", nat, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", $"wan{router}", "-j", "MASQUERADE"];
        Run(preset == NatPreset.Symmetric ? [.. rule, "--random-fully"] : rule);
        if (Which("conntrack") is not null) Run("ip", "netns", "exec", nat, "conntrack", "-F");
    }

    private string ConfigPath => Path.Combine(Dir, "turnserver.conf");

    private void StartCoturn()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(ConfigPath, $"""
            # Generated by the EdgeVpn tests; everything lives in {Dir}.
            listening-ip={TurnServer.Address}
            listening-port={TurnServer.Port}
            relay-ip={TurnServer.Address}
            min-port=49160
            max-port=49400
            realm={Realm}
            lt-cred-mech
            user={TurnUser}:{TurnPassword}
            permission-lifetime={PermissionLifetimeSeconds}
            channel-lifetime={ChannelLifetimeSeconds}
            stale-nonce={StaleNonceSeconds}
            fingerprint
            no-tls
            no-dtls
            no-cli
            no-multicast-peers
            userdb={Dir}/turndb
            pidfile={Dir}/turnserver.pid
            log-file=stdout
            simple-log
            verbose
            """);
        var psi = new ProcessStartInfo(Which("ip")!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", Pub, "turnserver", "-c", ConfigPath }) psi.ArgumentList.Add(a);
        _coturn = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (_output) _output.Add(line);
        }
        _coturn.OutputDataReceived += (_, e) => OnLine(e.Data);
        _coturn.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _coturn.Start();
        _coturn.BeginOutputReadLine();
        _coturn.BeginErrorReadLine();
        // Ready when it answers a STUN Binding request, asked from inside pub.
        var deadline = DateTime.UtcNow + CommandBound;
        while (!NetworkNamespace.Run(Pub, AnswersBinding))
        {
            if (_coturn.HasExited) throw new InvalidOperationException($"coturn exited during start with {_coturn.ExitCode}:\n" + Output());
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"coturn did not answer STUN within {CommandBound.TotalSeconds} s:\n" + Output());
        }
    }

    private static bool AnswersBinding()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 500 };
        socket.Bind(new IPEndPoint(TurnServer.Address, 0));
        var request = new StunMessage(StunClass.Request, StunMethod.Binding, StunTransactionId.Random(new DeterministicRandom((ulong)Environment.TickCount64)), []);
        socket.SendTo(request.Encode(), TurnServer);
        var buffer = new byte[1500];
        try
        {
            int n = socket.Receive(buffer);
            var answer = StunMessage.Parse(buffer.AsSpan(0, n));
            return answer.Ok && answer.Value.TransactionId == request.TransactionId && answer.Value.Class == StunClass.SuccessResponse;
        }
        catch (SocketException) { return false; }
    }

    /// <summary>The last lines coturn printed (for failure messages and log assertions).</summary>
    public string Output(int lines = 60)
    {
        var sb = new StringBuilder();
        lock (_output) foreach (var l in _output.TakeLast(lines)) sb.AppendLine(l);
        return sb.ToString();
    }

    /// <summary>How many lines coturn printed so far contain text.</summary>
    public int Count(string text)
    {
        lock (_output) return _output.Count(l => l.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>Deletes namespaces of earlier runs of this prefix whose process is gone (a crashed run cannot clean up).</summary>
    private static void SweepStale()
    {
        foreach (var line in RunOutput("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = StaleName().Match(line);
            if (!m.Success || !int.TryParse(m.Groups[1].Value, out int pid) || pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
            // Processes still in it (a coturn orphaned by the crash) are found by the kernel's own record.
            foreach (var p in RunOutput("ip", "netns", "pids", m.Value).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(p.Trim(), out int orphan)) TryKill(orphan);
            TryRun("ip", "netns", "del", m.Value);
            string dir = Path.Combine(Path.GetTempPath(), m.Value[..m.Value.IndexOf('-', StringComparison.Ordinal)]);
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    [GeneratedRegex("^evice([0-9]+)x[0-9a-f]{4}-[a-z0-9]+")]
    private static partial Regex StaleName();

    private static void TryKill(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            p.WaitForExit(CommandBound);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    private static void Run(params string[] command)
    {
        var (code, stdout, stderr) = Exec(command);
        if (code != 0) throw new InvalidOperationException($"'{string.Join(' ', command)}' exited with {code}: {stderr}{stdout}");
    }

    private static void TryRun(params string[] command) => Exec(command);

    private static string RunOutput(params string[] command)
    {
        var (code, stdout, stderr) = Exec(command);
        if (code != 0) throw new InvalidOperationException($"'{string.Join(' ', command)}' exited with {code}: {stderr}");
        return stdout;
    }

    private static (int Code, string Stdout, string Stderr) Exec(string[] command)
    {
        var psi = new ProcessStartInfo(Which(command[0]) ?? command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(CommandBound))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', command)}' did not finish within {CommandBound.TotalSeconds} s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"]).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public void Dispose()
    {
        if (_coturn is { } p)
        {
            try
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(CommandBound); }
            }
            catch (InvalidOperationException) { }
            p.Dispose();
            _coturn = null;
        }
        for (int i = _namespaces.Count - 1; i >= 0; i--) TryRun("ip", "netns", "del", _namespaces[i]);
        _namespaces.Clear();
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>A fact that is skipped, with the reason, when the NAT testbed cannot be built here.</summary>
public sealed class NatTestbedFactAttribute : Xunit.FactAttribute
{
    public NatTestbedFactAttribute()
    {
        if (NatTestbed.Unavailable is { } why) Skip = why;
    }
}
