// scripts/sim.sh picks the GC's first-generation size for a single run from --nodes; bench picks it
// per child with BenchCommand.Gen0SizeFor. The two must agree: run the script's own rule in bash.
using System.Diagnostics;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

public sealed class GcGen0SizeTests
{
    // The lines of sim.sh from "gen0=" to the end of its argument loop, then an echo of the choice.
    private static string RuleOfScript()
    {
        var lines = File.ReadAllLines(RepoPaths.Of("scripts", "sim.sh"));
        int from = Array.FindIndex(lines, l => l.StartsWith("gen0=", StringComparison.Ordinal));
        int to = Array.FindIndex(lines, from, l => l == "done");
        Assert.True(from >= 0 && to > from, "sim.sh no longer has its gen0 rule (gen0=... for ... done)");
        return string.Join('\n', lines[from..(to + 1)]) + "\necho \"$gen0\"\n";
    }

    private static string ScriptChoice(string rule, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-s");
        start.ArgumentList.Add("--");
        foreach (var a in args) start.ArgumentList.Add(a);
        using var bash = Process.Start(start)!;
        bash.StandardInput.Write(rule);
        bash.StandardInput.Close();
        string output = bash.StandardOutput.ReadToEnd().Trim();
        bash.WaitForExit();
        return output;
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(199_999)]
    [InlineData(200_000)]
    [InlineData(1_000_000)]
    public void The_script_and_bench_choose_the_same_first_generation_for_a_size(int nodes)
    {
        string rule = RuleOfScript();
        string expected = BenchCommand.Gen0SizeFor(nodes);
        Assert.Equal(expected, ScriptChoice(rule, "flood", "--nodes", nodes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"));
        Assert.Equal(expected, ScriptChoice(rule, "flood", $"--nodes={nodes}"));
        Assert.Equal(expected, ScriptChoice(rule, "converge", "-n", nodes.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Large_runs_get_a_larger_first_generation_than_small_ones() =>
        Assert.NotEqual(BenchCommand.Gen0SizeFor(10_000), BenchCommand.Gen0SizeFor(1_000_000));
}
