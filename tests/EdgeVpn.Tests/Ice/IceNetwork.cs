// A deterministic little world for ICE tests (quinn's Pair idea): two agents, a router, an
// optional full-cone NAT in front of each agent, an optional fake TURN server (also a STUN
// server), and signaling that carries candidates with a fixed delay. Time jumps to the next
// event; nothing sleeps. The router can pass everything, drop everything, pass only traffic to
// and from the TURN server, or delay, drop and duplicate datagrams at random from a seed.
// CheckInvariants runs on both agents after every step.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Tests.Ice;

internal enum RouterMode { Direct, DropAll, RelayOnly }

internal sealed class IceNetwork
{
    public sealed class Side(string name, IceAgent agent, IReadOnlyList<IPEndPoint> bases)
    {
        public string Name { get; } = name;
        public IceAgent Agent { get; } = agent;
        public IReadOnlyList<IPEndPoint> Bases { get; } = bases;
        /// <summary>Full-cone NAT: private base -> public mapping (empty: not behind a NAT).</summary>
        public List<(IPEndPoint Private, IPEndPoint Public)> Nat { get; } = [];
        public List<(Instant At, IceOutput Output)> Events { get; } = [];
        public Side Peer { get; set; } = null!;

        public IEnumerable<IceOutput> Outputs => Events.Select(e => e.Output);
        public IceSelectedPair? LastConnected => Outputs.OfType<IceOutput.Connected>().LastOrDefault()?.Pair;
        public Instant? TimeOf<T>() where T : IceOutput => Events.FirstOrDefault(e => e.Output is T) is { Output: not null } e ? e.At : null;
    }

    private readonly PriorityQueue<Action, (long, long)> _queue = new();
    private long _sequence;
    private readonly DeterministicRandom _fate;

    public Instant Now { get; private set; } = Instant.Zero;
    public Side A { get; }
    public Side B { get; }
    public FakeTurnServer? Turn { get; set; }
    public RouterMode Mode { get; set; } = RouterMode.Direct;
    /// <summary>Pairs of addresses (either direction) the router never connects.</summary>
    public List<(IPEndPoint, IPEndPoint)> Blocked { get; } = [];
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan SignalingDelay { get; set; } = TimeSpan.FromMilliseconds(30);
    public double LossRate { get; set; }
    public double DuplicateRate { get; set; }
    public TimeSpan JitterMax { get; set; }
    public List<string> TransmitLog { get; } = [];
    public int Steps { get; private set; }

    public IceNetwork(IceAgent a, IReadOnlyList<IPEndPoint> aBases, IceAgent b, IReadOnlyList<IPEndPoint> bBases, ulong fateSeed = 1)
    {
        A = new Side("A", a, aBases);
        B = new Side("B", b, bBases) { Peer = null! };
        A.Peer = B;
        B.Peer = A;
        _fate = new DeterministicRandom(fateSeed);
    }

    /// <summary>Credentials and interfaces to both agents; candidates then flow over signaling.</summary>
    public void Start()
    {
        foreach (var s in new[] { A, B })
        {
            var peer = s.Peer.Agent;
            Step(s, () => s.Agent.Handle(Now, new IceInput.RemoteCredentials(peer.LocalUfrag, peer.LocalPassword)));
            Step(s, () => s.Agent.Handle(Now, new IceInput.LocalInterfaces(s.Bases)));
        }
    }

    public void RunUntil(Instant end, Func<bool>? stop = null)
    {
        while (true)
        {
            if (stop?.Invoke() == true) return;
            Instant? next = null;
            if (_queue.TryPeek(out _, out var key)) next = new Instant(key.Item1);
            next = Instant.Earliest(next, A.Agent.PollTimeout());
            next = Instant.Earliest(next, B.Agent.PollTimeout());
            if (next is null || next.Value > end) { Now = end; return; }
            Now = Instant.Max(Now, next.Value);
            while (_queue.TryPeek(out _, out key) && key.Item1 <= Now.Nanoseconds) _queue.Dequeue()();
            foreach (var s in new[] { A, B })
                if (s.Agent.PollTimeout() is { } t && t <= Now) Step(s, () => s.Agent.HandleTimeout(Now));
        }
    }

    public void RunFor(TimeSpan d, Func<bool>? stop = null) => RunUntil(Now + d, stop);

    /// <summary>Runs an input on a side's agent, then drains and routes its outputs and checks invariants.</summary>
    public void Step(Side s, Action input)
    {
        input();
        Steps++;
        s.Agent.CheckInvariants();
        while (s.Agent.TryPollOutput(out var o))
        {
            switch (o)
            {
                case IceOutput.Transmit t:
                    TransmitLog.Add($"{Now.Nanoseconds} {s.Name} {t.From}>{t.To} {Convert.ToHexString(t.Bytes)}");
                    Route(Translate(s, t.From), t.To, t.Bytes);
                    break;
                case IceOutput.LocalCandidate c:
                    s.Events.Add((Now, o));
                    Signal(s.Peer, new IceInput.RemoteCandidate(c.Candidate));
                    break;
                case IceOutput.LocalCandidatesComplete:
                    s.Events.Add((Now, o));
                    Signal(s.Peer, new IceInput.RemoteCandidatesComplete());
                    break;
                default:
                    s.Events.Add((Now, o));
                    break;
            }
        }
    }

    public void Inject(Side s, IceInput input) => Step(s, () => s.Agent.Handle(Now, input));

    private void Signal(Side to, IceInput input) => At(Now + SignalingDelay, () => Step(to, () => to.Agent.Handle(Now, input)));

    private void At(Instant when, Action action) => _queue.Enqueue(action, (when.Nanoseconds, _sequence++));

    private static IPEndPoint Translate(Side s, IPEndPoint from)
    {
        foreach (var (priv, pub) in s.Nat) if (priv.Equals(from)) return pub;
        return from;
    }

    private bool IsRelayTraffic(IPEndPoint from, IPEndPoint to) => Turn is { } t && (t.Owns(from) || t.Owns(to));

    private void Route(IPEndPoint from, IPEndPoint to, byte[] bytes)
    {
        if (Mode == RouterMode.DropAll) return;
        if (Mode == RouterMode.RelayOnly && !IsRelayTraffic(from, to)) return;
        if (Blocked.Exists(b => (b.Item1.Equals(from) && b.Item2.Equals(to)) || (b.Item1.Equals(to) && b.Item2.Equals(from)))) return;
        int copies = _fate.NextDouble() < LossRate ? 0 : _fate.NextDouble() < DuplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            var delay = Latency + TimeSpan.FromTicks((long)(JitterMax.Ticks * _fate.NextDouble()));
            At(Now + delay, () => Arrive(from, to, bytes));
        }
    }

    private void Arrive(IPEndPoint from, IPEndPoint to, byte[] bytes)
    {
        if (Turn is { } turn && turn.Owns(to))
        {
            foreach (var (f, t, b) in turn.Receive(from, to, bytes).ToList()) Route(f, t, b);
            return;
        }
        foreach (var s in new[] { A, B })
        {
            var local = to;
            foreach (var (priv, pub) in s.Nat) if (pub.Equals(to)) local = priv;
            // A private address behind a NAT is reachable only through its public mapping.
            bool hidden = s.Nat.Exists(n => n.Private.Equals(to));
            if (!hidden && s.Bases.Contains(local))
            {
                Step(s, () => s.Agent.Handle(Now, new IceInput.Datagram(local, from, bytes)));
                return;
            }
        }
    }

    // --- building blocks for tests ----------------------------------------------------------

    public static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    /// <summary>Short timers so that failures and consent loss happen within simulated seconds.</summary>
    public static IceConfig FastConfig(IceRole role) => new()
    {
        Role = role,
        Ta = TimeSpan.FromMilliseconds(20),
        Rto = TimeSpan.FromMilliseconds(100),
        TransmitsMax = 5,
        LastWaitFactor = 4,
        GatheringTimeout = TimeSpan.FromSeconds(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        NominationWait = TimeSpan.FromSeconds(1),
        ConsentInterval = TimeSpan.FromSeconds(1),
        ConsentTimeout = TimeSpan.FromSeconds(5),
    };

    public static IceNetwork Pair(IceConfig a, string[] aBases, IceConfig b, string[] bBases, ulong seed = 7, ulong fateSeed = 1)
    {
        var root = new DeterministicRandom(seed);
        return new IceNetwork(new IceAgent(a, root.Fork("a")), [.. aBases.Select(Ep)], new IceAgent(b, root.Fork("b")), [.. bBases.Select(Ep)], fateSeed);
    }

    public bool BothConnected => A.Agent.State == IceAgentState.Connected && B.Agent.State == IceAgentState.Connected;

    /// <summary>Each side's selected pair is the other's, seen from the other end.</summary>
    public bool SamePair =>
        A.Agent.SelectedPair is { } a && B.Agent.SelectedPair is { } b
        && a.Local.Address.Equals(b.Remote.Address) && a.Remote.Address.Equals(b.Local.Address);

    public static int DatagramKindCount(IEnumerable<string> log, DatagramKind kind) =>
        log.Count(l => DatagramDemux.Classify(Convert.FromHexString(l[(l.LastIndexOf(' ') + 1)..])) == kind);
}
