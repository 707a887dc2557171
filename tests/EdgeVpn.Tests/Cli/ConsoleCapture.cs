// Runs a command-line entry point in-process with Console.Out and Console.Error captured.
// Shared by the edgevpn-sim and edgevpn CLI tests (both in the "console" collection, because
// the writers are process-wide).
namespace EdgeVpn.Tests.Cli;

internal static class ConsoleCapture
{
    /// <summary>Runs main; output, when given, stands in for standard output (one that fails, say).</summary>
    public static (int Exit, string Out, string Err) Run(Func<string[], Task<int>> main, string[] args, TextWriter? output = null)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(output ?? o);
        Console.SetError(e);
        try { return (main(args).GetAwaiter().GetResult(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}

/// <summary>Standard output on a full disk (`> /dev/full`): every write fails as the kernel's would.</summary>
internal sealed class FullWriter : StringWriter
{
    public override void Write(char value) => throw new IOException("No space left on device");
    public override void Write(string? value) => throw new IOException("No space left on device");
    public override void Write(char[] buffer, int index, int count) => throw new IOException("No space left on device");
}
