// experiments/testbed/run.sh, run for real (root only: namespaces and iptables). selftest builds
// every NAT preset, checks routing and the NAT rules, tears down, and checks that nothing is left,
// also after an injected failure in the middle of `up`. pair runs the whole infrastructure with
// two nodes behind a port-restricted and a symmetric NAT: they meet over XMPP, negotiate through
// the server, the link comes up through the TURN relay (ICE + DTLS), and ping between the two
// taps' overlay addresses loses nothing.
// Each test uses its own tag, so its namespaces never collide with another run's.
using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace EdgeVpn.Tests.Testbed;

public sealed class TestbedFactAttribute : FactAttribute
{
    public TestbedFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Skip = "the testbed needs root on Linux (network namespaces, iptables)";
        else if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip")) Skip = "iproute2 (ip) is not installed";
    }
}

public class TestbedScriptTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    private static string Script() => RepoPaths.Of("experiments", "testbed", "run.sh");

    private static (int Exit, string Out, string Err) Run(string tag, params string[] args) => RunWith(tag, [], args);

    private static (int Exit, string Out, string Err) RunWith(string tag, (string Name, string Value)[] env, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Script());
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TESTBED_TAG"] = tag;
        psi.Environment["TESTBED_STATE"] = Path.Combine(Path.GetTempPath(), "edgevpn-testbed-test-" + tag);
        foreach (var (name, value) in env) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Bound)) { p.Kill(entireProcessTree: true); throw new Xunit.Sdk.XunitException($"run.sh {string.Join(' ', args)} did not end within {Bound}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string[] Namespaces(string tag)
    {
        var psi = new ProcessStartInfo("ip", "netns list") { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text.Split('\n').Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(tag + "-", StringComparison.Ordinal)).ToArray();
    }

    [TestbedFact]
    public void Selftest_builds_every_NAT_preset_and_leaves_nothing_behind()
    {
        const string tag = "evts";
        var (exit, stdout, stderr) = Run(tag, "selftest");
        Assert.True(exit == 0, $"selftest failed ({exit}):\n{stdout}\n{stderr}");
        Assert.Contains("selftest: ok (4 preset combinations", stdout);
        Assert.Empty(Namespaces(tag));
    }

    // A refused second `up` used to run its failure trap, which tore the running testbed down.
    [TestbedFact]
    public void A_refused_second_up_leaves_the_running_testbed_as_it_was()
    {
        const string tag = "evtu";
        try
        {
            var first = Run(tag, "up", "--nat", "none,none");
            Assert.True(first.Exit == 0, $"up failed ({first.Exit}):\n{first.Out}\n{first.Err}");
            int namespaces = Namespaces(tag).Length;
            Assert.True(namespaces > 0);
            var second = Run(tag, "up", "--nat", "none,none");
            Assert.NotEqual(0, second.Exit);
            Assert.Contains("is up", second.Out + second.Err);
            Assert.Equal(namespaces, Namespaces(tag).Length);
        }
        finally { Run(tag, "down"); }
        Assert.Empty(Namespaces(tag));
    }

    [TestbedFact]
    public void Bad_numbers_unknown_commands_and_presets_are_refused_with_exit_2_before_anything_is_set_up()
    {
        const string tag = "evtn";
        var badWait = RunWith(tag, [("TESTBED_WAIT_SECONDS", "abc")], "pair", "--nat", "none,none", "--json");
        Assert.Equal(2, badWait.Exit);
        Assert.Contains("TESTBED_WAIT_SECONDS", badWait.Err);
        var unknown = Run(tag, "bogus");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("unknown command 'bogus'", unknown.Err);
        var preset = Run(tag, "pair", "--nat", "typo,none", "--json");
        Assert.Equal(2, preset.Exit);
        Assert.Contains("unknown NAT preset 'typo'", preset.Err);
        Assert.Empty(Namespaces(tag));
    }

    // A sweep records every run: with --json a failed pair or throughput still prints one object.
    [TestbedFact]
    public void A_failed_pair_or_throughput_with_json_prints_one_object_with_the_reason()
    {
        const string tag = "evtj";
        string longState = Path.Combine(Path.GetTempPath(), new string('s', 120));
        foreach (var command in new[] { "pair", "throughput" })
        {
            var r = RunWith(tag, [("TESTBED_STATE", longState)], command, "--nat", "none,none", "--json");
            Assert.Equal(1, r.Exit);
            using var doc = JsonDocument.Parse(r.Out);
            Assert.Contains("TESTBED_STATE is too long", doc.RootElement.GetProperty("reason").GetString());
            if (command == "pair") Assert.False(doc.RootElement.GetProperty("connected").GetBoolean());
            else Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("edgevpnMbps").ValueKind);
        }
        Assert.Empty(Namespaces(tag));
    }

    [TestbedFact]
    public void Pair_reports_truthfully_after_both_nodes_met_over_XMPP_and_tears_down() =>
        PairLinksThroughTurn("evtp", "presence");

    // Real nodes in lookup membership must form their ring before the topology asks for the link;
    // before BootstrapChoice two nodes that came up together never did.
    [TestbedFact]
    public void Pair_with_lookup_membership_forms_the_ring_and_links_through_the_NATs() =>
        PairLinksThroughTurn("evtl", "lookup");

    private static void PairLinksThroughTurn(string tag, string membership)
    {
        var (exit, stdout, stderr) = Run(tag, "pair", "--nat", "port-restricted,symmetric", "--membership", membership, "--json");
        Assert.True(exit == 0, $"pair failed ({exit}):\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal(["online", "online"], r.GetProperty("signaling").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal([2, 2], r.GetProperty("members").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.True(r.GetProperty("negotiatedOverXmpp").GetBoolean());
        Assert.Equal(membership, r.GetProperty("membership").GetString());
        Assert.True(r.GetProperty("connected").GetBoolean(), "no link: " + r.GetProperty("reason").GetString());
        Assert.Equal("relay", r.GetProperty("path").GetString());   // a symmetric NAT facing a port-restricted one needs TURN
        Assert.Equal(0, r.GetProperty("pingLossPct").GetDouble());
        Assert.True(r.GetProperty("rttMs").GetDouble() > 0);
        Assert.True(r.GetProperty("setupMs").GetDouble() > 0);
        Assert.DoesNotContain("-pw-", stdout + stderr);
        Assert.Empty(Namespaces(tag));
    }
}
