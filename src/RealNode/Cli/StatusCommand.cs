// `edgevpn status`: asks a running node over its control socket and prints a table or JSON.
// Which socket: --socket, else the one --config names (or its default), else the only *.sock in
// the default directory ($XDG_RUNTIME_DIR/edgevpn or /run/edgevpn).
using System.Text.Json;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Host;

namespace EdgeVpn.RealNode.Cli;

internal static class StatusCommand
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string? socket, FileInfo? config, bool json)
    {
        string? path = socket;
        if (path is null && config is not null)
        {
            var parsed = NodeConfigParser.ParseFile(config.FullName);
            if (!parsed.Ok)
            {
                foreach (var e in parsed.Errors) Console.Error.WriteLine($"edgevpn status: {config.Name}: {e}");
                return CliApp.ExitBadInput;
            }
            path = parsed.Config!.ControlSocket;
        }
        if (path is null)
        {
            string dir = Path.GetDirectoryName(NodeConfigParser.DefaultControlSocket("x", Environment.GetEnvironmentVariable))!;
            var found = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.sock").Order(StringComparer.Ordinal).ToArray() : [];
            if (found.Length != 1)
            {
                Console.Error.WriteLine(found.Length == 0
                    ? $"edgevpn status: no node is running here (no control socket in {dir}); give --socket or --config"
                    : $"edgevpn status: several nodes run here ({string.Join(", ", found)}); give --socket or --config");
                return CliApp.ExitBadInput;
            }
            path = found[0];
        }
        var status = await ControlClient.StatusAsync(path, Timeout);
        if (!status.Ok)
        {
            Console.Error.WriteLine($"edgevpn status: {status.Error}");
            return CliApp.ExitBadInput;
        }
        Console.Out.Write(json ? JsonSerializer.Serialize(status.Value, StatusView.IndentedJson) + "\n" : StatusView.Table(status.Value));
        return CliApp.ExitOk;
    }
}
