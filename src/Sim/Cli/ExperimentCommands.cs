// The experiment commands: converge, flood, route. Each prints the seed and every parameter,
// then its results; checkers that fail make the exit code 1.
using System.CommandLine;
using EdgeVpn.Sim.Experiments;

namespace EdgeVpn.Sim.Cli;

public static class ExperimentCommands
{
    public static Command Converge()
    {
        var o = new CommonOptions(defaultNodes: 10_000);
        var c = new Command("converge", "Nodes join over the join window; run until the overlay is stable. Reports time to converge, links per node and messages.");
        o.AddTo(c);
        c.SetAction(r => o.Run(r, "converge",
            (sim, report) => AddConverge(sim, ConvergeExperiment.Run(sim), report)));
        return c;
    }

    public static Command Flood()
    {
        var o = new CommonOptions(defaultNodes: 10_000);
        var c = new Command("flood", "Converge, then one broadcast (an ARP request) from a random root; checks exactly-once delivery and that the unicast reply returns over learned flows without loops.");
        o.AddTo(c);
        c.SetAction(r => o.Run(r, "flood",
            (sim, report) =>
            {
                var converge = ConvergeExperiment.Run(sim);
                if (!converge.Converged) return AddConverge(sim, converge, report);
                var f = FloodExperiment.Run(sim);
                report.Add("nodes", f.Nodes).Add("converged", true).Add("reached", f.Reached).Add("duplicates", f.Duplicates)
                      .Add("maxHops", f.MaxHops).Add("meanHops", Math.Round(f.MeanHops, 3)).Add("messages", f.Messages)
                      .Add("replyReturned", f.ReplyReturned).Add("replyHops", f.ReplyHops)
                      .Add("convergeSeconds", Math.Round(converge.ConvergeSeconds, 3))
                      .Add("linksPerNode", Math.Round(converge.LinksPerNodeMean, 2))
                      .Add("ringViolations", converge.RingViolations)
                      .Add("drops", sim.Stats.Drops)
                      .Add("relayedLinks", sim.RelayedLinks).Add("relayedSetups", converge.RelayedSetups).Add("natFailedSetups", converge.NatFailedSetups);
                AddLinkTiming(sim, report);
                report.Add("linkChangesDuringFlood", f.LinkChangesDuringFlood);
                if (f.Reached != f.Nodes)
                {
                    var after = Checkers.RingChecker.Check(sim, sim.Parameters.Topology.SuccessorsMin, out int afterCount);
                    report.Problems.Add($"flood reached {f.Reached} of {f.Nodes} nodes; missed #{string.Join(", #", f.Missed)} (ids {string.Join(", ", f.Missed.Select(i => sim.Nodes[i].Id.Short))}); ring violations after the flood: {afterCount}{(after.Count > 0 ? " e.g. " + after[0].Describe(sim) : "")}");
                }
                if (f.Duplicates != 0) report.Problems.Add($"flood delivered {f.Duplicates} duplicates");
                if (!f.ReplyReturned) report.Problems.Add("the unicast ARP reply did not come back to the root (black hole)");
                if (f.ReplyLooped) report.Problems.Add("the unicast ARP reply visited a node twice (flow loop)");
                if (converge.RingViolations != 0) report.Problems.Add($"{converge.RingViolations} ring violations: {string.Join("; ", converge.RingViolationSamples)}");
                return report.Problems.Count == 0;
            }));
        return c;
    }

    public static Command Route()
    {
        var o = new CommonOptions(defaultNodes: 16_384);
        var pairs = new Option<int>("--pairs", "-p") { Description = "Random source/target pairs to route between", DefaultValueFactory = _ => 10_000 };
        UsageErrors.Range(pairs, 1, 10_000_000);
        var c = new Command("route", "Converge, then greedy clockwise routing between random pairs over the overlay's links. Reports mean, p99 and max hops.");
        o.AddTo(c);
        c.Add(pairs);
        c.SetAction(r => o.Run(r, "route",
            (sim, report) =>
            {
                var converge = ConvergeExperiment.Run(sim);
                if (!converge.Converged) return AddConverge(sim, converge, report);
                var route = RouteExperiment.Run(sim, Overlay.Capture(sim), r.GetValue(pairs));
                report.Add("nodes", converge.Nodes).Add("pairs", route.Pairs).Add("meanHops", Math.Round(route.MeanHops, 3))
                      .Add("medianHops", route.MedianHops).Add("p99Hops", route.P99Hops).Add("maxHops", route.MaxHops)
                      .Add("failures", route.Failures).Add("linksPerNode", Math.Round(converge.LinksPerNodeMean, 2))
                      .Add("longLinks", converge.LongLinks);
                if (route.Failures != 0) report.Problems.Add($"{route.Failures} pairs could not be routed greedily");
                return route.Failures == 0;
            }));
        return c;
    }

    /// <summary>Link timing (both link models) and, with --links ice, the datagrams and the outcomes against the NAT prediction.</summary>
    private static void AddLinkTiming(Simulation sim, Report report)
    {
        var st = sim.Stats;
        report.Add("medianGatherMs", Ms(st.GatherTimes.MedianMs)).Add("medianSetupMs", Ms(st.SetupTimes.MedianMs))
              .Add("p90SetupMs", Ms(st.SetupTimes.PercentileMs(0.9))).Add("meanSetupMs", Ms(st.SetupTimes.MeanMs));
        AddXmpp(sim, report);
        if (sim.Parameters.LinkModel != LinkModel.Ice) return;
        report.Add("iceDatagrams", sim.IceDatagramsSent).Add("iceDatagramsDropped", sim.IceDatagramsDropped)
              .Add("iceFrameDatagrams", sim.IceFrameDatagrams)    // of iceDatagrams: those that carried link frames
              .Add("dtlsHandshakes", sim.IceDtls.Done).Add("dtlsRetransmits", sim.IceDtls.Retransmits).Add("dtlsFailures", sim.IceDtls.Failures)
              .Add("signalingPayloadBytes", st.SignalingPayloadBytes);
        long agree = st.IceOutcomes[0] + st.IceOutcomes[4] + st.IceOutcomes[8], total = st.IceOutcomes.Sum();
        report.Add("iceOutcomesAsPredicted", agree).Add("iceOutcomesOtherwise", total - agree);
    }

    /// <summary>--signaling xmpp: what the virtual XMPP server carried and how the sessions fared.</summary>
    private static void AddXmpp(Simulation sim, Report report)
    {
        if (sim.XmppServer is not { } server) return;
        var st = sim.Stats;
        report.Add("xmppLogins", st.XmppLogins).Add("xmppScramLogins", server.ScramLogins).Add("xmppDisconnects", st.XmppDisconnects)
              .Add("xmppStanzasIn", server.StanzasIn).Add("xmppStanzasOut", server.StanzasOut)
              .Add("xmppBytesIn", server.BytesIn).Add("xmppBytesOut", server.BytesOut)
              .Add("xmppPresenceStanzas", server.PresenceDelivered).Add("xmppMessagesRouted", server.MessagesRouted)
              .Add("xmppMessagesDropped", server.MessagesDropped).Add("xmppStreamErrors", server.StreamErrors)
              .Add("xmppStanzasRefused", st.XmppDropped).Add("xmppSessionWarnings", st.XmppWarnings)
              .Add("signalsLost", st.SignalsLost);
        if (sim.Parameters.LinkModel != LinkModel.Ice) report.Add("signalingPayloadBytes", st.SignalingPayloadBytes);   // ice mode adds it with its own figures
    }

    /// <summary>A time in ms, or null (JSON null, an empty CSV cell) when there was nothing to time: a
    /// placeholder number such as -1 would be averaged with real ones in a sweep.</summary>
    private static double? Ms(double v) => double.IsNaN(v) ? null : Math.Round(v, 1);

    private static bool AddConverge(Simulation sim, ConvergeResult c, Report report)
    {
        // Not converged: no convergence time (the deadline is not one), null rather than a number.
        report.Add("nodes", c.Nodes).Add("converged", c.Converged).Add("convergeSeconds", c.Converged ? Math.Round(c.ConvergeSeconds, 3) : null)
              .Add("settleSeconds", c.Converged ? Math.Round(c.SettleSeconds, 3) : null).Add("linksPerNode", Math.Round(c.LinksPerNodeMean, 2))
              .Add("linksPerNodeMax", c.LinksPerNodeMax).Add("successorLinks", c.SuccessorLinks).Add("longLinks", c.LongLinks)
              .Add("onDemandLinks", c.OnDemandLinks).Add("messages", c.Messages).Add("signalMessages", c.SignalMessages)
              .Add("presenceDeliveries", c.PresenceDeliveries).Add("presenceStanzas", c.PresenceStanzas)
              .Add("presenceStanzasPerNode", c.Nodes == 0 ? 0 : Math.Round((double)c.PresenceStanzas / c.Nodes, 1))
              .Add("rosterEntriesPerNode", Math.Round(c.RosterEntriesPerNode, 1)).Add("linkFailures", c.LinkFailures)
              .Add("relayedSetups", c.RelayedSetups).Add("membershipMessages", c.MembershipMessages).Add("membershipViaSignaling", c.MembershipViaSignaling).Add("natFailedSetups", c.NatFailedSetups)
              .Add("protocolErrors", c.ProtocolErrors).Add("ringViolations", c.RingViolations);
        report.Add("relayedLinks", sim.RelayedLinks);
        AddLinkTiming(sim, report);
        if (!c.Converged) report.Problems.Add("the overlay did not converge before the deadline");
        if (c.RingViolations != 0) report.Problems.Add($"{c.RingViolations} ring violations: {string.Join("; ", c.RingViolationSamples)}");
        return c.Converged && c.RingViolations == 0;
    }
}
