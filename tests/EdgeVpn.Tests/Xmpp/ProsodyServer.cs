// A real Prosody (Debian package `prosody`) for integration tests, entirely inside a temporary
// directory: a self-signed certificate for xmpp.test made here (.NET, no openssl), a generated
// config (loopback only, a free port, STARTTLS required, no s2s, mod_groups with one shared
// group), users registered with prosodyctl, and the server run in the foreground and stopped by
// its own PID (never by name). Start is lazy and happens once per fixture; Dispose kills the
// process and deletes the directory, also after a failed start.
// When prosody is not installed, Unavailable says why and the tests using it are skipped
// (scripts/test.sh installs it with apt-get when it runs as root).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EdgeVpn.Tests.Xmpp;

public sealed class ProsodyServer : IDisposable
{
    public const string Domain = "xmpp.test";
    public const string Group = "overlay1";
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly List<string> _output = [];
    private Process? _process;
    private bool _started;

    /// <summary>Null when prosody and prosodyctl are on PATH; else the reason to skip.</summary>
    public static string? Unavailable { get; } =
        Which("prosody") is null || Which("prosodyctl") is null
            ? "prosody is not installed (Debian package 'prosody'; scripts/test.sh installs it when run as root)"
            : null;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "edgevpn-prosody-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
    public int Port { get; private set; }
    public string CertificatePath => Path.Combine(Dir, "xmpp.test.crt");
    public byte[] CertificateSha256 { get; private set; } = [];
    public int? Pid => _process?.Id;

    /// <summary>Starts the server once with these users (name, password, in the shared group?).</summary>
    public void EnsureStarted(params (string User, string Password, bool InGroup)[] users)
    {
        lock (_gate)
        {
            if (_started) return;
            _started = true;
            Directory.CreateDirectory(Path.Combine(Dir, "data"));
            WriteCertificate();
            Port = FreePort();
            File.WriteAllText(Path.Combine(Dir, "groups.txt"),
                $"[{Group}]\n" + string.Concat(users.Where(u => u.InGroup).Select(u => $"{u.User}@{Domain}={u.User}\n")));
            File.WriteAllText(ConfigPath, Config());
            foreach (var (user, password, _) in users) Run("prosodyctl", $"--config {ConfigPath} register {user} {Domain} {password}");
            StartServer();
        }
    }

    private string ConfigPath => Path.Combine(Dir, "prosody.cfg.lua");

    // The template the testbed script fills in too (experiments/testbed/prosody.cfg.lua.in).
    private string Config()
    {
        return File.ReadAllText(RepoPaths.Of("experiments", "testbed", "prosody.cfg.lua.in"))
            .Replace("@DIR@", Dir, StringComparison.Ordinal)
            .Replace("@LOG@", $$"""{ debug = "{{Dir}}/prosody.log"; { levels = { min = "info" }, to = "console" } }""", StringComparison.Ordinal)
            .Replace("@INTERFACE@", "127.0.0.1", StringComparison.Ordinal)
            .Replace("@PORT@", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@DOMAIN@", Domain, StringComparison.Ordinal)
            .Replace("@CERT@", CertificatePath, StringComparison.Ordinal)
            .Replace("@KEY@", Path.Combine(Dir, "xmpp.test.key"), StringComparison.Ordinal);
    }

    private void WriteCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Domain}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Domain);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));
        File.WriteAllText(CertificatePath, cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Dir, "xmpp.test.key"), key.ExportPkcs8PrivateKeyPem());
        CertificateSha256 = SHA256.HashData(cert.RawData);
    }

    private void StartServer()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var psi = new ProcessStartInfo("prosody", $"--config {ConfigPath} -F")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (_output) _output.Add(line);
            if (line.Contains("Activated service 'c2s' on", StringComparison.Ordinal)) ready.TrySetResult();
        }
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("prosody exited during start:\n" + Output()));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!ready.Task.Wait(StartBound)) throw new TimeoutException($"prosody did not listen within {StartBound.TotalSeconds} s:\n" + Output());
        ready.Task.GetAwaiter().GetResult();
    }

    /// <summary>Kills the server by its PID and starts it again on the same port and data.</summary>
    public void Restart()
    {
        lock (_gate)
        {
            StopServer();
            StartServer();
        }
    }

    private void StopServer()
    {
        if (_process is not { } p) return;
        try
        {
            if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(StartBound); }
        }
        catch (InvalidOperationException) { }
        p.Dispose();
        _process = null;
    }

    public string Output()
    {
        var sb = new StringBuilder();
        lock (_output) foreach (var l in _output.TakeLast(40)) sb.AppendLine(l);
        return sb.ToString();
    }

    private static void Run(string file, string arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(StartBound)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {arguments} did not finish"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} exited with {p.ExitCode}: {stdout.Result} {stderr.Result}");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public void Dispose()
    {
        StopServer();
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>A fact that is skipped, with the reason, when Prosody is not installed.</summary>
public sealed class ProsodyFactAttribute : Xunit.FactAttribute
{
    public ProsodyFactAttribute()
    {
        if (ProsodyServer.Unavailable is { } why) Skip = why;
    }
}
