// The parameters a run echoes (table, --json "parameters", --csv columns) can be typed back: the
// sampler is spelled as --sampler takes it, and longLinksMax is a number a table can plot, with
// the rule that produced it beside it.
using System.Text.Json;
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public class ParameterEchoTests
{
    private static JsonElement Parameters(out string traceHash, params string[] args)
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, args);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        traceHash = doc.RootElement.GetProperty("traceHash").GetString()!;
        return doc.RootElement.GetProperty("parameters").Clone();
    }

    [Theory]
    [InlineData("harmonic")]
    [InlineData("edgevpn")]
    public void The_echoed_sampler_given_back_to_sampler_repeats_the_run(string sampler)
    {
        var first = Parameters(out var hash, "flood", "--nodes", "200", "--seed", "3", "--sampler", sampler, "--json");
        string echoed = first.GetProperty("sampler").GetString()!;
        Assert.Equal(sampler, echoed);
        Parameters(out var again, "flood", "--nodes", "200", "--seed", "3", "--sampler", echoed, "--json");
        Assert.Equal(hash, again);
    }

    [Fact]
    public void Long_links_are_echoed_as_the_count_for_the_run_s_size_with_the_rule_beside_it()
    {
        var derived = Parameters(out _, "flood", "--nodes", "300", "--json");
        Assert.Equal("8", derived.GetProperty("longLinksMax").GetString()); // floor(log2 300)
        Assert.Equal("floor(log2 n)", derived.GetProperty("longLinksRule").GetString());

        var fixedCount = Parameters(out _, "flood", "--nodes", "300", "--long-links", "3", "--json");
        Assert.Equal("3", fixedCount.GetProperty("longLinksMax").GetString());
        Assert.Equal("fixed", fixedCount.GetProperty("longLinksRule").GetString());
    }
}
