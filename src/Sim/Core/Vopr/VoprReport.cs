// What `edgevpn-sim vopr` prints for one seed: the seed and every scenario parameter first, then
// the outcome; on a violation, the checker, the virtual time, the detail, and the last events of
// the nodes involved. Pure text from the result: the same seed prints the same lines, byte for byte.
using System.Globalization;

namespace EdgeVpn.Sim.Vopr;

public static class VoprReport
{
    public static IEnumerable<string> Header(VoprScenario sc)
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"SEED={sc.Seed}");
        foreach (var (name, value) in sc.Describe()) yield return $"  {name}={value}";
    }

    /// <summary>One seed as one table row (vopr --csv): every scenario parameter, then the outcome.</summary>
    public static List<KeyValuePair<string, string>> Row(VoprResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var row = new List<KeyValuePair<string, string>> { new("seed", r.Scenario.Seed.ToString(c)) };
        foreach (var (name, value) in r.Scenario.Describe()) row.Add(new(name, value));
        row.Add(new("outcome.ok", r.Violation is null ? "true" : "false"));
        row.Add(new("outcome.checker", r.Violation?.Checker ?? ""));
        row.Add(new("outcome.violationAtSeconds", r.Violation is { } v ? v.At.TotalSeconds.ToString("F3", c) : ""));
        row.Add(new("outcome.healConvergeSeconds", double.IsNaN(r.HealConvergeSeconds) ? "" : r.HealConvergeSeconds.ToString("F3", c)));
        row.Add(new("outcome.liveNodes", r.LiveNodes.ToString(c)));
        row.Add(new("outcome.crashes", r.Crashes.ToString(c)));
        row.Add(new("outcome.leaves", r.Leaves.ToString(c)));
        row.Add(new("outcome.restarts", r.Restarts.ToString(c)));
        row.Add(new("outcome.datagramsLost", r.DatagramsLost.ToString(c)));
        row.Add(new("outcome.signalsLost", r.SignalsLost.ToString(c)));
        row.Add(new("outcome.natExpiries", r.NatExpiries.ToString(c)));
        row.Add(new("outcome.relayedSetups", r.RelayedSetups.ToString(c)));
        row.Add(new("outcome.events", r.Events.ToString(c)));
        row.Add(new("outcome.traceHash", r.TraceHash.ToString("x16", c)));
        return row;
    }

    public static IEnumerable<string> Outcome(VoprResult r)
    {
        var c = CultureInfo.InvariantCulture;
        string stats = string.Create(c,
            $"live={r.LiveNodes} crashes={r.Crashes} leaves={r.Leaves} restarts={r.Restarts} datagramsLost={r.DatagramsLost} signalsLost={r.SignalsLost} natExpiries={r.NatExpiries} relayedSetups={r.RelayedSetups} events={r.Events} traceHash={r.TraceHash:x16}");
        if (r.Violation is not { } v)
        {
            yield return string.Create(c, $"  ok: converged and settled {r.HealConvergeSeconds:F3} s after healing; ring, flood and flows checked; {stats}");
            yield break;
        }
        yield return string.Create(c, $"  VIOLATION seed={r.Scenario.Seed} checker={v.Checker} time={v.At}");
        yield return $"  {v.Detail}";
        yield return $"  {stats}";
        foreach (var (node, id, events) in r.NodeHistories)
        {
            yield return $"  last events of node #{node} ({id}):";
            foreach (var e in events) yield return $"    {e}";
        }
        yield return string.Create(c, $"  replay: edgevpn-sim vopr --seed {r.Scenario.Seed}")
            + (r.Scenario.Links == LinkModel.Ice ? " --links ice" : "")
            + (r.Scenario.Membership == Protocol.Topology.MembershipMode.Lookup ? " --membership lookup" : "")
            + (r.Scenario.Signaling == SignalingModel.Xmpp ? " --signaling xmpp" : "");
    }
}
