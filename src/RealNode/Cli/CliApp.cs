// The `edgevpn` command tree. Only what works is implemented; the rest of the planned commands
// (issue 4) are listed in --help and answer "not yet implemented" with exit code 4, so a script
// can tell "missing" from "failed".
//   edgevpn node --config FILE     run a node                       (not yet implemented)
//   edgevpn config init [--output] write a commented example config (not yet implemented)
//   edgevpn status                 links, state, path, RTT, bytes   (not yet implemented)
// Exit codes: 0 success, 2 bad input, 3 internal error, 4 not yet implemented.
using System.CommandLine;

namespace EdgeVpn.RealNode.Cli;

public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;
    public const int ExitInternalError = 3;
    public const int ExitNotImplemented = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("edgevpn: a self-organizing peer-to-peer layer-2 VPN node (EdgeVPN/IPOP re-created). "
            + "Commands marked (not yet implemented) are planned and answer with exit code 4.");

        var configOption = new Option<FileInfo>("--config") { Description = "The node's JSON configuration file", Required = true };
        var node = new Command("node", "Run a node: XMPP signaling, ICE/DTLS links, tap device (not yet implemented)") { configOption };
        node.SetAction(_ => NotImplemented("node"));

        var outputOption = new Option<FileInfo?>("--output") { Description = "Where to write the example (default: stdout)" };
        var init = new Command("init", "Write a commented example configuration (not yet implemented)") { outputOption };
        init.SetAction(_ => NotImplemented("config init"));
        var config = new Command("config", "Configuration files") { init };

        var status = new Command("status", "Show a running node's links: state, path (host/srflx/relay), RTT, bytes (not yet implemented)");
        status.SetAction(_ => NotImplemented("status"));

        root.Add(node);
        root.Add(config);
        root.Add(status);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
        {
            await Console.Error.WriteLineAsync($"edgevpn: {parsed.Errors[0].Message} (see --help)");
            return ExitBadInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync($"edgevpn: internal error: {e.GetType().Name}: {e.Message}");
            return ExitInternalError;
        }
    }

    private static int NotImplemented(string command)
    {
        Console.Error.WriteLine($"edgevpn {command}: not yet implemented (planned in issue 4; the XMPP client exists, the node does not yet)");
        return ExitNotImplemented;
    }
}
