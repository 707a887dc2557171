// The `edgevpn` command line as a user meets it today: --help lists the planned commands, the
// ones not built yet say so with exit code 4, and bad usage gives one line and exit code 2.
using EdgeVpn.RealNode.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class EdgeVpnCommandLineTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(CliApp.RunAsync, args);

    [Fact]
    public void Help_lists_the_planned_commands()
    {
        var (exit, stdout, _) = Run("--help");
        Assert.Equal(0, exit);
        foreach (var command in new[] { "node", "config", "status" }) Assert.Contains(command, stdout);
        Assert.Contains("init", Run("config", "--help").Out);
    }

    [Theory]
    [InlineData("node", "--config", "x.json")]
    [InlineData("config", "init")]
    [InlineData("status")]
    public void Commands_not_built_yet_say_so_with_exit_code_4(params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(CliApp.ExitNotImplemented, exit);
        Assert.Equal("", stdout);
        Assert.Contains("not yet implemented", stderr);
    }

    [Fact]
    public void Bad_usage_gives_one_line_and_exit_code_2()
    {
        var (exit, _, stderr) = Run("node");
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("--config", stderr);
    }
}
