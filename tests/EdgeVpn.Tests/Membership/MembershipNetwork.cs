// A test harness: RingMembership machines on a seeded discrete-event network. Every message is
// encoded and parsed on its way (the codec is part of the path) and delivered after a random
// delay: over an overlay link when the sender says so (dropped if the link is not up), or through
// a "signaling server" that reaches any live node. Links follow the Symphony topology the lead
// engineer will integrate: each node links to its first SuccessorsLinked successors and to k long
// links drawn from the harmonic distribution with its own estimate of n, each target found by a
// Lookup of self + x; a long-link set is re-drawn when the estimate doubles or halves. Links are
// bidirectional and come up after a setup delay; a crashed node's peers see NeighbourDown after
// CrashDetectDelay (the link keep-alive), a leaving node's peers at once.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using Xunit;

namespace EdgeVpn.Tests.Membership;

internal sealed class MembershipNetwork
{
    public sealed record Options
    {
        public MembershipConfig Config { get; init; } = new();
        public int SuccessorsLinked { get; init; } = 2;
        /// <summary>Long links per node; null: floor(log2 n̂) from the node's own estimate.</summary>
        public int? LongLinks { get; init; }
        public TimeSpan LinkDelayMin { get; init; } = TimeSpan.FromMilliseconds(5);
        public TimeSpan LinkDelayMax { get; init; } = TimeSpan.FromMilliseconds(60);
        public TimeSpan SignalingDelayMin { get; init; } = TimeSpan.FromMilliseconds(20);
        public TimeSpan SignalingDelayMax { get; init; } = TimeSpan.FromMilliseconds(200);
        public TimeSpan LinkSetupDelay { get; init; } = TimeSpan.FromMilliseconds(500);
        public TimeSpan CrashDetectDelay { get; init; } = TimeSpan.FromSeconds(15);
    }

    public enum Category { JoinLookup, Lookup, Stabilize, Leave }

    private sealed class Node(NodeId id, RingMembership machine)
    {
        public readonly NodeId Id = id;
        public readonly RingMembership M = machine;
        public bool Alive;
        public bool Started;
        public Instant? JoinedAt;
        public Instant? NextWake;
        public int Estimate;
        public int DrawnFor;
        public uint DrawEpoch;
        public readonly List<int> SuccessorLinks = [];
        public readonly List<int> LongLinks = [];
        public long Sent;
    }

    private abstract record Ev;
    private sealed record Deliver(int To, int From, byte[] Bytes, bool ViaLink) : Ev;
    private sealed record Wake(int Node) : Ev;
    private sealed record LinkUp(int A, int B, long Generation) : Ev;
    private sealed record NeighbourDown(int Node, int Peer) : Ev;
    private sealed record Act(Action Action) : Ev;

    private sealed class Link { public bool Up; public long Generation; }

    private readonly Options _o;
    private readonly DeterministicRandom _net;
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<NodeId, int> _index = [];
    private readonly Dictionary<(int, int), Link> _links = [];
    private readonly PriorityQueue<Ev, (long, long)> _queue = new();
    private long _sequence;
    private long _linkGeneration;
    private ulong _trace = 14695981039346656037UL;
    private ulong _nextProbe = 1;
    private readonly Dictionary<ulong, (int Node, NodeId Owner)> _probes = [];

    public Instant Now { get; private set; }
    /// <summary>Called with every input given to and output taken from a node (for debugging a failing seed).</summary>
    public Action<int, object>? Trace { get; set; }
    public long[] MessagesByCategory { get; } = new long[4];
    public long MessagesViaSignaling { get; private set; }
    public long DroppedNoLink { get; private set; }
    public long[] DroppedByCategory { get; } = new long[4];
    public long LongLinkDraws { get; private set; }
    public long JoinFailures { get; private set; }
    public List<int> ProbeHops { get; } = [];
    public List<string> ProbeProblems { get; } = [];
    /// <summary>A hash of every delivery (time, endpoints, bytes): equal traces give equal hashes.</summary>
    public ulong TraceHash => _trace;
    public long MessagesTotal => MessagesByCategory.Sum();

    public MembershipNetwork(int count, ulong seed, Options? options = null)
    {
        _o = options ?? new Options();
        var root = new DeterministicRandom(seed);
        _net = root.Fork("network");
        var ids = root.Fork("ids");
        for (int i = 0; i < count; i++)
        {
            NodeId id;
            do id = new NodeId(ids.NextUInt128()); while (_index.ContainsKey(id));
            _index.Add(id, i);
            _nodes.Add(new Node(id, new RingMembership(id, _o.Config, root.Fork((ulong)i + 1))));
        }
    }

    public int Count => _nodes.Count;
    public NodeId IdOf(int i) => _nodes[i].Id;
    public RingMembership Machine(int i) => _nodes[i].M;
    public bool IsAlive(int i) => _nodes[i].Alive;
    public bool HasJoined(int i) => _nodes[i].JoinedAt is not null;
    public long SentBy(int i) => _nodes[i].Sent;
    public int LongLinkCount(int i) => _nodes[i].LongLinks.Count;
    public IEnumerable<int> AliveNodes => Enumerable.Range(0, Count).Where(i => _nodes[i].Alive);
    public DeterministicRandom Random => _net;

    // ---- scenario actions ----

    public void At(Instant t, Action action) => Push(t, new Act(action));

    public void StartFirst(int i) => Start(i, () => _nodes[i].M.Handle(Now, new MembershipInput.JoinAsFirst()));

    /// <summary>Joins node i through a random node that has joined (retried a second later if none has).</summary>
    public void StartJoin(int i) => Start(i, () => JoinThroughRandomMember(i));

    private void Start(int i, Action first)
    {
        var n = _nodes[i];
        n.Alive = true;
        n.Started = true;
        first();
        Drain(i);
    }

    private void JoinThroughRandomMember(int i)
    {
        var members = Enumerable.Range(0, Count).Where(j => j != i && _nodes[j].Alive && _nodes[j].JoinedAt is not null).ToList();
        if (members.Count == 0) { At(Now + TimeSpan.FromSeconds(1), () => { if (_nodes[i].Alive) { JoinThroughRandomMember(i); Drain(i); } }); return; }
        _nodes[i].M.Handle(Now, new MembershipInput.Join(_nodes[members[_net.NextInt(members.Count)]].Id));
    }

    public void Crash(int i) => Remove(i, _o.CrashDetectDelay);

    public void Leave(int i)
    {
        _nodes[i].M.Handle(Now, new MembershipInput.Leave());
        Drain(i);
        Remove(i, TimeSpan.Zero); // a closed link is seen at once, unlike a silent peer
    }

    private void Remove(int i, TimeSpan detectDelay)
    {
        var n = _nodes[i];
        n.Alive = false;
        foreach (var key in _links.Keys.Where(k => k.Item1 == i || k.Item2 == i).ToList())
        {
            var link = _links[key];
            _links.Remove(key);
            int peer = key.Item1 == i ? key.Item2 : key.Item1;
            if (link.Up) Push(Now + detectDelay, new NeighbourDown(peer, i));
        }
    }

    /// <summary>A lookup of key from node i whose answer is checked against the true owner.</summary>
    public void Probe(int i, UInt128 key)
    {
        ulong cookie = (1UL << 63) | _nextProbe++;
        _probes[cookie] = (i, TrueOwner(key));
        _nodes[i].M.Handle(Now, new MembershipInput.Lookup(key, cookie));
        Drain(i);
    }

    // ---- running ----

    public void RunUntil(Instant end)
    {
        while (_queue.TryPeek(out _, out var key) && key.Item1 <= end.Nanoseconds)
        {
            var ev = _queue.Dequeue();
            Now = new Instant(key.Item1);
            Dispatch(ev);
        }
        Now = end;
    }

    /// <summary>Runs in steps of one second until the ring is exact or the deadline passes; the instant it converged, or null.</summary>
    public Instant? RunUntilConverged(Instant deadline)
    {
        while (Now < deadline)
        {
            if (RingProblems(1).Count == 0) return Now;
            RunUntil(Instant.Min(deadline, Now + TimeSpan.FromSeconds(1)));
        }
        return RingProblems(1).Count == 0 ? Now : null;
    }

    private void Dispatch(Ev ev)
    {
        switch (ev)
        {
            case Act a:
                a.Action();
                break;
            case Wake w:
            {
                var n = _nodes[w.Node];
                if (!n.Alive || n.NextWake != Now) return;
                n.NextWake = null;
                n.M.HandleTimeout(Now);
                Drain(w.Node);
                break;
            }
            case Deliver d:
            {
                var to = _nodes[d.To];
                if (!to.Alive) return;
                if (d.ViaLink && !(_links.TryGetValue(Key(d.To, d.From), out var l) && l.Up)) 
                {
                    DroppedNoLink++;
                    DroppedByCategory[(int)CategoryOf(MembershipCodec.Parse(d.Bytes).Value)]++;
                    return;
                }
                var parsed = MembershipCodec.Parse(d.Bytes);
                Assert.True(parsed.Ok, parsed.Error);
                _trace = StableHash.Combine(StableHash.Combine(StableHash.Combine(_trace, (ulong)Now.Nanoseconds), ((ulong)d.From << 32) | (uint)d.To), StableHash.Of(d.Bytes));
                var input = new MembershipInput.Received(_nodes[d.From].Id, parsed.Value);
                Trace?.Invoke(d.To, input);
                to.M.Handle(Now, input);
                Drain(d.To);
                break;
            }
            case LinkUp u:
            {
                if (!_links.TryGetValue(Key(u.A, u.B), out var link) || link.Generation != u.Generation || link.Up) return;
                link.Up = true;
                foreach (var (x, y) in new[] { (u.A, u.B), (u.B, u.A) })
                {
                    _nodes[x].M.Handle(Now, new MembershipInput.NeighbourUp(_nodes[y].Id));
                    Drain(x);
                }
                break;
            }
            case NeighbourDown nd:
            {
                if (!_nodes[nd.Node].Alive) return;
                _nodes[nd.Node].M.Handle(Now, new MembershipInput.NeighbourDown(_nodes[nd.Peer].Id));
                Drain(nd.Node);
                break;
            }
        }
    }

    private void Drain(int i)
    {
        var n = _nodes[i];
        var m = n.M;
        while (m.TryPollOutput(out var output))
        {
            Trace?.Invoke(i, output);
            switch (output)
            {
                case MembershipOutput.Send s:
                    OnSend(i, s);
                    break;
                case MembershipOutput.SuccessorsChanged c:
                    SetWanted(i, n.SuccessorLinks, c.Successors.Take(_o.SuccessorsLinked).Select(id => _index[id]));
                    break;
                case MembershipOutput.SizeEstimate e:
                    n.Estimate = e.N;
                    MaybeDrawLongLinks(i);
                    break;
                case MembershipOutput.Joined:
                    n.JoinedAt ??= Now;
                    break;
                case MembershipOutput.JoinFailed:
                    JoinFailures++;
                    At(Now + TimeSpan.FromSeconds(1), () => { if (_nodes[i].Alive) { JoinThroughRandomMember(i); Drain(i); } });
                    break;
                case MembershipOutput.IntroducerWanted:
                    // The signaling server names a random member one round trip later.
                    At(Now + _o.SignalingDelayMax, () =>
                    {
                        if (!_nodes[i].Alive) return;
                        var members = Enumerable.Range(0, Count).Where(j => j != i && _nodes[j].Alive && _nodes[j].JoinedAt is not null).ToList();
                        if (members.Count == 0) return;
                        _nodes[i].M.Handle(Now, new MembershipInput.Introducer(_nodes[members[_net.NextInt(members.Count)]].Id));
                        Drain(i);
                    });
                    break;
                case MembershipOutput.LookupResolved r:
                    OnResolved(i, r);
                    break;
                case MembershipOutput.LookupFailed f:
                    if (_probes.Remove(f.Cookie)) ProbeProblems.Add($"lookup from {n.Id.Short} failed: {f.Reason}");
                    break;
            }
        }
        m.CheckInvariants();
        if (n.Alive && m.PollTimeout() is { } t && (n.NextWake is not { } w || t < w))
        {
            n.NextWake = Instant.Max(t, Now);
            Push(n.NextWake.Value, new Wake(i));
        }
    }

    private void OnSend(int from, MembershipOutput.Send s)
    {
        _nodes[from].Sent++;
        MessagesByCategory[(int)CategoryOf(s.Message)]++;
        if (!_index.TryGetValue(s.To, out int to)) return;
        if (s.ViaSignaling) MessagesViaSignaling++;
        var delay = s.ViaSignaling
            ? Between(_o.SignalingDelayMin, _o.SignalingDelayMax)
            : Between(_o.LinkDelayMin, _o.LinkDelayMax);
        Push(Now + delay, new Deliver(to, from, MembershipCodec.Encode(s.Message), !s.ViaSignaling));
    }

    public static Category CategoryOf(MembershipMessage m) => m switch
    {
        MembershipMessage.FindSuccessor f => f.ForJoin ? Category.JoinLookup : Category.Lookup,
        MembershipMessage.FoundOwner o => o.KeySuccessors.Length > 0 ? Category.JoinLookup : Category.Lookup,
        MembershipMessage.FindFailed => Category.Lookup,
        MembershipMessage.Leaving => Category.Leave,
        _ => Category.Stabilize,
    };

    // ---- links ----

    private void MaybeDrawLongLinks(int i)
    {
        var n = _nodes[i];
        int est = n.Estimate;
        int k = _o.LongLinks ?? (int)Math.Floor(Math.Log2(Math.Max(1, est)));
        if (est < 2 * _o.SuccessorsLinked || k <= 0) return;
        if (n.DrawnFor > 0 && est < 2 * n.DrawnFor && 2 * est > n.DrawnFor) return;
        n.DrawnFor = est;
        n.DrawEpoch++;
        LongLinkDraws++;
        SetWanted(i, n.LongLinks, []);
        var rng = _net;
        for (int slot = 0; slot < k; slot++)
        {
            double x = LongLinkDraw.Fraction(LongLinkSampler.Harmonic, est, rng);
            UInt128 key = n.Id.Add(NodeId.OffsetOfFraction(x)).Value;
            n.M.Handle(Now, new MembershipInput.Lookup(key, ((ulong)n.DrawEpoch << 32) | (uint)slot));
        }
    }

    private void OnResolved(int i, MembershipOutput.LookupResolved r)
    {
        var n = _nodes[i];
        if (_probes.Remove(r.Cookie, out var probe))
        {
            ProbeHops.Add(r.Hops);
            if (probe.Owner != r.Owner) ProbeProblems.Add($"lookup from {n.Id.Short} answered {r.Owner.Short}, the owner is {probe.Owner.Short}");
            return;
        }
        if ((uint)(r.Cookie >> 32) != n.DrawEpoch || r.Owner == n.Id) return;
        int target = _index[r.Owner];
        if (n.LongLinks.Contains(target)) return;
        SetWanted(i, n.LongLinks, n.LongLinks.Append(target).ToList());
    }

    /// <summary>Replaces one of node i's wanted-link sets; opens new links and closes unwanted ones.</summary>
    private void SetWanted(int i, List<int> set, IEnumerable<int> peers)
    {
        var next = peers.Where(p => p != i).Distinct().ToList();
        var removed = set.Except(next).ToList();
        var added = next.Except(set).ToList();
        set.Clear();
        set.AddRange(next);
        foreach (int p in added) Open(i, p);
        foreach (int p in removed) if (!Wants(i, p) && !Wants(p, i)) Close(i, p);
    }

    private bool Wants(int a, int b) => _nodes[a].Alive && (_nodes[a].SuccessorLinks.Contains(b) || _nodes[a].LongLinks.Contains(b));

    private void Open(int a, int b)
    {
        if (!_nodes[b].Alive || _links.ContainsKey(Key(a, b))) return;
        var link = new Link { Generation = ++_linkGeneration };
        _links[Key(a, b)] = link;
        Push(Now + _o.LinkSetupDelay, new LinkUp(a, b, link.Generation));
    }

    private void Close(int a, int b)
    {
        if (!_links.Remove(Key(a, b), out var link) || !link.Up) return;
        Push(Now, new NeighbourDown(a, b));
        Push(Now, new NeighbourDown(b, a));
    }

    // ---- ground truth ----

    public NodeId TrueOwner(UInt128 key)
    {
        var alive = SortedAliveIds();
        int at = Array.BinarySearch(alive, new NodeId(key));
        if (at < 0) at = ~at;
        return alive[at == alive.Length ? 0 : at];
    }

    public NodeId[] SortedAliveIds()
    {
        var ids = AliveNodes.Select(i => _nodes[i].Id).ToArray();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>Up to max descriptions of live nodes whose successor list or predecessor is not the true one.</summary>
    public List<string> RingProblems(int max = 10)
    {
        var problems = new List<string>();
        var ids = SortedAliveIds();
        int n = ids.Length;
        int l = Math.Min(_o.Config.SuccessorListLength, n - 1);
        for (int r = 0; r < n && problems.Count < max; r++)
        {
            var m = _nodes[_index[ids[r]]].M;
            var s = m.Successors;
            bool ok = m.Phase == MembershipPhase.Member && s.Count == l;
            for (int k = 0; ok && k < l; k++) ok = s[k] == ids[(r + 1 + k) % n];
            NodeId? truePred = n > 1 ? ids[(r - 1 + n) % n] : null;
            if (ok && m.Predecessor != truePred) ok = false;
            if (!ok) problems.Add($"{ids[r].Short} ({m.Phase}): successors [{string.Join(",", s.Select(x => x.Short))}] predecessor {m.Predecessor?.Short ?? "-"}, expected [{string.Join(",", Enumerable.Range(1, l).Select(k => ids[(r + k) % n].Short))}] / {truePred?.Short ?? "-"}");
        }
        return problems;
    }

    // ---- plumbing ----

    private static (int, int) Key(int a, int b) => a < b ? (a, b) : (b, a);

    private TimeSpan Between(TimeSpan min, TimeSpan max) => min + TimeSpan.FromTicks((long)(_net.NextDouble() * (max - min).Ticks));

    private void Push(Instant at, Ev ev) => _queue.Enqueue(ev, (at.Nanoseconds, _sequence++));
}
