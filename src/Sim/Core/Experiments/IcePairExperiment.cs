// One link setup at packet level: two ICE agents (the real, pure agent of src/Protocol/Ice), each
// host behind its own virtual NAT box (RFC 4787 behaviours), a STUN server and optionally a TURN
// server on the public network, and a signaling channel that relays credentials and trickled
// candidates with a delay. Every datagram — checks, STUN/TURN exchanges, relayed data — goes
// through the UdpFabric (mappings, filtering, hairpinning) with a seeded one-way latency.
// Once its agent connected, each side runs the DTLS 1.2 handshake over the selected pair as the
// real node does (DtlsFlights: the controlling side is the client; the flights are the agents'
// application data, through the NATs or the relay). The trial ends when both handshakes are done,
// either side fails, or TrialTimeout passes; setup time is from the start until the later of the
// two handshakes done (the link usable at both ends), ICE time until the later of the two Connected.
// Simplification, stated: a datagram is routed (mapping created at the sender's NAT, filtering
// checked at the receiver's NAT) when it is sent, then delivered after its latency; a mapping or
// permission that would expire in flight is not modeled.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Sim.IceLinks;
using EdgeVpn.Sim.Net;
using EdgeVpn.Sim.Servers;

namespace EdgeVpn.Sim.Experiments;

public sealed record IcePairOptions
{
    public bool TurnServer { get; init; } = true;
    public TimeSpan TrialTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>One-way latency between a host and a server, drawn per trial in [min, max].</summary>
    public TimeSpan ServerLatencyMin { get; init; } = TimeSpan.FromMilliseconds(5);
    public TimeSpan ServerLatencyMax { get; init; } = TimeSpan.FromMilliseconds(40);
    /// <summary>One-way latency between the two hosts, drawn per trial in [min, max].</summary>
    public TimeSpan PeerLatencyMin { get; init; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan PeerLatencyMax { get; init; } = TimeSpan.FromMilliseconds(80);
    /// <summary>Signaling (XMPP) delay of one message between the two nodes.</summary>
    public TimeSpan SignalingDelay { get; init; } = TimeSpan.FromMilliseconds(60);
    /// <summary>Bound on datagrams of one trial (a runaway agent is a bug, reported as a failure).</summary>
    public int DatagramsMax { get; init; } = 100_000;
}

/// <param name="SetupMs">Until both DTLS handshakes are done (NaN when not connected).</param>
/// <param name="IceMs">Until both agents connected (NaN when not connected).</param>
public sealed record IcePairTrial(bool Connected, IcePathKind? Path, double SetupMs, double IceMs, string? FailReason, int Datagrams, long DatagramsDropped);

public static class IcePairExperiment
{
    private const int HostPort = 5000;

    private abstract record Pending;
    private sealed record DatagramArrival(int Host, IPEndPoint Local, IPEndPoint Remote, byte[] Bytes) : Pending;
    private sealed record SignalArrival(int Agent, IceInput Input) : Pending;

    public static IcePairTrial Run(NatBehaviour a, NatBehaviour b, ulong seed, IcePairOptions? options = null)
    {
        var o = options ?? new IcePairOptions();
        var random = new DeterministicRandom(seed);
        var fabric = new UdpFabric(random.Fork("fabric"));
        var site = new IceServerSite(fabric, o.TurnServer ? 1 : 0, random);
        int[] hosts = [fabric.AddHost(a), fabric.AddHost(b)];
        var latencies = random.Fork("latency");
        long serverNs = Draw(latencies, o.ServerLatencyMin, o.ServerLatencyMax);
        long peerNs = Draw(latencies, o.PeerLatencyMin, o.PeerLatencyMax);
        long signalNs = o.SignalingDelay.Ticks * 100;

        var agents = new IceAgent[2];
        for (int i = 0; i < 2; i++)
        {
            agents[i] = new IceAgent(site.Configure(new IceConfig
            {
                Role = i == 0 ? Protocol.Links.IceRole.Controlling : Protocol.Links.IceRole.Controlled,
                ConnectTimeout = o.TrialTimeout,
            }), random.Fork(i == 0 ? "agent-a" : "agent-b"));
        }

        var queue = new PriorityQueue<Pending, (long, long)>();
        long seq = 0, now = 0;
        int datagrams = 0;
        long dropped = 0;
        var connectedAt = new long?[2];
        var doneAt = new long?[2];
        DtlsFlights[] dtls = [new(client: true), new(client: false)];
        var paths = new IcePathKind?[2];
        string? failure = null;
        var serverOutput = new List<SimDatagram>();

        void Schedule(long at, Pending p) => queue.Enqueue(p, (at, seq++));
        long LatencyTo(int host) => host == hosts[0] || host == hosts[1] ? peerNs : serverNs;

        // Routes one datagram sent by fabric host `senderHost` and schedules what it causes.
        void Send(int senderHost, IPEndPoint from, IPEndPoint to, byte[] bytes)
        {
            if (++datagrams > o.DatagramsMax) { failure ??= $"more than {o.DatagramsMax} datagrams"; return; }
            var route = fabric.Route(new Instant(now), from, to);
            if (route is not FabricRoute.Delivery d) { dropped++; return; }
            bool serverInvolved = site.IsServerHost(d.HostId) || site.IsServerHost(senderHost);
            long at = now + (serverInvolved ? serverNs : LatencyTo(d.HostId));
            Schedule(at, new DatagramArrival(d.HostId, d.LocalDestination, d.SeenSource, bytes));
        }

        // After every input: drain the agent, then hand it the DTLS flights it can now send (never
        // from inside its own outputs), until neither has more.
        void Drain(int i)
        {
            var agent = agents[i];
            do DrainAgent(i);
            while (SendFlights(i));
            if (dtls[i].Done) doneAt[i] ??= now;
            else if (dtls[i].Failed) failure ??= $"agent {(i == 0 ? "A" : "B")}: DTLS handshake not done within {DtlsFlights.HandshakeTimeout.TotalSeconds} s";
            agent.CheckInvariants();
        }

        bool SendFlights(int i)
        {
            bool sent = false;
            while (dtls[i].TryPollDatagram(out var flight))
            {
                agents[i].Handle(new Instant(now), new IceInput.Send(flight));
                sent = true;
            }
            return sent;
        }

        void DrainAgent(int i)
        {
            var agent = agents[i];
            while (agent.TryPollOutput(out var output))
            {
                switch (output)
                {
                    case IceOutput.Transmit t: Send(hosts[i], t.From, t.To, t.Bytes); break;
                    case IceOutput.LocalCandidate c: Schedule(now + signalNs, new SignalArrival(1 - i, new IceInput.RemoteCandidate(c.Candidate))); break;
                    case IceOutput.LocalCandidatesComplete: Schedule(now + signalNs, new SignalArrival(1 - i, new IceInput.RemoteCandidatesComplete())); break;
                    case IceOutput.Connected c:
                        connectedAt[i] ??= now;
                        paths[i] = c.Pair.Kind;
                        dtls[i].Start(new Instant(now));
                        break;
                    case IceOutput.ApplicationData a:
                        if (!DtlsFlights.TryRead(a.Bytes, out int flight) || !dtls[i].Receive(new Instant(now), flight)) dropped++;
                        break;
                    case IceOutput.Failed f: failure ??= $"agent {(i == 0 ? "A" : "B")} failed: {f.Reason}"; break;
                    case IceOutput.ConsentLost: failure ??= $"agent {(i == 0 ? "A" : "B")} lost consent"; break;
                }
            }
        }

        for (int i = 0; i < 2; i++)
        {
            var baseEp = new IPEndPoint(Ip4.ToIPAddress(fabric.AddressOf(hosts[i])), HostPort);
            Schedule(signalNs, new SignalArrival(1 - i, new IceInput.RemoteCredentials(agents[i].LocalUfrag, agents[i].LocalPassword)));
            agents[i].Handle(Instant.Zero, new IceInput.LocalInterfaces([baseEp]));
            Drain(i);
        }

        long end = o.TrialTimeout.Ticks * 100;
        while (failure is null && (doneAt[0] is null || doneAt[1] is null))
        {
            long next = queue.TryPeek(out _, out var key) ? key.Item1 : long.MaxValue;
            int timerOwner = -1;
            for (int i = 0; i < 2; i++)
                if (Instant.Earliest(agents[i].PollTimeout(), dtls[i].PollTimeout()) is { } t && t.Nanoseconds < next) { next = t.Nanoseconds; timerOwner = i; }
            if (next > end) { failure = $"no connection within {o.TrialTimeout.TotalSeconds} s"; break; }
            now = Math.Max(now, next);
            if (timerOwner >= 0)
            {
                if (agents[timerOwner].PollTimeout() is { } due && due.Nanoseconds <= now) agents[timerOwner].HandleTimeout(new Instant(now));
                if (dtls[timerOwner].PollTimeout() is { } dtlsDue && dtlsDue.Nanoseconds <= now) dtls[timerOwner].HandleTimeout(new Instant(now));
                Drain(timerOwner);
                continue;
            }
            switch (queue.Dequeue())
            {
                case SignalArrival s:
                    agents[s.Agent].Handle(new Instant(now), s.Input);
                    Drain(s.Agent);
                    break;
                case DatagramArrival d when site.IsServerHost(d.Host):
                    serverOutput.Clear();
                    site.Deliver(new Instant(now), d.Host, d.Local, d.Remote, d.Bytes, serverOutput);
                    foreach (var r in serverOutput.ToArray()) Send(d.Host, r.From, r.To, r.Bytes);
                    break;
                case DatagramArrival d:
                    int agent = d.Host == hosts[0] ? 0 : 1;
                    agents[agent].Handle(new Instant(now), new IceInput.Datagram(d.Local, d.Remote, d.Bytes));
                    Drain(agent);
                    break;
            }
        }

        bool connected = failure is null && doneAt[0] is not null && doneAt[1] is not null;
        IcePathKind? path = connected ? (paths[0] == IcePathKind.Relayed || paths[1] == IcePathKind.Relayed ? IcePathKind.Relayed : paths[0]) : null;
        double setupMs = connected ? Math.Max(doneAt[0]!.Value, doneAt[1]!.Value) / 1e6 : double.NaN;
        double iceMs = connected ? Math.Max(connectedAt[0]!.Value, connectedAt[1]!.Value) / 1e6 : double.NaN;
        return new IcePairTrial(connected, path, setupMs, iceMs, connected ? null : failure, datagrams, dropped);
    }

    private static long Draw(DeterministicRandom r, TimeSpan min, TimeSpan max) =>
        (long)(min.Ticks * 100 + r.NextDouble() * (max - min).Ticks * 100);
}
