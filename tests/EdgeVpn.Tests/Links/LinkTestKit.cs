// Helpers for LinkManager tests: ids, a scriptable admission, output draining, and LinkPair, a
// tiny seeded discrete-event world in which two managers negotiate through a network that
// delays (and so reorders) but never loses messages, and a host that prepares endpoints and
// brings a transport up once both ends asked to connect it.
using EdgeVpn.Protocol.Core;
using Xunit;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Tests.Links;

internal sealed class ScriptedAdmission : ILinkAdmission
{
    public LinkRefusal Answer { get; set; } = LinkRefusal.None;
    public int Calls { get; private set; }

    public LinkRefusal Admit(NodeId peer, LinkKind kind)
    {
        Calls++;
        return Answer;
    }
}

internal static class LinkTestKit
{
    public static readonly LinkConfig Defaults = new();

    public static NodeId Id(ulong n) => new(0, n);

    public static Instant At(double seconds) => Instant.FromSeconds(seconds);

    public static LinkManager Manager(ulong self, ulong seed = 1, LinkConfig? config = null, ILinkAdmission? admission = null) =>
        new(Id(self), "fp-" + self, config ?? Defaults, new DeterministicRandom(seed), admission ?? new ScriptedAdmission());

    public static List<LinkOutput> Drain(this LinkManager m)
    {
        var list = new List<LinkOutput>();
        while (m.TryPollOutput(out var o)) list.Add(o);
        return list;
    }

    public static List<LinkOutput> Step(this LinkManager m, Instant now, LinkInput input)
    {
        m.Handle(now, input);
        m.CheckInvariants();
        return m.Drain();
    }

    public static List<LinkOutput> Tick(this LinkManager m, Instant now)
    {
        m.HandleTimeout(now);
        m.CheckInvariants();
        return m.Drain();
    }

    public static T Single<T>(this List<LinkOutput> outputs) where T : LinkOutput =>
        Assert.Single(outputs.OfType<T>());

    /// <summary>Drives m as initiator to the given state against a scripted peer; returns the link id.</summary>
    public static LinkId DriveInitiator(LinkManager m, NodeId peer, LinkState target, Instant now)
    {
        var request = (LinkRequest)m.Step(now, new LinkInput.Open(peer, LinkKind.Successor)).Single<LinkOutput.SendSignal>().Signal;
        LinkId id = request.Link;
        if (target == LinkState.Requested) return id;
        m.Step(now, new LinkInput.SignalReceived(peer, new LinkResponse(id, LinkRefusal.None, "ep-peer", "fp-peer")));
        if (target == LinkState.Preparing) return id;
        m.Step(now, new LinkInput.EndpointPrepared(id, "ep-self"));
        if (target == LinkState.Connecting) return id;
        m.Step(now, new LinkInput.TransportUp(id));
        return id;
    }

    /// <summary>Drives m as responder to the given state for a request with the given id.</summary>
    public static LinkId DriveResponder(LinkManager m, NodeId peer, LinkState target, Instant now, ulong link = 0xABCDEF)
    {
        var id = new LinkId(link);
        m.Step(now, new LinkInput.SignalReceived(peer, new LinkRequest(id, LinkKind.LongDistance)));
        if (target == LinkState.Preparing) return id;
        m.Step(now, new LinkInput.EndpointPrepared(id, "ep-self"));
        if (target == LinkState.Responded) return id;
        m.Step(now, new LinkInput.SignalReceived(peer, new LinkComplete(id, "ep-peer", "fp-peer")));
        if (target == LinkState.Connecting) return id;
        m.Step(now, new LinkInput.TransportUp(id));
        return id;
    }
}

/// <summary>Two managers, a delaying network and a cooperative host, all driven by one seed.</summary>
internal sealed class LinkPair
{
    private readonly PriorityQueue<(int Target, LinkInput Input), (long Time, long Seq)> _events = new();
    private readonly DeterministicRandom _net;
    private readonly Dictionary<LinkId, int> _connectRequests = new();
    private long _seq;

    public LinkManager[] Nodes { get; }
    public List<(int Node, LinkOutput Output)> Trace { get; } = new();
    public Instant Now { get; private set; }
    public TimeSpan DelayMax { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Carry keep-alives to the peer (as activity); off by default, since they never let the pair go quiet.</summary>
    public bool DeliverKeepAlives { get; init; }

    public LinkPair(ulong idA, ulong idB, ulong seed)
    {
        var root = new DeterministicRandom(seed);
        _net = root.Fork("net");
        Nodes =
        [
            new LinkManager(LinkTestKit.Id(idA), "fp-A", LinkTestKit.Defaults, root.Fork("A"), new ScriptedAdmission()),
            new LinkManager(LinkTestKit.Id(idB), "fp-B", LinkTestKit.Defaults, root.Fork("B"), new ScriptedAdmission()),
        ];
    }

    /// <summary>Hands an input to a node now (a command from its topology) and routes what it says.</summary>
    public void Inject(int node, LinkInput input)
    {
        Nodes[node].Handle(Now, input);
        Nodes[node].CheckInvariants();
        Collect(node);
    }

    public void Schedule(int target, TimeSpan after, LinkInput input) =>
        _events.Enqueue((target, input), ((Now + after).Nanoseconds, _seq++));

    private TimeSpan Delay() => TimeSpan.FromTicks((long)_net.NextUInt64Below((ulong)DelayMax.Ticks) + 1);

    /// <summary>Runs until no message or host action is in flight (timers alone do not keep it running).</summary>
    public void RunToQuiescence(int stepsMax = 10_000)
    {
        for (int step = 0; step < stepsMax && _events.TryDequeue(out var ev, out var key); step++)
            Deliver(ev.Target, ev.Input, new Instant(key.Time));
        Assert.Equal(0, _events.Count);
    }

    /// <summary>Runs messages and timers in time order up to the given instant.</summary>
    public void RunUntil(Instant end)
    {
        while (true)
        {
            long message = _events.TryPeek(out _, out var key) ? key.Time : long.MaxValue;
            int who = -1;
            long timer = long.MaxValue;
            for (int i = 0; i < Nodes.Length; i++)
                if (Nodes[i].PollTimeout() is { } t && t.Nanoseconds < timer) { timer = t.Nanoseconds; who = i; }
            long next = Math.Min(message, timer);
            if (next > end.Nanoseconds) break;
            Now = Instant.Max(Now, new Instant(next));
            if (timer <= message)
            {
                Nodes[who].HandleTimeout(Now);
                Nodes[who].CheckInvariants();
                Collect(who);
            }
            else
            {
                var ev = _events.Dequeue();
                Nodes[ev.Target].Handle(Now, ev.Input);
                Nodes[ev.Target].CheckInvariants();
                Collect(ev.Target);
            }
        }
        Now = Instant.Max(Now, end);
    }

    private void Deliver(int target, LinkInput input, Instant at)
    {
        FireTimersUpTo(at);
        Now = at;
        Nodes[target].Handle(Now, input);
        Nodes[target].CheckInvariants();
        Collect(target);
    }

    private void FireTimersUpTo(Instant at)
    {
        while (true)
        {
            int who = -1;
            Instant best = Instant.MaxValue;
            for (int i = 0; i < Nodes.Length; i++)
                if (Nodes[i].PollTimeout() is { } t && t <= at && t < best) { best = t; who = i; }
            if (who < 0) return;
            Now = Instant.Max(Now, best);
            Nodes[who].HandleTimeout(Now);
            Nodes[who].CheckInvariants();
            Collect(who);
        }
    }

    private void Collect(int node)
    {
        int other = 1 - node;
        while (Nodes[node].TryPollOutput(out var o))
        {
            Trace.Add((node, o));
            switch (o)
            {
                case LinkOutput.SendSignal s:
                    Schedule(other, Delay(), new LinkInput.SignalReceived(Nodes[node].Self, s.Signal));
                    break;
                case LinkOutput.PrepareEndpoint p:
                    Schedule(node, Delay(), new LinkInput.EndpointPrepared(p.Link, "ep-" + (node == 0 ? "A" : "B")));
                    break;
                case LinkOutput.ConnectTransport c:
                    _connectRequests[c.Link] = _connectRequests.GetValueOrDefault(c.Link) + 1;
                    if (_connectRequests[c.Link] == 2)
                    {
                        Schedule(0, Delay(), new LinkInput.TransportUp(c.Link));
                        Schedule(1, Delay(), new LinkInput.TransportUp(c.Link));
                    }
                    break;
                case LinkOutput.SendKeepAlive k when DeliverKeepAlives:
                    Schedule(other, Delay(), new LinkInput.Activity(k.Link));
                    break;
                case LinkOutput.Error e:
                    Assert.Fail($"node {node}: {e.Problem}");
                    break;
            }
        }
    }
}
