// `edgevpn config init`: writes ConfigExample.Text to standard output or a file (never over an
// existing file unless --force). The example parses back (a test checks it).
using EdgeVpn.RealNode.Config;

namespace EdgeVpn.RealNode.Cli;

internal static class ConfigInitCommand
{
    public static int Run(FileInfo? output, bool force)
    {
        if (output is null)
        {
            // A closed or full standard output (`>&-`, `> /dev/full`) is the caller's setup, not a bug here.
            try { Console.Out.Write(ConfigExample.Text); Console.Out.Flush(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A closed descriptor (EBADF) surfaces as "Access to the path is denied".
                string reason = e is UnauthorizedAccessException ? "it is closed or not writable" : e.Message;
                Console.Error.WriteLine($"edgevpn config init: cannot write to standard output: {reason}");
                return CliApp.ExitBadInput;
            }
            return CliApp.ExitOk;
        }
        try
        {
            // Writing to a directory fails with "Access to the path is denied", which sends the user to permissions.
            if (Directory.Exists(output.FullName))
            {
                Console.Error.WriteLine($"edgevpn config init: {output.FullName} is a directory; give --out a file name");
                return CliApp.ExitBadInput;
            }
            if (output.Exists && !force)
            {
                Console.Error.WriteLine($"edgevpn config init: {output.FullName} exists (use --force to overwrite)");
                return CliApp.ExitBadInput;
            }
            File.WriteAllText(output.FullName, ConfigExample.Text);
            Console.Error.WriteLine($"edgevpn config init: wrote {output.FullName}; set Signaling and Ice before `edgevpn node --config {output.Name}`");
            return CliApp.ExitOk;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"edgevpn config init: cannot write {output.FullName}: {e.Message}");
            return CliApp.ExitBadInput;
        }
    }
}
