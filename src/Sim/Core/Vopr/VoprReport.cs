// What `vopr` prints for one seed: the seed and every scenario parameter first, then the outcome;
// on a violation, the checker, the virtual time, the detail, the last events of the nodes
// involved and the command that replays it. A range of seeds prints one line per seed that passed
// (RangeLine), with the same field names and figures as the single seed's ok line. `--json` and
// `--csv` take the seed as one JSON object (Json; the CSV row is that object flattened). Pure text
// from the result: the same seed prints the same lines, byte for byte.
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EdgeVpn.Sim.Vopr;

public static class VoprReport
{
    /// <summary>How a user runs the simulator from the checkout (README); the replay line starts
    /// with it so that it runs as printed.</summary>
    public const string SimCommand = "scripts/sim.sh";

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<string> Header(VoprScenario sc)
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"SEED={sc.Seed}");
        foreach (var (name, value) in sc.Describe()) yield return $"  {name}={value}";
    }

    /// <summary>One seed as one JSON object (vopr --json; flattened, a --csv row): the command, the
    /// seed, every scenario parameter (VoprScenario.Values), then the outcome.</summary>
    public static string Json(VoprResult r)
    {
        var obj = new Dictionary<string, object?> { ["command"] = "vopr", ["seed"] = r.Scenario.Seed };
        foreach (var (name, value) in r.Scenario.Values()) obj[name] = value;
        var v = r.Violation;
        obj["outcome"] = new Dictionary<string, object?>
        {
            ["ok"] = v is null,
            ["checker"] = v?.Checker,
            ["violationAtSeconds"] = v is null ? null : Math.Round(v.At.TotalSeconds, 6),
            ["healAtSeconds"] = NullIfNaN(Math.Round(r.HealAtSeconds, 6)),
            ["healConvergeSeconds"] = NullIfNaN(Math.Round(r.HealConvergeSeconds, 3)),
            ["liveNodes"] = r.LiveNodes,
            ["crashes"] = r.Crashes,
            ["leaves"] = r.Leaves,
            ["restarts"] = r.Restarts,
            ["datagramsLost"] = r.DatagramsLost,
            ["signalsLost"] = r.SignalsLost,
            ["natExpiries"] = r.NatExpiries,
            ["relayedSetups"] = r.RelayedSetups,
            ["events"] = r.Events,
            // Text, as printed: a hash of digits only is still not a number (README: read it as str).
            ["traceHash"] = r.TraceHash.ToString("x16", CultureInfo.InvariantCulture),
            ["detail"] = v?.Detail,
            ["violationNodes"] = v?.Nodes,
            ["replay"] = v is null ? null : Replay(r.Scenario),
        };
        return JsonSerializer.Serialize(obj, JsonOptions);
    }

    private static double? NullIfNaN(double x) => double.IsNaN(x) ? null : x;

    /// <summary>The counters of a run, as both the single seed's outcome and a range's line show them.</summary>
    private static string Stats(VoprResult r) => string.Create(CultureInfo.InvariantCulture,
        $"live={r.LiveNodes} crashes={r.Crashes} leaves={r.Leaves} restarts={r.Restarts} datagramsLost={r.DatagramsLost} signalsLost={r.SignalsLost} natExpiries={r.NatExpiries} relayedSetups={r.RelayedSetups} events={r.Events} traceHash={r.TraceHash:x16}");

    private static string Settled(VoprResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"converged and settled {r.HealConvergeSeconds:F3} s after healing");

    /// <summary>A seed of `--seeds A..B` that passed, in one line: its seed, size, and the single
    /// seed's ok line without the parameters (a violation prints the whole report instead).</summary>
    public static string RangeLine(VoprResult r) => string.Create(CultureInfo.InvariantCulture,
        $"SEED={r.Scenario.Seed} nodes={r.Scenario.Nodes} ok: {Settled(r)}; {Stats(r)}");

    public static IEnumerable<string> Outcome(VoprResult r)
    {
        if (r.Violation is not { } v)
        {
            yield return $"  ok: {Settled(r)}; ring, flood and flows checked; {Stats(r)}";
            yield break;
        }
        yield return string.Create(CultureInfo.InvariantCulture, $"  VIOLATION seed={r.Scenario.Seed} checker={v.Checker} time={v.At}");
        yield return $"  {v.Detail}";
        yield return $"  {Stats(r)}";
        foreach (var (node, id, events) in r.NodeHistories)
        {
            yield return $"  last events of node #{node} ({id}):";
            foreach (var e in events) yield return $"    {e}";
        }
        yield return $"  replay: {Replay(r.Scenario)}";
    }

    /// <summary>The command that replays the seed from the checkout: the seed and every option that
    /// changes the run (the outputs --csv, --json, --trace and --export-graph do not).</summary>
    public static string Replay(VoprScenario sc) =>
        string.Create(CultureInfo.InvariantCulture, $"{SimCommand} vopr --seed {sc.Seed}")
        + (sc.Links == LinkModel.Ice ? " --links ice" : "")
        + (sc.Membership == Protocol.Topology.MembershipMode.Lookup ? " --membership lookup" : "")
        + (sc.Signaling == SignalingModel.Xmpp ? " --signaling xmpp" : "");
}
