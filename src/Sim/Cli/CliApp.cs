// Builds the command tree and maps outcomes to exit codes:
//   0 success, 1 a checker failed or the overlay did not converge, 2 bad input, 3 internal error.
using System.CommandLine;
using System.CommandLine.Parsing;

namespace EdgeVpn.Sim.Cli;

public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitCheckFailed = 1;
    public const int ExitBadInput = 2;
    public const int ExitInternalError = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("edgevpn-sim: deterministic simulation of the EdgeVPN overlay (Symphony ring, link lifecycle, bounded flood, flow learning).");
        root.Add(ExperimentCommands.Converge());
        root.Add(ExperimentCommands.Flood());
        root.Add(ExperimentCommands.Route());
        root.Add(BenchCommand.Create());
        root.Add(VoprCommand.Create());
        root.Add(NatMatrixCommand.Create());

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !WantsHelp(args))
        {
            await Console.Error.WriteLineAsync($"edgevpn-sim: {UsageErrors.Describe(parsed)} (see --help)");
            return ExitBadInput;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"edgevpn-sim: {e.Message}");
            return ExitBadInput;
        }
        catch (IOException e)
        {
            // Output files are opened and checked before a run; what fails later is the machine's
            // (a full disk, a standard output on /dev/full), not a bug to report as one.
            await Console.Error.WriteLineAsync($"edgevpn-sim: I/O error: {e.Message}");
            return ExitBadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not the user's fault: one line, the exception type, and how to get the detail.
            await Console.Error.WriteLineAsync($"edgevpn-sim: internal error: {e.GetType().Name}: {e.Message} (set EDGEVPN_DEBUG=1 for the stack trace)");
            if (Environment.GetEnvironmentVariable("EDGEVPN_DEBUG") == "1") await Console.Error.WriteLineAsync(e.ToString());
            return ExitInternalError;
        }
    }

    private static bool WantsHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?");
}

/// <summary>Bad input found after parsing (an unwritable file, an inconsistent combination).</summary>
public sealed class UsageException(string message) : Exception(message);
