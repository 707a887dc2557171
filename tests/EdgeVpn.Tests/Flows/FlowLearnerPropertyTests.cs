// Laws of the flow learner: on random input sequences it never sends a frame back out of its
// ingress port, reports every flow it installs and removes, and keeps its invariants; and in a
// random network of nodes (bounded flood + flow learner, a successor ring plus chords) a unicast
// frame never visits a node twice.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flood;
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Flows;

public class FlowLearnerPropertyTests
{
    private static FlowConfig RandomConfig(DeterministicRandom rng) => new()
    {
        UnknownUnicast = rng.NextInt(2) == 0 ? UnknownUnicastPolicy.Drop : UnknownUnicastPolicy.Flood,
        FlowsMax = 1 + rng.NextInt(8),
        MacsMax = 1 + rng.NextInt(8),
        FlowIdleTimeout = TimeSpan.FromSeconds(5 + rng.NextInt(120)),
        MacAgeMax = TimeSpan.FromSeconds(5 + rng.NextInt(300)),
        FrameLengthMax = 200,
    };

    private static byte[] Frame(MacAddress src, MacAddress dst, int id) =>
        EthernetFrame.Build(dst, src, EthernetFrame.EtherTypeIpv4, BitConverter.GetBytes(id));

    [Fact]
    public void Random_frames_on_random_ports_are_never_sent_back_out_of_their_ingress_port()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var m = new FlowLearner(RandomConfig(rng));
            var macs = new MacAddress[7];
            for (int i = 0; i < 5; i++) macs[i] = MacAddress.LocalFrom((ulong)i + 1);
            macs[5] = MacAddress.Broadcast;
            macs[6] = MacAddress.Parse("01:00:5e:00:00:fb").Value;
            var links = new[] { new LinkId(1), new LinkId(2), new LinkId(3), new LinkId(4) };
            var installed = new HashSet<(FlowPort, MacAddress, MacAddress)>();
            var now = Instant.Zero;
            int steps = 50 + rng.NextInt(200);
            for (int step = 0; step < steps; step++)
            {
                FlowInput input;
                byte[] frame = rng.NextInt(20) == 0
                    ? new byte[rng.NextInt(30)]
                    : Frame(macs[rng.NextInt(macs.Length)], macs[rng.NextInt(macs.Length)], step);
                var link = links[rng.NextInt(links.Length)];
                switch (rng.NextInt(7))
                {
                    case 0: case 1: input = new FlowInput.FromLocal(frame); break;
                    case 2: case 3: input = new FlowInput.FromLink(link, frame); break;
                    case 4: input = new FlowInput.FloodDelivered(rng.NextInt(4) == 0 ? null : link, new NodeId(0, (ulong)rng.NextInt(5)), frame); break;
                    case 5: input = new FlowInput.LinkRemoved(link); break;
                    default:
                        now += TimeSpan.FromSeconds(rng.NextInt(90));
                        if (m.PollTimeout() is { } due && due > now)
                        {
                            m.HandleTimeout(now); // early: must do nothing
                            Assert.False(m.TryPollOutput(out var early), $"early timeout produced {early}");
                        }
                        input = new FlowInput.FromLocal(frame);
                        m.HandleTimeout(now);
                        Drain(m, installed, ingress: null, fromLocal: false);
                        break;
                }
                m.Handle(now, input);
                m.CheckInvariants();
                Drain(m, installed,
                    ingress: input switch { FlowInput.FromLink l => l.Link, _ => null },
                    fromLocal: input is FlowInput.FromLocal,
                    fromFlood: input is FlowInput.FloodDelivered);
                Assert.Equal(installed.Count, m.FlowCount);
            }
            return true;
        }, maxTest: 300);
    }

    private static void Drain(FlowLearner m, HashSet<(FlowPort, MacAddress, MacAddress)> installed, LinkId? ingress, bool fromLocal, bool fromFlood = false)
    {
        while (m.TryPollOutput(out var o))
        {
            switch (o)
            {
                case FlowOutput.SendToLink s:
                    Assert.False(ingress == s.Link, "sent back out of the ingress link");
                    Assert.False(fromFlood, "a flood delivery was forwarded as unicast");
                    break;
                case FlowOutput.DeliverLocal:
                    Assert.False(fromLocal, "delivered back to the local port");
                    break;
                case FlowOutput.InstallFlow f:
                    Assert.NotEqual(f.InPort, f.OutPort);
                    Assert.True(installed.Add((f.InPort, f.EthSrc, f.EthDst)), "flow installed twice");
                    break;
                case FlowOutput.RemoveFlow r:
                    Assert.True(installed.Remove((r.InPort, r.EthSrc, r.EthDst)), "removed a flow never installed");
                    break;
            }
        }
    }

    /// <summary>Nodes with a flood and a learner each, one host per node, a successor ring plus chords.</summary>
    private sealed class Network
    {
        public readonly int N;
        public readonly NodeId[] Ids;
        public readonly NeighbourTable[] Tables;
        public readonly BoundedFlood[] Floods;
        public readonly FlowLearner[] Learners;
        public readonly MacAddress[] Hosts;
        public readonly Dictionary<LinkId, (int A, int B)> Links = new();
        public readonly List<LinkId> Chords = new();
        private readonly Dictionary<NodeId, int> _index = new();
        private readonly Queue<(int Node, object Input)> _queue = new();
        private readonly Dictionary<int, HashSet<int>> _visits = new();
        private ulong _nextLink = 1;

        public Network(DeterministicRandom rng)
        {
            N = 2 + rng.NextInt(9);
            var set = new SortedSet<NodeId>();
            while (set.Count < N) set.Add(new NodeId(rng.NextUInt128()));
            Ids = [.. set];
            var config = RandomConfig(rng);
            Tables = new NeighbourTable[N];
            Floods = new BoundedFlood[N];
            Learners = new FlowLearner[N];
            Hosts = new MacAddress[N];
            for (int i = 0; i < N; i++)
            {
                _index[Ids[i]] = i;
                Tables[i] = new NeighbourTable(Ids[i]);
                Floods[i] = new BoundedFlood(Tables[i]);
                Learners[i] = new FlowLearner(config);
                Hosts[i] = MacAddress.LocalFrom(0x1000 + (ulong)i);
            }
            for (int i = 0; i < N; i++) Link(i, (i + 1) % N, chord: false);
            for (int c = rng.NextInt(N + 1); c > 0; c--) Link(rng.NextInt(N), rng.NextInt(N), chord: true);
        }

        private void Link(int a, int b, bool chord)
        {
            if (a == b || Tables[a].Contains(Ids[b])) return;
            var id = new LinkId(_nextLink++);
            Links[id] = (a, b);
            Tables[a].Add(Ids[b], id);
            Tables[b].Add(Ids[a], id);
            if (chord) Chords.Add(id);
        }

        public void RemoveChord(Instant now, int which)
        {
            var id = Chords[which];
            Chords.RemoveAt(which);
            var (a, b) = Links[id];
            Links.Remove(id);
            Tables[a].Remove(Ids[b]);
            Tables[b].Remove(Ids[a]);
            _queue.Enqueue((a, new FlowInput.LinkRemoved(id)));
            _queue.Enqueue((b, new FlowInput.LinkRemoved(id)));
            Run(now);
        }

        public void Inject(Instant now, int node, byte[] frame, int? unicastId)
        {
            if (unicastId is { } k) _visits[k] = [node];
            _queue.Enqueue((node, new FlowInput.FromLocal(frame)));
            Run(now);
        }

        public void Tick(Instant now)
        {
            foreach (var l in Learners)
            {
                if (l.PollTimeout() is { } due && due <= now) l.HandleTimeout(now);
                while (l.TryPollOutput(out var o)) Assert.True(o is FlowOutput.RemoveFlow, $"timeout produced {o}");
                l.CheckInvariants();
            }
        }

        private void Run(Instant now)
        {
            int budget = 100_000;
            while (_queue.TryDequeue(out var item))
            {
                Assert.True(--budget > 0, "the network never went quiet");
                var (x, input) = item;
                if (input is FloodInput fi)
                {
                    Floods[x].Handle(now, fi);
                    while (Floods[x].TryPollOutput(out var o))
                    {
                        switch (o)
                        {
                            case FloodOutput.Forward f:
                                _queue.Enqueue((_index[f.Peer], new FloodInput.Received(f.Link, Ids[x], f.Frame)));
                                break;
                            case FloodOutput.Deliver d:
                                _queue.Enqueue((x, new FlowInput.FloodDelivered(d.IngressLink, d.Root, d.Inner)));
                                break;
                            default:
                                Assert.Fail($"flood at node {x}: {o}");
                                break;
                        }
                    }
                    continue;
                }
                var flowInput = (FlowInput)input;
                if (flowInput is FlowInput.FromLink arrived && arrived.Frame.Length >= 18)
                {
                    int k = BitConverter.ToInt32(arrived.Frame.Span[14..]);
                    var visited = _visits[k];
                    Assert.True(visited.Add(x), $"unicast frame {k} visited node {x} twice (path so far {string.Join(",", visited)})");
                    Assert.True(visited.Count <= N, "unicast frame took more hops than there are nodes");
                }
                var learner = Learners[x];
                learner.Handle(now, flowInput);
                learner.CheckInvariants();
                while (learner.TryPollOutput(out var o))
                {
                    switch (o)
                    {
                        case FlowOutput.SendToLink s:
                            Assert.False(flowInput is FlowInput.FromLink fl && fl.Link == s.Link, "sent back out of the ingress link");
                            var (a, b) = Links[s.Link];
                            int peer = a == x ? b : a;
                            _queue.Enqueue((peer, new FlowInput.FromLink(s.Link, s.Frame)));
                            break;
                        case FlowOutput.Broadcast bc:
                            _queue.Enqueue((x, new FloodInput.Originate(bc.Frame)));
                            break;
                        case FlowOutput.Error e:
                            Assert.Fail($"learner at node {x}: {e}");
                            break;
                    }
                }
            }
        }
    }

    [Fact]
    public void A_unicast_frame_never_visits_the_same_node_twice_in_a_network_of_learners()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var net = new Network(rng);
            var now = Instant.Zero;
            int actions = 20 + rng.NextInt(100);
            for (int i = 0, id = 0; i < actions; i++)
            {
                int a = rng.NextInt(net.N);
                switch (rng.NextInt(6))
                {
                    case 0:
                        net.Inject(now, a, new ArpPacket(ArpOperation.Request, net.Hosts[a], 1, MacAddress.Zero, 2).ToFrame(), null);
                        break;
                    case 1:
                        now += TimeSpan.FromSeconds(rng.NextInt(60));
                        net.Tick(now);
                        break;
                    case 2 when net.Chords.Count > 0:
                        net.RemoveChord(now, rng.NextInt(net.Chords.Count));
                        break;
                    default:
                        // To a host (possibly on the same node) or, rarely, to a MAC nobody owns.
                        var dst = rng.NextInt(10) == 0 ? MacAddress.LocalFrom(0xDEAD) : net.Hosts[rng.NextInt(net.N)];
                        id++;
                        net.Inject(now, a, Frame(net.Hosts[a], dst, id), id);
                        break;
                }
            }
            return true;
        }, maxTest: 300);
    }
}
