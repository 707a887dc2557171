// Property tests of LinkManager: random input interleavings (with real and made-up link ids,
// malformed data and jumps in time) and two managers opening each other over a reordering network.
using EdgeVpn.Protocol.Core;
using Xunit;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using FsCheck;
using FsCheck.Fluent;
using static EdgeVpn.Tests.Links.LinkTestKit;

namespace EdgeVpn.Tests.Links;

public class LinkManagerPropertyTests
{
    private const int Cases = 300;

    // Small limits so that random inputs reach them often.
    private static readonly LinkConfig Tight = new()
    {
        LinksMax = 3,
        BackoffPeersMax = 2,
        EndpointLengthMax = 12,
        SetupTimeout = TimeSpan.FromSeconds(3),
        KeepAliveInterval = TimeSpan.FromSeconds(2),
        DeadLinkTimeout = TimeSpan.FromSeconds(5),
        BackoffBase = TimeSpan.FromSeconds(1),
        BackoffMax = TimeSpan.FromSeconds(8),
    };

    private static readonly NodeId SelfId = Id(10);
    private static readonly NodeId[] Peers = [Id(3), Id(8), Id(10), Id(15), Id(42)];

    private static Arbitrary<int[]> Steps => Arb.From(Gen.ArrayOf(Gen.Choose(0, int.MaxValue)));

    [Fact]
    public void Random_inputs_never_throw_and_keep_every_invariant()
    {
        PropertyCheck.Run(Cases, Prop.ForAll(Steps, steps =>
        {
            RunRandom(steps, checkEachStep: true);
            return true;
        }));
    }

    [Fact]
    public void The_same_inputs_give_the_same_outputs()
    {
        PropertyCheck.Run(100, Prop.ForAll(Steps, steps =>
            RunRandom(steps, checkEachStep: false).SequenceEqual(RunRandom(steps, checkEachStep: false))));
    }

    /// <summary>Decodes each int into one input (or a timer firing) and feeds it to a fresh manager.</summary>
    private static List<LinkOutput> RunRandom(int[] steps, bool checkEachStep)
    {
        var admission = new ScriptedAdmission();
        var m = new LinkManager(SelfId, "fp-self", Tight, new DeterministicRandom(99), admission);
        var seenLinks = new List<LinkId>();
        var trace = new List<LinkOutput>();
        var now = Instant.Zero;

        foreach (int x in steps)
        {
            int op = x % 20;
            var live = m.Snapshot();
            NodeId peer;
            LinkId link;
            if ((x >> 5) % 4 != 0 && live.Count > 0)
            {
                // Mostly talk about a record that exists, so that deep states are reached.
                var r = live[(x >> 7) % live.Count];
                (peer, link) = (r.Peer, r.Link);
            }
            else
            {
                peer = Peers[(x >> 4) % Peers.Length];
                link = (x >> 8) % 3 != 0 && seenLinks.Count > 0
                    ? seenLinks[(x >> 10) % seenLinks.Count]
                    : new LinkId((ulong)((x >> 10) % 4));
            }
            string endpoint = (x >> 12) % 9 == 0 ? "this-endpoint-is-too-long" : "ep";
            var refusal = (LinkRefusal)((x >> 15) % 6);
            admission.Answer = (x >> 18) % 4 == 0 ? LinkRefusal.NotAccepting : LinkRefusal.None;
            now += (x >> 20) % 12 == 0
                ? TimeSpan.FromMilliseconds((x >> 23) * 40)
                : TimeSpan.FromMilliseconds((x >> 23) % 60);
            var kind = (LinkKind)((x >> 9) % 3);

            LinkInput? input = op switch
            {
                0 or 1 => new LinkInput.Open(Peers[(x >> 4) % Peers.Length], kind),
                2 => new LinkInput.Close(peer),
                3 => new LinkInput.SignalReceived(peer, new LinkRequest(link, kind)),
                4 => new LinkInput.SignalReceived(peer, new LinkResponse(link, LinkRefusal.None, endpoint, "fp")),
                5 => new LinkInput.SignalReceived(peer, new LinkResponse(link, refusal, "", "")),
                6 => new LinkInput.SignalReceived(peer, new LinkComplete(link, endpoint, "fp")),
                7 => new LinkInput.EndpointPrepared(link, endpoint),
                8 => new LinkInput.TransportUp(link),
                9 => new LinkInput.TransportDown(link),
                10 => new LinkInput.Activity(link),
                11 or 12 => null,
                // The input a cooperative peer and host would give next for that record.
                _ => live.FirstOrDefault(r => r.Link == link) is not { } rec ? new LinkInput.Open(peer, kind) : rec.State switch
                {
                    LinkState.Requested => new LinkInput.SignalReceived(peer, new LinkResponse(link, LinkRefusal.None, "ep", "fp")),
                    LinkState.Preparing => new LinkInput.EndpointPrepared(link, "ep"),
                    LinkState.Responded => new LinkInput.SignalReceived(peer, new LinkComplete(link, "ep", "fp")),
                    LinkState.Connecting => new LinkInput.TransportUp(link),
                    _ => new LinkInput.Activity(link),
                },
            };
            if (input is not null) m.Handle(now, input);
            else if (op == 12 && m.PollTimeout() is { } due) { now = Instant.Max(now, due); m.HandleTimeout(now); }
            else m.HandleTimeout(now);

            while (m.TryPollOutput(out var o))
            {
                trace.Add(o);
                LinkId? mentioned = o switch
                {
                    LinkOutput.SendSignal s => s.Signal.Link,
                    LinkOutput.PrepareEndpoint p => p.Link,
                    _ => null,
                };
                if (mentioned is { } l && !seenLinks.Contains(l)) seenLinks.Add(l);
            }

            if (checkEachStep) CheckObservable(m, now);
        }
        if (checkEachStep) CheckHostIsNeverToldToUndoWhatItWasNotAskedToDo(trace);
        return trace;
    }

    /// <summary>Per link id: closes <= prepares, connects <= prepares, removals <= Connected events.</summary>
    private static void CheckHostIsNeverToldToUndoWhatItWasNotAskedToDo(List<LinkOutput> trace)
    {
        var prepared = new Dictionary<LinkId, int>();
        var closed = new Dictionary<LinkId, int>();
        var connectCalls = new Dictionary<LinkId, int>();
        var connected = new Dictionary<LinkId, int>();
        var removed = new Dictionary<LinkId, int>();
        static int Bump(Dictionary<LinkId, int> d, LinkId id) => d[id] = d.GetValueOrDefault(id) + 1;
        foreach (var o in trace)
        {
            switch (o)
            {
                case LinkOutput.PrepareEndpoint p: Bump(prepared, p.Link); break;
                case LinkOutput.CloseTransport c: Assert.True(Bump(closed, c.Link) <= prepared.GetValueOrDefault(c.Link), $"CloseTransport {c.Link} without PrepareEndpoint"); break;
                case LinkOutput.ConnectTransport c: Assert.True(Bump(connectCalls, c.Link) <= prepared.GetValueOrDefault(c.Link), $"ConnectTransport {c.Link} without PrepareEndpoint"); break;
                case LinkOutput.Connected c: Assert.True(Bump(connected, c.Link) <= connectCalls.GetValueOrDefault(c.Link), $"Connected {c.Link} without ConnectTransport"); break;
                case LinkOutput.Removed r: Assert.True(Bump(removed, r.Link) <= connected.GetValueOrDefault(r.Link), $"Removed {r.Link} without Connected"); break;
                case LinkOutput.SendKeepAlive k: Assert.True(connected.GetValueOrDefault(k.Link) > removed.GetValueOrDefault(k.Link), $"keep-alive on {k.Link} which is not connected"); break;
            }
        }
    }

    private static void CheckObservable(LinkManager m, Instant now)
    {
        m.CheckInvariants();
        var snapshot = m.Snapshot();
        Assert.Equal(m.Count, snapshot.Count);
        Assert.InRange(m.Count, 0, Tight.LinksMax);
        for (int i = 1; i < snapshot.Count; i++) Assert.True(snapshot[i - 1].Peer < snapshot[i].Peer, "at most one record per peer, in peer order");
        foreach (var peer in Peers)
        {
            if (m.StateOf(peer) is { } state)
            {
                Assert.True(Enum.IsDefined(state));
                Assert.True(m.HasLink(peer));
                Assert.True(m.TryGetPeer(m.LinkIdOf(peer)!.Value, out var back) && back == peer);
            }
            else Assert.False(m.HasLink(peer));
        }
        Assert.False(m.HasLink(m.Self));
        Assert.Equal(m.Count > 0, m.PollTimeout() is not null);
        Assert.Equal(snapshot.Any(s => s.State != LinkState.Connected), m.HasPendingSetups);
        Assert.Equal(snapshot.Count(s => !s.Initiator), m.CountIncoming());
        CheckNeighbourViewIsTheConnectedRecordsClockwise(m, snapshot);
        _ = now;
    }

    /// <summary>The neighbour view against a model built from the snapshot: connected records, clockwise from Self.</summary>
    private static void CheckNeighbourViewIsTheConnectedRecordsClockwise(LinkManager m, IReadOnlyList<LinkSnapshot> snapshot)
    {
        var expected = snapshot.Where(s => s.State == LinkState.Connected)
            .OrderBy(s => NodeId.ClockwiseDistance(m.Self, s.Peer)).ToList();
        var view = m.Neighbours;
        Assert.Equal(m.Self, view.Self);
        Assert.Equal(expected.Count, view.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Peer, view.IdAt(i));
            Assert.Equal(expected[i].Link, view.LinkAt(i));
        }
        foreach (var peer in Peers)
        {
            var record = snapshot.FirstOrDefault(s => s.Peer == peer);
            bool connected = record is { State: LinkState.Connected };
            Assert.Equal(connected, view.Contains(peer));
            Assert.Equal(connected, view.TryGetLink(peer, out var link));
            if (connected) Assert.Equal(record!.Link, link);
            var limit = NodeId.ClockwiseDistance(m.Self, peer);
            Assert.Equal(limit == UInt128.Zero ? 0 : expected.Count(s => NodeId.ClockwiseDistance(m.Self, s.Peer) < limit), view.CountInArc(peer));
        }
    }

    [Fact]
    public void Two_managers_opening_each_other_over_a_reordering_network_share_exactly_one_link()
    {
        var gen =
            from seed in Gen.Choose(0, int.MaxValue)
            from a in Gen.Choose(1, 1000)
            from b in Gen.Choose(1, 1000).Where(b => b != a)
            from secondOpenMs in Gen.Choose(0, 1500)
            from delayMs in Gen.Choose(1, 2000)
            select (Seed: (ulong)seed, A: (ulong)a, B: (ulong)b, SecondOpenMs: secondOpenMs, DelayMs: delayMs);

        PropertyCheck.Run(Cases, Prop.ForAll(Arb.From(gen), c =>
        {
            var pair = new LinkPair(c.A, c.B, c.Seed) { DelayMax = TimeSpan.FromMilliseconds(c.DelayMs) };
            pair.Inject(0, new LinkInput.Open(Id(c.B), LinkKind.Successor));
            pair.Schedule(1, TimeSpan.FromMilliseconds(c.SecondOpenMs), new LinkInput.Open(Id(c.A), LinkKind.Successor));
            pair.RunToQuiescence();

            var left = pair.Nodes[0];
            var right = pair.Nodes[1];
            return left.Count == 1 && right.Count == 1
                && left.StateOf(Id(c.B)) == LinkState.Connected
                && right.StateOf(Id(c.A)) == LinkState.Connected
                && left.LinkIdOf(Id(c.B)) == right.LinkIdOf(Id(c.A))
                && pair.Trace.Count(t => t.Output is LinkOutput.Connected) == 2;
        }));
    }
}
