// --nat-mix takes relative weights; a run's parameter echo shows them as shares (natMix), and the
// weights (natMixWeights) only when the rounded shares would not draw the same presets, so that
// what is echoed, typed back, repeats the run. vopr echoes its drawn mix the same way.
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeVpn.Sim.Cli;
using EdgeVpn.Sim.Net;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class NatMixEchoTests
{
    private static Dictionary<string, string> Echo(string mix) =>
        NatMixEcho.Describe(NatMix.Parse(mix).Value).ToDictionary(e => e.Name, e => e.Value);

    [Theory]
    [InlineData("none=5,symmetric=1", "none=0.833,symmetric=0.167", "none=5,symmetric=1")]
    [InlineData("none=1,symmetric=2", "none=0.333,symmetric=0.667", "none=1,symmetric=2")]
    [InlineData("none=1,symmetric=3", "none=0.25,symmetric=0.75", null)]   // weights, but the shares are exact
    [InlineData("none=0.3,port-restricted=0.5,symmetric=0.2", "none=0.3,port-restricted=0.5,symmetric=0.2", null)]
    [InlineData("none=1", "none=1", null)]
    [InlineData("NONE=2,Symmetric=0", "none=1,symmetric=0", null)]
    public void Weights_are_echoed_as_shares_with_the_weights_beside_them_only_when_the_shares_draw_otherwise(string given, string shares, string? weights)
    {
        var echo = Echo(given);
        Assert.Equal(shares, echo["natMix"]);
        Assert.Equal(weights, echo.GetValueOrDefault("natMixWeights"));
    }

    private static (string TraceHash, JsonElement Parameters) Flood(string mix)
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--nodes", "200", "--seed", "4", "--nat-mix", mix, "--json"]);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return (doc.RootElement.GetProperty("traceHash").GetString()!, doc.RootElement.GetProperty("parameters").Clone());
    }

    [Theory]
    [InlineData("none=5,port-restricted=3,symmetric=1")]
    [InlineData("none=0.5,symmetric=0.5")]
    public void The_echoed_mix_typed_back_as_nat_mix_repeats_the_run(string given)
    {
        var (hash, parameters) = Flood(given);
        string again = parameters.TryGetProperty("natMixWeights", out var weights) ? weights.GetString()! : parameters.GetProperty("natMix").GetString()!;
        Assert.Equal(hash, Flood(again).TraceHash);
    }

    [Fact]
    public void Help_says_the_nat_mix_numbers_are_weights_not_shares()
    {
        var (exit, stdout, _) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--help"]);
        Assert.Equal(0, exit);
        Assert.Contains("weights, not shares", Regex.Replace(stdout, @"\s+", " "));
    }

    [Fact]
    public void Vopr_echoes_its_drawn_mix_as_shares_with_the_drawn_weights_beside_them()
    {
        // Seed 3 draws weights none=0.757,full-cone=0.355,restricted-cone=0.729,port-restricted=0.529,symmetric=0.005.
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, ["vopr", "--seed", "3"]);
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("natMix=none=0.319,full-cone=0.149,restricted-cone=0.307,port-restricted=0.223,symmetric=0.002", lines);
        Assert.Contains("natMixWeights=none=0.757,full-cone=0.355,restricted-cone=0.729,port-restricted=0.529,symmetric=0.005", lines);
    }
}
