// The topology's quiet-pass shortcut (a link coming up skips Reconcile when the last pass left
// nothing to do) against the topology without it: two machines, each with its own link table,
// are driven by the same random script of link set-ups, teardowns, refusals, lookup answers,
// estimate changes, exclusions, protection windows and timer firings, with a host that carries out
// their OpenLink and CloseLink. After every step both must have asked for exactly the same things.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Topology;

public sealed class QuietPassTests
{
    private sealed class Host
    {
        public readonly FakeLinkTable Links = new();
        public readonly SymphonyTopology Topology;
        public readonly List<ulong> Cookies = new();
        public readonly List<string> Log = new();

        public Host(NodeId self, TopologyConfig config, bool skips) =>
            Topology = new SymphonyTopology(self, config, Links, new DeterministicRandom(3)) { SkipsQuietPasses = skips };

        // Carries out what the topology asked, as EdgeNode and the link lifecycle would.
        public void Pump(Instant now)
        {
            while (Topology.TryPollOutput(out var o))
            {
                Log.Add(o.ToString());
                switch (o)
                {
                    case TopologyOutput.OpenLink open when !Links.HasLink(open.Peer):
                        Links.Links[open.Peer] = (LinkState.Connecting, open.Kind, false);
                        break;
                    case TopologyOutput.CloseLink close when Links.Links.Remove(close.Peer):
                        Topology.HandleLinkGone(now);
                        break;
                    case TopologyOutput.ResolveTarget r:
                        Cookies.Add(r.Cookie);
                        break;
                }
            }
        }
    }

    private static void Step(Host h, int op, int pick, NodeId[] pool, NodeId[] successors, ref Instant now)
    {
        var t = h.Topology;
        var links = h.Links.Links;
        NodeId peer = pool[pick % pool.Length];
        switch (op)
        {
            case 0 or 1 or 2: // the commonest event: some link in set-up comes up
            {
                var connecting = links.Where(l => l.Value.State != LinkState.Connected).Select(l => l.Key).ToList();
                if (connecting.Count == 0) break;
                var up = connecting[pick % connecting.Count];
                var l = links[up];
                links[up] = (LinkState.Connected, l.Kind, l.Incoming);
                // Sometimes another link went down in the same step, and the host reports it only
                // after this one (one drain of the link lifecycle's outputs): the table shows it first.
                bool alsoGone = pick % 4 == 0 && peer != up && links.Remove(peer);
                t.HandleLinkConnected(now, up, initiator: !l.Incoming);
                if (alsoGone) t.HandleLinkGone(now);
                break;
            }
            case 3: // a peer starts a link to this node (the topology hears of it once it is up)
                if (!links.ContainsKey(peer)) links[peer] = (LinkState.Connecting, LinkKind.LongDistance, true);
                break;
            case 4: // a link goes down
                if (links.Remove(peer)) t.HandleLinkGone(now);
                break;
            case 5: // a link request is refused
                if (links.TryGetValue(peer, out var f) && f.State != LinkState.Connected && !f.Incoming)
                {
                    links.Remove(peer);
                    t.HandleLinkFailed(now, peer, pick % 2 == 0 ? LinkRefusal.TooManyIncomingLong : LinkRefusal.None);
                }
                break;
            case 6: // a lookup for a long-link target comes back
                if (h.Cookies.Count == 0) break;
                var cookie = h.Cookies[pick % h.Cookies.Count];
                h.Cookies.Remove(cookie);
                t.Handle(now, new TopologyInput.TargetResolved(cookie, peer));
                break;
            case 7: // time passes; due timers fire
                now += TimeSpan.FromMilliseconds(200 + pick % 5000);
                if (t.PollTimeout() is { } at && at <= now) t.HandleTimeout(now);
                break;
            case 8:
                if (!h.Links.Excluded.Remove(peer)) h.Links.Excluded.Add(peer);
                break;
            case 9:
                if (!h.Links.Protected.Remove(peer)) h.Links.Protected.Add(peer);
                break;
            case 10: // the size estimate moves (a re-draw when it doubles or halves)
                t.Handle(now, new TopologyInput.RingChanged(successors, 24 + pick % 200));
                break;
        }
        h.Pump(now);
    }

    [Fact]
    public void Skipping_quiet_passes_asks_for_exactly_what_reconciling_every_link_event_asks_for() =>
        PropertyCheck.Run(300, Prop.ForAll(
            Arb.From(Gen.Choose(0, 10).Zip(Gen.Choose(0, 1 << 20)).ArrayOf()),
            Arb.From(Gen.Choose(1, int.MaxValue)),
            (script, seed) =>
            {
                var r = new DeterministicRandom((ulong)seed);
                var pool = Enumerable.Range(0, 24).Select(_ => new NodeId(r.NextUInt128())).ToArray();
                var self = new NodeId(r.NextUInt128());
                NodeId[] successors = [pool[0], pool[1]];
                var config = new TopologyConfig
                {
                    Membership = MembershipMode.Lookup, LongLinkDelay = TimeSpan.Zero, RedrawHoldoff = TimeSpan.FromSeconds(5),
                };
                var fast = new Host(self, config, skips: true);
                var full = new Host(self, config, skips: false);
                var now = Instant.FromSeconds(1);
                foreach (var h in new[] { fast, full })
                {
                    h.Topology.Handle(now, new TopologyInput.RingChanged(successors, 64));
                    h.Pump(now);
                }
                foreach (var (op, pick) in script)
                {
                    var t0 = now;
                    Step(fast, op, pick, pool, successors, ref now);
                    var t1 = t0;
                    Step(full, op, pick, pool, successors, ref t1);
                    if (!fast.Log.SequenceEqual(full.Log) || fast.Topology.PollTimeout() != full.Topology.PollTimeout()) return false;
                }
                return true;
            }));

    [Fact]
    public void A_scripted_run_does_skip_passes_so_the_comparison_above_tests_something()
    {
        // Both successors up and no long links wanted yet: the last pass was quiet, so an incoming
        // link coming up changes nothing and is skipped; a removal is not.
        var r = new DeterministicRandom(9);
        var self = new NodeId(r.NextUInt128());
        NodeId[] successors = [new NodeId(r.NextUInt128()), new NodeId(r.NextUInt128())];
        var stranger = new NodeId(r.NextUInt128());
        var h = new Host(self, new TopologyConfig { Membership = MembershipMode.Lookup, LongLinksMax = 0 }, skips: true);
        var now = Instant.FromSeconds(1);
        h.Topology.Handle(now, new TopologyInput.RingChanged(successors, 64));
        h.Pump(now);
        Assert.Equal(2, h.Log.Count);
        foreach (var s in successors)
        {
            h.Links.Links[s] = (LinkState.Connected, LinkKind.Successor, false);
            h.Topology.HandleLinkConnected(now, s, initiator: true);
            h.Pump(now);
        }
        h.Links.Links[stranger] = (LinkState.Connected, LinkKind.LongDistance, true);
        long passes = h.Topology.ReconcilePasses;
        h.Topology.HandleLinkConnected(now, stranger, initiator: false);
        Assert.Equal(passes, h.Topology.ReconcilePasses);
        h.Links.Links.Remove(successors[0]);
        h.Topology.HandleLinkGone(now);
        h.Pump(now);
        Assert.Equal(passes + 1, h.Topology.ReconcilePasses);
        Assert.Contains(h.Log, l => l.Contains("OpenLink") && l.Contains(successors[0].ToString()));
    }
}
