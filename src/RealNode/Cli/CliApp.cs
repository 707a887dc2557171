// The `edgevpn` command tree.
//   edgevpn node --config FILE           run a node (XMPP signaling; links through the bound
//                                        transport: "unbound" until ICE/DTLS land, see NodeCommand)
//   edgevpn config init [--out FILE]     write the commented example configuration
//   edgevpn status [--socket P | --config FILE] [--json]
//                                        a running node's links: state, path, RTT, bytes
// Exit codes: 0 success, 2 bad input (usage, config, no node to talk to), 3 internal error,
// 4 not yet implemented (kept for scripts; no command answers it today).
// No command prints a stack trace or a credential.
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
        var root = new RootCommand("edgevpn: a self-organizing peer-to-peer layer-2 VPN node (EdgeVPN/IPOP re-created).");

        var configOption = new Option<FileInfo>("--config") { Description = "The node's JSON configuration file (see `edgevpn config init`)", Required = true };
        var node = new Command("node", "Run a node: XMPP signaling and the overlay's machines; Ctrl-C leaves gracefully") { configOption };
        node.SetAction((parse, ct) => NodeCommand.RunAsync(parse.GetValue(configOption)!, ct));

        var outOption = new Option<FileInfo?>("--out", "--output") { Description = "Where to write the example (default: standard output)" };
        var forceOption = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var init = new Command("init", "Write a commented example configuration (JSON with comments)") { outOption, forceOption };
        init.SetAction(parse => ConfigInitCommand.Run(parse.GetValue(outOption), parse.GetValue(forceOption)));
        var config = new Command("config", "Configuration files") { init };

        var socketOption = new Option<string?>("--socket") { Description = "The node's control socket (default: from --config, or the only socket in the default directory)" };
        var statusConfigOption = new Option<FileInfo?>("--config") { Description = "Read the control socket path from this configuration" };
        var jsonOption = new Option<bool>("--json") { Description = "Print the status as JSON" };
        var status = new Command("status", "Show a running node's links: state, path (host/srflx/relay), RTT, bytes") { socketOption, statusConfigOption, jsonOption };
        status.SetAction((parse, _) => StatusCommand.RunAsync(parse.GetValue(socketOption), parse.GetValue(statusConfigOption), parse.GetValue(jsonOption)));

        root.Add(node);
        root.Add(config);
        root.Add(status);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
        {
            await Console.Error.WriteLineAsync($"edgevpn: {UsageError(parsed)} (see --help)");
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

    /// <summary>The parse error to print: one naming a word nobody recognised when there is one, since a
    /// misspelled command ("nod") also makes "Required command was not provided." and that comes first.</summary>
    private static string UsageError(ParseResult parsed) =>
        (parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? parsed.Errors[0]).Message;
}
