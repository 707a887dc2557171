// The packet-level link model (`--links ice`): every link end runs the real ICE agent of
// src/Protocol/Ice, and every datagram it sends — STUN Binding to the STUN server, TURN
// Allocate/Refresh/permissions/channels, connectivity checks, consent checks — crosses the
// virtual UDP fabric (src/Sim/Core/Net): out through the sender's NAT box, in through the
// receiver's (RFC 4787 mapping and filtering), to the STUN/TURN servers of one IceServerSite.
// Contract with the Simulation (IIceLinkHost):
//  - each node has one fabric host, behind its own NAT box with the node's preset (or public),
//    registered in node order after the servers; each end binds its own port on that host;
//  - agent outputs become events, never re-entrant calls: Transmit -> an IceDatagram event one
//    latency later (node<->node: the overlay latency with loss, duplication and partitions;
//    node<->server: the latency to the server site, with the default loss and duplication, and
//    a partition between two nodes also drops what a TURN server relays from one to the other;
//    server<->server, a relay talking to a relay: 1 ms);
//    the agent's PollTimeout -> an IceWake event; gathering complete, connected, failed, consent
//    lost -> an IceNotify event now, which the Simulation turns into EndpointPrepared,
//    TransportUp (when both ends connected) or TransportDown;
//  - once its agent selected a pair, an end runs the DTLS handshake over it (DtlsFlights: the real
//    node's four flights with their measured sizes, RFC 6347 retransmission, its timeout) as the
//    agent's application data, through the NATs or the relay; only then is the end Connected;
//  - the agent sees the peer's candidates only through the signaling payload, encoded and
//    parsed by IceEndpointCodec (RFC 8839 lines): what the node would send over XMPP;
//  - frames and keep-alives of an up link are the agent's application data (LinkData), sent on
//    its selected pair through the NAT boxes, direct or through the TURN relay, and handed back
//    as LinkFrame / KeepAlive events at the receiving end (DeliverLinkData); a datagram that holds
//    a frame counts among the simulation's frames in flight until it arrives or is lost
//    (FrameDatagrams). Consent checks keep running at packet level, so a NAT that forgets its
//    mappings (ExpireNat) drops the link's frames at once and takes the link down when consent fails.
// Bounds: DatagramsInFlightMax datagrams in flight (beyond it the run stops with a clear error),
// one port per end (LinksMax per node is far below the port range). Deterministic: agents draw
// from a random stream forked per (node, incarnation, link); lookups use integer keys only and
// nothing iterates a hash table in an order that reaches a trace.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Sim.Net;
using EdgeVpn.Sim.Servers;

namespace EdgeVpn.Sim.IceLinks;

/// <summary>What the packet-level link model needs from the simulation that hosts it.</summary>
internal interface IIceLinkHost
{
    long NowNs { get; }
    void Schedule(long atNs, in SimEvent e);
    /// <summary>One-way latency between two nodes.</summary>
    long PathNs(int a, int b);
    /// <summary>One-way latency between a node and the server site.</summary>
    long ServerNs(int node);
    /// <summary>Copies of a datagram that arrive (0 lost, 1, 2 duplicated); a negative end is a server.</summary>
    int Copies(int from, int to);
    /// <summary>A partition cuts datagrams from one node to another (relayed ones too).</summary>
    bool Blocks(int from, int to);
    /// <summary>Datagrams that hold a link frame were scheduled (+) or arrived or were lost (-).</summary>
    void FrameDatagrams(int delta);
    /// <summary>A connected agent received link data from its peer: a frame, or (null) a keep-alive.</summary>
    void DeliverLinkData(int node, int peer, ulong link, byte[]? frame);
}

internal sealed class IceLinkLayer
{
    public const long DatagramsInFlightMax = 4_000_000;
    /// <summary>Nodes per TURN server: one relay address has 16,384 ports and a node holds about a dozen allocations.</summary>
    public const int NodesPerTurnServer = 500;
    private const ushort PortFirst = 10_000;
    private const long ServerToServerNs = 1_000_000;

    private readonly IIceLinkHost _host;
    private readonly UdpFabric _fabric;
    private readonly IceServerSite _site;
    private readonly int _firstNodeHost;
    private readonly DeterministicRandom _agentSeeds;
    private readonly IceConfig _agentConfig;
    private readonly Dictionary<(int Node, ulong Link), IceLinkEnd> _ends = new();
    private readonly Dictionary<ulong, IceLinkEnd> _byBase = new();
    private readonly List<IceLinkEnd>?[] _endsOf;
    private readonly ushort[] _nextPort;
    private readonly List<Servers.SimDatagram> _replies = new();

    public long DatagramsSent { get; private set; }
    /// <summary>Datagrams a NAT or the fabric dropped (no mapping, filtered, no route) or that reached no open end.</summary>
    public long DatagramsDropped { get; private set; }
    public long InFlight { get; private set; }
    /// <summary>Datagrams sent that hold a link frame (a relayed frame counts at each leg).</summary>
    public long FrameDatagramsSent { get; private set; }
    /// <summary>DTLS handshakes finished (at either end), flights sent again, and handshakes given up.</summary>
    public long DtlsHandshakesDone { get; private set; }
    public long DtlsRetransmits { get; private set; }
    public long DtlsFailures { get; private set; }
    public int Ends => _ends.Count;

    public IceLinkLayer(SimParameters parameters, Func<int, NatBehaviour> natOf, DeterministicRandom random, IIceLinkHost host)
    {
        _host = host;
        _fabric = new UdpFabric(random.Fork("fabric"));
        int turnServers = parameters.TurnServer ? Math.Min(IceServerSite.TurnServersMax, (parameters.Nodes + NodesPerTurnServer - 1) / NodesPerTurnServer) : 0;
        _site = new IceServerSite(_fabric, turnServers, random.Fork("servers"));
        _agentSeeds = random.Fork("agents");
        // The agent gives up when the link manager would: a setup not connected by then fails either way.
        _agentConfig = new IceConfig { ConnectTimeout = parameters.Links.SetupTimeout };
        _firstNodeHost = _fabric.HostCount;
        for (int i = 0; i < parameters.Nodes; i++)
        {
            int h = _fabric.AddHost(natOf(i));
            if (h != _firstNodeHost + i) throw new InvalidOperationException("node hosts must be consecutive fabric hosts");
        }
        _endsOf = new List<IceLinkEnd>?[parameters.Nodes];
        _nextPort = new ushort[parameters.Nodes];
    }

    public bool TryGetEnd(int node, ulong link, out IceLinkEnd end) => _ends.TryGetValue((node, link), out end!);

    /// <summary>PrepareEndpoint: a new end with its agent in the given role, gathering at once.</summary>
    public void Prepare(int node, int incarnation, ulong link, int peer, IceRole role)
    {
        if (_ends.ContainsKey((node, link))) return;   // prepared twice: the first end stands
        var config = _site.Configure(_agentConfig with { Role = role }, turn: node);
        var agent = new IceAgent(config, _agentSeeds.Fork((ulong)node).Fork((ulong)incarnation).Fork(link));
        var end = new IceLinkEnd(node, peer, link, role, agent, new Ip4Endpoint(_fabric.AddressOf(_firstNodeHost + node), FreePort(node)), _host.NowNs);
        _ends.Add((node, link), end);
        _byBase.Add(end.Base.Packed, end);
        (_endsOf[node] ??= new List<IceLinkEnd>()).Add(end);
        agent.Handle(Now, new IceInput.LocalInterfaces([end.Base.ToIPEndPoint()]));
        AfterInput(end);
    }

    /// <summary>ConnectTransport: the peer's endpoint text from signaling. False when there is no such end or the text is malformed.</summary>
    public bool Connect(int node, ulong link, string remoteEndpoint, out string? error)
    {
        error = null;
        if (!_ends.TryGetValue((node, link), out var end)) return false;
        var parsed = IceEndpointCodec.Parse(remoteEndpoint);
        if (!parsed.Ok) { error = parsed.Error; return false; }
        if (end.ConnectAtNs >= 0) return true;
        end.ConnectAtNs = _host.NowNs;
        var agent = end.Agent;
        agent.Handle(Now, new IceInput.RemoteCredentials(parsed.Value.Ufrag, parsed.Value.Password));
        foreach (var c in parsed.Value.Candidates) agent.Handle(Now, new IceInput.RemoteCandidate(c));
        agent.Handle(Now, new IceInput.RemoteCandidatesComplete());
        AfterInput(end);
        return true;
    }

    /// <summary>A frame (or, with null, a keep-alive) from this end of an up link, on its agent's
    /// selected pair: direct, or through the TURN relay. False when the end has no connected agent.</summary>
    public bool SendData(int node, ulong link, byte[]? frame)
    {
        if (!_ends.TryGetValue((node, link), out var end) || end.Closed || !end.Connected) return false;
        end.Agent.Handle(Now, new IceInput.Send(frame is null ? LinkData.KeepAlive : LinkData.Frame(frame)));
        AfterInput(end, carriesFrame: frame is not null);
        return true;
    }

    /// <summary>CloseTransport (or the transport went down): the agent releases its relay and the end goes away. Returns the end, if there was one.</summary>
    public IceLinkEnd? Close(int node, ulong link)
    {
        if (!_ends.TryGetValue((node, link), out var end)) return null;
        end.Agent.Handle(Now, new IceInput.Close());
        AfterInput(end);
        Remove(end);
        return end;
    }

    /// <summary>The node crashed: its ends vanish without a word (their relays time out at the server).</summary>
    public void Crash(int node)
    {
        if (_endsOf[node] is not { } list) return;
        foreach (var end in list.ToArray()) Remove(end);
    }

    /// <summary>The node's NAT box forgets every mapping. False for a public node.</summary>
    public bool ExpireNat(int node)
    {
        int nat = _fabric.NatOf(_firstNodeHost + node);
        if (nat < 0) return false;
        _fabric.Nat(nat).ExpireAll();
        return true;
    }

    public void OnDatagram(in SimEvent e)
    {
        InFlight--;
        var d = (LinkDatagram)e.Payload!;
        if (d.CarriesFrame) _host.FrameDatagrams(-1);
        if (_site.IsServerHost(d.Host))
        {
            _replies.Clear();
            _site.Deliver(Now, d.Host, d.Local.ToIPEndPoint(), d.Remote.ToIPEndPoint(), d.Bytes, _replies);
            // What the relay passes on still holds the frame.
            foreach (var r in _replies) Send(-1, e.Link, r.From, r.To, r.Bytes, d.Origin, d.CarriesFrame);
            return;
        }
        if (!_byBase.TryGetValue(d.Local.Packed, out var end) || end.Closed) { DatagramsDropped++; return; }
        end.Agent.Handle(Now, new IceInput.Datagram(d.Local.ToIPEndPoint(), d.Remote.ToIPEndPoint(), d.Bytes));
        AfterInput(end);
    }

    public void OnWake(in SimEvent e)
    {
        var end = (IceLinkEnd)e.Payload!;
        if (end.Closed || end.NextWakeNs != _host.NowNs) return;   // closed, or superseded by an earlier wake-up
        end.NextWakeNs = long.MaxValue;
        if (end.Agent.PollTimeout() is { } due && due.Nanoseconds <= _host.NowNs) end.Agent.HandleTimeout(Now);
        if (end.Dtls.PollTimeout() is { } dtlsDue && dtlsDue.Nanoseconds <= _host.NowNs) end.Dtls.HandleTimeout(Now);
        AfterInput(end);
    }

    private Instant Now => new(_host.NowNs);

    private void Remove(IceLinkEnd end)
    {
        end.Closed = true;
        _ends.Remove((end.Node, end.Link));
        _byBase.Remove(end.Base.Packed);
        _endsOf[end.Node]!.Remove(end);
    }

    /// <summary>Drains the agent (the sans-IO rule: after every input), checks it, re-arms its wake-up.</summary>
    /// <param name="carriesFrame">The input was a frame to send: what the agent transmits holds it.</param>
    private void AfterInput(IceLinkEnd end, bool carriesFrame = false)
    {
        var agent = end.Agent;
        while (true)
        {
            DrainAgent(end, carriesFrame);
            // DTLS flights go to the agent only once it is drained: never re-enter it from its own outputs.
            if (end.Closed || !SendFlights(end)) break;
            carriesFrame = false;
        }
        try { agent.CheckInvariants(); }
        catch (InvariantViolation v) { throw new SimInvariantViolation(end.Node, Now, $"link {end.Link:x16}: {v.Message}"); }
        if (end.Closed) return;
        if (Instant.Earliest(agent.PollTimeout(), end.Dtls.PollTimeout()) is { } t2)
        {
            long at = Math.Max(t2.Nanoseconds, _host.NowNs);
            if (at < end.NextWakeNs)
            {
                end.NextWakeNs = at;
                _host.Schedule(at, new SimEvent(EventKind.IceWake, end.Node, -1, end.Link, end));
            }
        }
    }

    /// <summary>Hands the DTLS model's datagrams to the agent and reports how it ended; true when
    /// the agent got something to send.</summary>
    private bool SendFlights(IceLinkEnd end)
    {
        var dtls = end.Dtls;
        if (!dtls.Started) return false;
        DtlsRetransmits += dtls.TakeRetransmits();
        bool sent = false;
        while (dtls.TryPollDatagram(out var flight))
        {
            end.Agent.Handle(Now, new IceInput.Send(flight));
            sent = true;
        }
        if (dtls.Done && !end.DtlsReported)
        {
            end.DtlsReported = true;
            DtlsHandshakesDone++;
            Notify(end, IceNoticeKind.Connected);
        }
        else if (dtls.Failed && !end.DtlsReported)
        {
            end.DtlsReported = true;
            DtlsFailures++;
            Notify(end, IceNoticeKind.DtlsFailed);
        }
        return sent;
    }

    private void DrainAgent(IceLinkEnd end, bool carriesFrame)
    {
        var agent = end.Agent;
        while (agent.TryPollOutput(out var output))
        {
            switch (output)
            {
                case IceOutput.Transmit t:
                    Send(end.Node, end.Link, t.From, t.To, t.Bytes, end.Node, carriesFrame);
                    break;
                case IceOutput.LocalCandidatesComplete:
                    var text = IceEndpointCodec.Encode(new IceEndpoint(agent.LocalUfrag, agent.LocalPassword, agent.LocalCandidates));
                    Notify(end, IceNoticeKind.EndpointReady, text);
                    break;
                case IceOutput.Connected c:
                    if (end.Dtls.Started) break;   // a later re-nomination changes nothing for the overlay
                    end.Relayed = c.Pair.Kind == IcePathKind.Relayed;
                    end.Dtls.Start(Now);   // Connected is noticed when the handshake finished
                    break;
                case IceOutput.Failed:
                    Notify(end, IceNoticeKind.Failed);
                    break;
                case IceOutput.ConsentLost:
                    Notify(end, IceNoticeKind.ConsentLost);
                    break;
                case IceOutput.ApplicationData a:
                    if (DtlsFlights.TryRead(a.Bytes, out int flight))
                    {
                        // The controlled (server) end may hear flight 1 before its own agent selected
                        // the pair: it is kept until then, as the real node queues early datagrams
                        // (DtlsConfig.HandshakeQueueDatagramsMax).
                        if (!end.Dtls.Receive(Now, flight)) DatagramsDropped++;
                    }
                    else if (LinkData.TryRead(a.Bytes, out var frame)) _host.DeliverLinkData(end.Node, end.Peer, end.Link, frame);
                    else DatagramsDropped++;
                    break;
                // LocalCandidate (no trickling: the endpoint goes out whole) and Error (rejected
                // checks, stale responses, data handed to an agent no longer connected) need nothing.
            }
        }
    }

    private void Notify(IceLinkEnd end, IceNoticeKind kind, string? endpoint = null) =>
        _host.Schedule(_host.NowNs, new SimEvent(EventKind.IceNotify, end.Node, end.Peer, end.Link, new IceNotice(end, kind, endpoint)));

    /// <summary>Routes a datagram sent by node `fromNode` (-1: a server) on behalf of node `origin` and schedules its arrival.</summary>
    private void Send(int fromNode, ulong link, IPEndPoint from, IPEndPoint to, byte[] bytes, int origin, bool carriesFrame)
    {
        DatagramsSent++;
        if (!Ip4Endpoint.TryFrom(from, out var f) || !Ip4Endpoint.TryFrom(to, out var t)) { DatagramsDropped++; return; }
        var route = _fabric.Route(Now, f, t);
        if (!route.Delivered) { DatagramsDropped++; return; }
        int toNode = _site.IsServerHost(route.Host) ? -1 : route.Host - _firstNodeHost;
        long latency = fromNode >= 0 && toNode >= 0 ? _host.PathNs(fromNode, toNode)
            : fromNode >= 0 || toNode >= 0 ? _host.ServerNs(fromNode >= 0 ? fromNode : toNode)
            : ServerToServerNs;   // relay to relay: both servers sit at the one site
        if (fromNode < 0 && toNode >= 0 && origin >= 0 && origin != toNode && _host.Blocks(origin, toNode)) { DatagramsDropped++; return; }
        int copies = _host.Copies(fromNode, toNode);
        if (copies == 0) return;
        var datagram = new LinkDatagram(route.Host, route.LocalDestination, route.SeenSource, bytes, origin, carriesFrame);
        for (int c = 0; c < copies; c++)
        {
            if (++InFlight > DatagramsInFlightMax)
                throw new InvalidOperationException($"more than {DatagramsInFlightMax:N0} ICE datagrams in flight: this run is too large for --links ice (use --links modeled or fewer nodes)");
            if (carriesFrame) { FrameDatagramsSent++; _host.FrameDatagrams(+1); }
            _host.Schedule(_host.NowNs + latency * (c + 1), new SimEvent(EventKind.IceDatagram, toNode, fromNode, link, datagram));
        }
    }

    /// <summary>A port of the node's host no open end uses, handed out in order from PortFirst.</summary>
    private ushort FreePort(int node)
    {
        uint address = _fabric.AddressOf(_firstNodeHost + node);
        for (int tries = 0; tries <= ushort.MaxValue - PortFirst; tries++)
        {
            ushort port = _nextPort[node] < PortFirst ? PortFirst : _nextPort[node];
            _nextPort[node] = port == ushort.MaxValue ? PortFirst : (ushort)(port + 1);
            if (!_byBase.ContainsKey(new Ip4Endpoint(address, port).Packed)) return port;
        }
        throw new InvalidOperationException($"node #{node} has no free UDP port for another link end");
    }
}
