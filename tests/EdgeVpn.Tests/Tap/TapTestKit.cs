// Shared pieces of the tap tests: the skip rule (Linux, root, /dev/net/tun, iproute2), unique
// device names and subnets per test process, and `ip -j` readers.
using System.Diagnostics;
using System.Text.Json;
using EdgeVpn.RealNode.Tap;

namespace EdgeVpn.Tests.Tap;

/// <summary>A fact skipped, with the reason, where tap devices cannot be made.</summary>
public sealed class TapFactAttribute : Xunit.FactAttribute
{
    public TapFactAttribute()
    {
        if (TapTestKit.Unavailable is { } why) Skip = why;
    }

    /// <summary>Also skip when python3 is missing (the test runs small python3 programs in namespaces).</summary>
    public bool NeedsPython3
    {
        get => false;
        init
        {
            if (value && Skip is null && TapTestKit.Run("python3", "--version").ExitCode != 0) Skip = "python3 is not installed";
        }
    }
}

internal static class TapTestKit
{
    public static string? Unavailable =>
        !OperatingSystem.IsLinux() ? "tap devices exist on Linux only"
        : !Environment.IsPrivilegedProcess ? "creating a tap device needs root (CAP_NET_ADMIN); run the tests as root"
        : !File.Exists(TapDevice.TunPath) ? $"{TapDevice.TunPath} is missing (modprobe tun)"
        : Run("ip", "-V").ExitCode != 0 ? "iproute2 ('ip') is not installed" : null;

    private static int _serial;

    /// <summary>A device name no other test process uses at the same time.</summary>
    public static string UniqueName() => $"evt{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _serial)}";

    /// <summary>A /24 in 10.254.0.0/16 chosen by process id (second octet of the three).</summary>
    public static string Subnet(int offset) => $"10.254.{(Environment.ProcessId + offset) % 250 + 1}";

    public static (int ExitCode, string Output) Run(string file, string arguments)
    {
        try
        {
            var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    public static JsonElement IpJson(string arguments)
    {
        var (code, output) = Run("ip", "-j " + arguments);
        if (code != 0) throw new InvalidOperationException($"ip -j {arguments} failed ({code}): {output}");
        return JsonDocument.Parse(output).RootElement;
    }

    public static bool DeviceExists(string name) => Run("ip", $"link show dev {name}").ExitCode == 0;
}
