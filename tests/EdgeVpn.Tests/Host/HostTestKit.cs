// Test fixtures for the host loop: a deterministic in-process network of NodeDrivers (virtual
// time that jumps to the next wake-up, FIFO event delivery, loopback links, signals relayed as
// XMPP events) and an in-memory signaling relay for NodeHosts on a fake clock.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Host;
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.Tests.Host;

internal static class HostTestKit
{
    public static readonly EdgeNodeConfig Protocol = new()
    {
        Topology = new Protocol.Topology.TopologyConfig { LongLinkDelay = TimeSpan.FromSeconds(1), TickInterval = TimeSpan.FromSeconds(1) },
    };

    public static NodeId IdOf(int i) => new((ulong)i << 60, (ulong)i);
    public static Jid JidOf(int i) => Jid.Parse($"user{i}@xmpp.test/edgevpn").Value;
    public static string FingerprintOf(int i) => $"sha-256 fp-{i}";

    /// <summary>An ARP request from mac(i) for 10.0.0.(j): a broadcast the node floods.</summary>
    public static byte[] ArpRequest(int i, int j)
    {
        var sha = MacAddress.LocalFrom((ulong)i);
        var p = new byte[28];
        p[0] = 0; p[1] = 1; p[2] = 0x08; p[3] = 0; p[4] = 6; p[5] = 4; p[6] = 0; p[7] = 1;
        sha.Write(p.AsSpan(8, 6));
        p[14] = 10; p[15] = 0; p[16] = 0; p[17] = (byte)i;
        p[24] = 10; p[25] = 0; p[26] = 0; p[27] = (byte)j;
        return EthernetFrame.Build(MacAddress.Broadcast, sha, 0x0806, p);
    }

    public static byte[] Unicast(int from, int to, int length = 100)
    {
        var payload = new byte[length];
        for (int k = 0; k < length; k++) payload[k] = (byte)(k * 7 + from);
        return EthernetFrame.Build(MacAddress.LocalFrom((ulong)to), MacAddress.LocalFrom((ulong)from), 0x0800, payload);
    }
}

/// <summary>NodeDrivers in one virtual-time world. Deterministic: FIFO events, time jumps.</summary>
internal sealed class DriverWorld
{
    private readonly Queue<(int Node, HostEvent Event)> _queue = new();
    public LoopbackLinkNetwork Links { get; } = new();
    public List<NodeDriver> Drivers { get; } = [];
    public List<List<string>> Outputs { get; } = [];
    public List<List<byte[]>> Delivered { get; } = [];
    public List<StringWriter> Traces { get; } = [];
    public Instant Now { get; private set; } = Instant.Zero;
    /// <summary>Rewrites signal payloads in flight (a man in the middle of signaling).</summary>
    public Func<string, string> Tamper { get; set; } = json => json;

    public int Add(ulong seed, EdgeNodeConfig? config = null, string? fingerprint = null)
    {
        int index = Drivers.Count;
        var id = HostTestKit.IdOf(index + 1);
        var trace = new StringWriter();
        Traces.Add(trace);
        Outputs.Add([]);
        Delivered.Add([]);
        var transport = Links.Attach(id, new Events(this, index), fingerprint ?? HostTestKit.FingerprintOf(index + 1));
        var driver = new NodeDriver(id, seed, config ?? HostTestKit.Protocol, "ov", HostTestKit.JidOf(index + 1).Bare.ToString(),
            transport, new Port(this, index), new Signals(this, index), new NodeTraceWriter(trace, 1 << 24), (_, _) => { }, Now);
        driver.OutputObserver = o => Outputs[index].Add(NodeTrace.Describe(o));
        Drivers.Add(driver);
        return index;
    }

    /// <summary>Everyone sees everyone online (the presences XMPP would deliver).</summary>
    public void AnnounceAll()
    {
        for (int i = 0; i < Drivers.Count; i++)
            for (int j = 0; j < Drivers.Count; j++)
                if (i != j) Post(i, new HostEvent.Xmpp(new XmppOutput.PeerPresence(HostTestKit.JidOf(j + 1), Drivers[j].Id, "ov", true)));
    }

    public void Post(int node, HostEvent e) => _queue.Enqueue((node, e));

    /// <summary>Runs events and timers until the virtual clock passes `until`.</summary>
    public void RunUntil(Instant until)
    {
        while (true)
        {
            while (_queue.TryDequeue(out var item)) Drivers[item.Node].Handle(Now, item.Event);
            Instant? next = null;
            foreach (var d in Drivers) next = Instant.Earliest(next, d.NextWake);
            if (next is not { } at || at > until) { Now = until; return; }
            Now = Instant.Max(Now, at);
            for (int i = 0; i < Drivers.Count; i++) Post(i, new HostEvent.Wake());
        }
    }

    public void RunFor(TimeSpan d) => RunUntil(Now + d);

    private sealed class Events(DriverWorld w, int index) : ILinkEvents
    {
        public void Report(LinkEvent e) => w.Post(index, new HostEvent.Link(e));
    }

    private sealed class Port(DriverWorld w, int index) : ILocalPort
    {
        public void Deliver(byte[] frame) => w.Delivered[index].Add(frame);
        public void Dispose() { }
    }

    private sealed class Signals(DriverWorld w, int from) : ISignalingPort
    {
        public void Send(Jid to, string json)
        {
            int target = Enumerable.Range(0, w.Drivers.Count).FirstOrDefault(i => HostTestKit.JidOf(i + 1) == to, -1);
            if (target >= 0) w.Post(target, new HostEvent.Xmpp(new XmppOutput.Signal(HostTestKit.JidOf(from + 1), w.Tamper(json))));
        }
    }
}

/// <summary>Relays presences and signals between NodeHosts, as an XMPP server would; Tamper may rewrite payloads in flight.</summary>
internal sealed class InMemorySignaling
{
    private readonly List<(Jid Jid, NodeHost Host)> _members = [];
    public Func<string, string> Tamper { get; set; } = json => json;

    public ISignalingPort PortFor(Jid self) => new Port(this, self);

    public void Join(Jid jid, NodeHost host)
    {
        lock (_members)
        {
            foreach (var (otherJid, other) in _members)
            {
                other.TryPost(new HostEvent.Xmpp(new XmppOutput.PeerPresence(jid, host.Id, "ov", true)));
                host.TryPost(new HostEvent.Xmpp(new XmppOutput.PeerPresence(otherJid, other.Id, "ov", true)));
            }
            _members.Add((jid, host));
            host.TryPost(new HostEvent.Xmpp(new XmppOutput.Online(jid)));
        }
    }

    private sealed class Port(InMemorySignaling s, Jid self) : ISignalingPort
    {
        public void Send(Jid to, string json)
        {
            lock (s._members)
                foreach (var (jid, host) in s._members)
                    if (jid == to) host.TryPost(new HostEvent.Xmpp(new XmppOutput.Signal(self, s.Tamper(json))));
        }
    }
}
