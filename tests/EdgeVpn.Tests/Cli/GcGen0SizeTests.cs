// scripts/sim.sh sets the GC's first-generation size for a run; bench sets the same for the child
// processes it starts when none is set (BenchCommand.Gen0Size). The two must agree: run the
// script's own lines in bash and compare.
using System.Diagnostics;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

public sealed class GcGen0SizeTests
{
    // The script's if-block that sets DOTNET_GCgen0size, then an echo of the value it leaves.
    private static string RuleOfScript()
    {
        var lines = File.ReadAllLines(RepoPaths.Of("scripts", "sim.sh"));
        int from = Array.FindIndex(lines, l => l.StartsWith("if [[ -z \"${DOTNET_GCgen0size", StringComparison.Ordinal));
        int to = from < 0 ? -1 : Array.FindIndex(lines, from, l => l == "fi");
        Assert.True(from >= 0 && to > from, "sim.sh no longer sets DOTNET_GCgen0size in an if-block");
        return string.Join('\n', lines[from..(to + 1)]) + "\necho \"$DOTNET_GCgen0size\"\n";
    }

    private static string ScriptChoice(string rule, string? preset)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-s");
        start.Environment.Remove("DOTNET_GCgen0size");
        if (preset is not null) start.Environment["DOTNET_GCgen0size"] = preset;
        using var bash = Process.Start(start)!;
        bash.StandardInput.Write(rule);
        bash.StandardInput.Close();
        string output = bash.StandardOutput.ReadToEnd().Trim();
        bash.WaitForExit();
        return output;
    }

    [Fact]
    public void The_script_and_bench_choose_the_same_first_generation() =>
        Assert.Equal(BenchCommand.Gen0Size, ScriptChoice(RuleOfScript(), preset: null));

    [Fact]
    public void A_first_generation_the_user_set_is_left_alone() =>
        Assert.Equal("0x4000000", ScriptChoice(RuleOfScript(), preset: "0x4000000"));
}
