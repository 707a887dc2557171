// scripts/notebooks.sh end to end: a small sweep appends its rows with --csv, the notebooks run
// under jupyter nbconvert, and the plots and the HTML come out. Skipped, with the reason, where
// Debian's notebook packages are missing (scripts/test.sh installs them when it runs as root).
using System.Diagnostics;
using Xunit;

namespace EdgeVpn.Tests.Cli;

public sealed class NotebookFactAttribute : FactAttribute
{
    public NotebookFactAttribute()
    {
        if (NotebookTests.Unavailable() is { } why) Skip = why;
    }
}

// Also scripts/sim.sh itself: in this class, because its tests build the simulator into the same
// directory and a class's tests run one at a time.
public class NotebookTests
{
    internal static string? Unavailable()
    {
        var check = Run("/usr/bin/python3", "-c \"import pandas, matplotlib, ipykernel\"", TimeSpan.FromSeconds(60));
        if (check.Exit != 0) return "the notebook packages are missing (python3-pandas, python3-matplotlib, python3-ipykernel: scripts/test.sh installs them as root)";
        if (Run("/bin/sh", "-c \"command -v jupyter-nbconvert\"", TimeSpan.FromSeconds(10)).Exit != 0) return "jupyter-nbconvert is missing (scripts/test.sh installs it as root)";
        return null;
    }

    private static (int Exit, string Output) Run(string file, string args, TimeSpan bound, string? workingDirectory = null)
    {
        try
        {
            var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? RepoPaths.Root };
            using var p = Process.Start(start)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(bound)) { p.Kill(entireProcessTree: true); return (-1, output + "\n(killed after " + bound + ")"); }
            return (p.ExitCode, output + err.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    [NotebookFact]
    public void The_notebooks_run_on_a_fresh_sweep_and_draw_their_plots()
    {
        string dir = RepoPaths.Of("artifacts", "notebooks");
        // Nothing left from an earlier run may pass for this one's output (on a fresh clone the directory does not exist yet).
        if (Directory.Exists(dir))
            foreach (var old in new[] { "signaling-cost.png", "scaling-lookup.png", "signaling-and-scaling.html", "sweep.csv" })
                File.Delete(Path.Combine(dir, old));
        var (exit, output) = Run("/bin/bash", "scripts/notebooks.sh --sizes 20,40", TimeSpan.FromMinutes(10));
        Assert.True(exit == 0, output);
        // Four runs (two sizes, two signaling models) and a header.
        Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "sweep.csv")).Length);
        foreach (var png in new[] { "signaling-cost.png", "scaling-lookup.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, png));
            Assert.True(bytes.Length > 10_000, $"{png}: {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
        string html = File.ReadAllText(Path.Combine(dir, "signaling-and-scaling.html"));
        Assert.Contains("Presence cost", html);
        Assert.DoesNotContain("Traceback", html);
        // Of each kind of raw result, the one reference-runs.txt names, else the newest by the date
        // in its name, then the last by name.
        var references = ReferenceRuns();
        foreach (var kind in new[] { "raw-bench-*.json", "raw-300k-*.json", "raw-1m-lookup-*.json" })
            Assert.Contains(references.TryGetValue(kind, out var named) ? $"{kind}: {named} (reference)" : $"{kind}: {NewestRawFile(kind)}", html);
    }

    private static Dictionary<string, string> ReferenceRuns()
    {
        var listed = new Dictionary<string, string>();
        string path = RepoPaths.Of("experiments", "results", "reference-runs.txt");
        if (!File.Exists(path)) return listed;
        foreach (var line in File.ReadAllLines(path))
        {
            var fields = line.Split('#', 2)[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2) listed[fields[0]] = fields[1];
        }
        return listed;
    }

    [Fact]
    public void Every_reference_run_names_a_raw_file_that_exists_and_matches_its_kind()
    {
        var references = ReferenceRuns();
        Assert.NotEmpty(references);
        foreach (var (kind, file) in references)
        {
            Assert.True(File.Exists(RepoPaths.Of("experiments", "results", file)), $"{kind}: {file} is not in experiments/results");
            Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(kind).Replace(@"\*", ".*") + "$", file);
        }
    }

    private static string NewestRawFile(string pattern) =>
        Directory.GetFiles(RepoPaths.Of("experiments", "results"), pattern)
            .Select(Path.GetFileName)
            .Select(name => (Date: System.Text.RegularExpressions.Regex.Match(name!, @"\d{4}-\d{2}-\d{2}").Value, Name: name!))
            .Where(f => f.Date.Length > 0)
            .OrderBy(f => f.Date, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Last().Name;

    [Fact]
    public void Sim_sh_writes_a_relative_output_path_in_the_directory_it_was_run_from_not_in_the_checkout()
    {
        var dir = Directory.CreateTempSubdirectory("edgevpn-simsh-");
        try
        {
            const string Name = "simsh-rows-test.csv";
            var (exit, output) = Run("/bin/bash", $"{RepoPaths.Of("scripts", "sim.sh")} flood --nodes 5 --json --csv {Name}", TimeSpan.FromMinutes(10), dir.FullName);
            Assert.True(exit == 0, output);
            Assert.Equal(2, File.ReadAllLines(Path.Combine(dir.FullName, Name)).Length);
            Assert.False(File.Exists(RepoPaths.Of(Name)), "the row went into the checkout");
        }
        finally { dir.Delete(recursive: true); }
    }

    [Theory]
    [InlineData("--sizes 0")]
    [InlineData("--sizes 2501")]
    [InlineData("--sizes")]
    public void A_bad_sweep_is_refused_with_exit_2_before_the_previous_results_are_touched(string args)
    {
        string dir = RepoPaths.Of("artifacts", "notebooks"), sweep = Path.Combine(dir, "sweep.csv");
        Directory.CreateDirectory(dir);
        string? before = File.Exists(sweep) ? File.ReadAllText(sweep) : null;
        File.WriteAllText(sweep, "command,nodes\nconverge,20\n");
        try
        {
            var (exit, output) = Run("/bin/bash", "scripts/notebooks.sh " + args, TimeSpan.FromMinutes(2));
            Assert.True(exit == 2, output);
            Assert.Contains("--sizes", output);
            Assert.Equal("command,nodes\nconverge,20\n", File.ReadAllText(sweep));   // it deleted this before
        }
        finally
        {
            if (before is null) File.Delete(sweep); else File.WriteAllText(sweep, before);
        }
    }
}
