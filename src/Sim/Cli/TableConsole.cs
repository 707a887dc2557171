// Where the commands' result tables are written: stdout, plain (no ANSI codes or colours, so a
// table piped to a file or a notebook reads cleanly), 200 columns wide. A table is data, not
// prose: at the 80 columns Spectre assumes for redirected output its cells wrapped mid-number.
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

internal static class TableConsole
{
    public const int WidthColumns = 200;

    public static IAnsiConsole Stdout()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = WidthColumns;
        return console;
    }
}
