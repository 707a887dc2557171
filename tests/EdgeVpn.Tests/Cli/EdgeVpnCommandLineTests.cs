// The `edgevpn` command line as a user meets it: --help lists the commands, config init writes
// an example that parses back, a bad config names its fields (exit 2, no stack trace), status
// without a node says so, and bad usage gives one line and exit code 2.
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

    [Fact]
    public void Config_init_prints_the_example_that_parses_back()
    {
        var (exit, stdout, _) = Run("config", "init");
        Assert.Equal(0, exit);
        Assert.True(RealNode.Config.NodeConfigParser.Parse(stdout, _ => null).Ok);
    }

    [Fact]
    public void Config_init_to_a_standard_output_that_fails_is_a_write_error_with_exit_2()
    {
        var (exit, _, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["config", "init"], new FullWriter());
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Equal("edgevpn config init: cannot write to standard output: No space left on device", stderr.Trim());
    }

    [Fact]
    public void Config_init_writes_a_file_and_refuses_to_overwrite_it_without_force()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgevpn-init-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, Run("config", "init", "--out", path).Exit);
            Assert.True(RealNode.Config.NodeConfigParser.ParseFile(path, _ => null).Ok);
            var (exit, _, stderr) = Run("config", "init", "--out", path);
            Assert.Equal(CliApp.ExitBadInput, exit);
            Assert.Contains("--force", stderr);
            Assert.Equal(0, Run("config", "init", "--out", path, "--force").Exit);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Config_init_with_a_directory_as_out_says_it_is_a_directory()
    {
        string dir = Directory.CreateTempSubdirectory("edgevpn-init-").FullName;
        try
        {
            var (exit, _, stderr) = Run("config", "init", "--out", dir);
            Assert.Equal(CliApp.ExitBadInput, exit);
            Assert.Equal($"edgevpn config init: {dir} is a directory; give --out a file name", stderr.Trim());
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_bad_config_names_each_field_and_exits_2_without_a_stack_trace()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgevpn-bad-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, RealNode.Config.ConfigExample.Text.Replace("\"Port\": 5222", "\"Port\": 0", StringComparison.Ordinal)
                .Replace("\"Password\": \"change-me\"", "\"Password\": \"change-me\", \"Pasword\": 1", StringComparison.Ordinal));
            var (exit, stdout, stderr) = Run("node", "--config", path);
            Assert.Equal(CliApp.ExitBadInput, exit);
            Assert.Equal("", stdout);
            Assert.Contains("Signaling.Port: must be in 1..65535", stderr);
            Assert.Contains("Signaling.Pasword: unknown field", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.DoesNotContain("change-me", stderr);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Status_without_a_running_node_says_so_and_exits_2()
    {
        var (exit, _, stderr) = Run("status", "--socket", "/nonexistent/edgevpn.sock");
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Contains("no control socket at /nonexistent/edgevpn.sock", stderr);
    }

    [Theory]
    [InlineData("nod --config x.json", "nod")]
    [InlineData("config ini", "ini")]
    [InlineData("stat", "stat")]
    public void A_misspelled_command_is_named_as_unrecognized_and_not_as_missing(string line, string misspelled)
    {
        var (exit, _, stderr) = Run(line.Split(' '));
        Assert.Equal(CliApp.ExitBadInput, exit);
        Assert.Equal($"edgevpn: Unrecognized command or argument '{misspelled}'. (see --help)", stderr.Trim());
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
