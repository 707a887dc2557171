// Two whole nodes in this process, each behind its own NAT: host loops (NodeHost) logged in to a
// real Prosody, link transports that are ICE + DTLS (IceDtlsLinkTransport) with their sockets
// made inside the NAT testbed's host namespaces (NatTestbed: iptables NAT routers, a real coturn
// as STUN and TURN server). The nodes meet over XMPP, negotiate the link through the server, and
// it comes up over ICE (direct between port-restricted cones, through TURN when one side is
// symmetric) with DTLS on top; an ARP request written at one node's local port is flooded over
// the link and comes out of the other's. A node whose signaled fingerprint is not its
// certificate's (rewritten in flight) gets no link: DTLS refuses it and status says why. The
// TURN password appears in no log line and no status.
// Waits are liveness bounds, never timing assertions.
using System.Collections.Concurrent;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Ice;
using EdgeVpn.RealNode.Link;
using EdgeVpn.Tests.Host;
using EdgeVpn.Tests.RealIce;
using EdgeVpn.Tests.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

/// <summary>Skipped, with the reason, unless both the NAT testbed and Prosody can run here.</summary>
public sealed class NodesOverNatFactAttribute : FactAttribute
{
    public NodesOverNatFactAttribute()
    {
        if ((NatTestbed.Unavailable ?? ProsodyServer.Unavailable) is { } why) Skip = why;
    }
}

public sealed class NodesOverNatTests(NatTestbed nat, ProsodyServer prosody) : IClassFixture<NatTestbed>, IClassFixture<ProsodyServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private sealed class RecordingPort : ILocalPort
    {
        public BlockingCollection<byte[]> Frames { get; } = new(1024);
        public void Deliver(byte[] frame) => Frames.TryAdd(frame);
        public void Dispose() { }
    }

    private void Start(NatPreset first, NatPreset second)
    {
        nat.EnsureStarted();
        nat.SetNat(1, first);
        nat.SetNat(2, second);
        prosody.EnsureStarted(("alice", "alice-pw-1", true), ("bob", "bob-pw-2", true));
    }

    private Func<ILinkEvents, ILinkTransport> Transport(int host, DtlsIdentity identity, ConcurrentQueue<string> log) => events =>
        new IceDtlsLinkTransport(events, new IceDtlsTransportOptions(new IceLinkOptions(new IceConfig
        {
            StunServers = [NatTestbed.TurnServer],
            Turn = new IceTurnServer(NatTestbed.TurnServer, NatTestbed.TurnUser, nat.TurnPassword),
            // Refreshed well inside the testbed coturn's short lifetimes.
            TurnPermissionRefresh = TimeSpan.FromSeconds(2),
            TurnChannelRefresh = TimeSpan.FromSeconds(3),
        }))
        {
            Open = (options, time, linkLog, name) => NetworkNamespace.Run(nat.Host(host), () => IceLink.Open(options, time, linkLog, name)),
            Log = (level, line) => log.Enqueue($"{host} {level}: {line}"),
        }, identity);

    private static DtlsIdentity Identity(string name) => DtlsIdentity.CreateSelfSigned(name, DateTimeOffset.UtcNow);

    private static bool Connected(NodeStatus s) => s.Links.Any(l => l.State == "connected");

    [NodesOverNatFact]
    public async Task Behind_two_port_restricted_NATs_the_link_comes_up_directly_and_carries_a_frame() =>
        await LinkCarriesAFrame(NatPreset.PortRestricted, NatPreset.PortRestricted, "srflx");

    [NodesOverNatFact]
    public async Task Behind_a_port_restricted_and_a_symmetric_NAT_the_link_comes_up_through_TURN_and_carries_a_frame() =>
        await LinkCarriesAFrame(NatPreset.PortRestricted, NatPreset.Symmetric, "relay");

    private async Task LinkCarriesAFrame(NatPreset first, NatPreset second, string path)
    {
        Start(first, second);
        var log = new ConcurrentQueue<string>();
        var portB = new RecordingPort();
        NodeId a = HostTestKit.IdOf(1), b = HostTestKit.IdOf(2);
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, Transport(1, Identity("a"), log));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, Transport(2, Identity("b"), log), portB);
        var (sa, sb) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => Connected(x) && Connected(y), "a connected link at both ends\n" + string.Join("\n", log));
        Assert.Equal((path, path), (sa.Links.Single().Path, sb.Links.Single().Path));
        Assert.NotNull(sa.Links.Single().RttMs);

        var arp = HostTestKit.ArpRequest(1, 2);   // a broadcast: flooded over the link, delivered at B
        await na.Host.PostAsync(new HostEvent.LocalFrame(arp));
        Assert.True(portB.Frames.TryTake(out var delivered, Bound), "no frame came out at B\n" + string.Join("\n", log));
        Assert.Equal(arp, delivered);
        var (sa2, sb2) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => x.Links.Single().BytesOut >= arp.Length && y.Links.Single().BytesIn >= arp.Length, "byte counts");
        Assert.Null(sa2.LastTransportError ?? sb2.LastTransportError);
        Assert.DoesNotContain(nat.TurnPassword, string.Join("\n", log) + sa2 + sb2);   // ICE and DTLS lines are logged at every level here
    }

    [NodesOverNatFact]
    public async Task A_node_whose_signaled_fingerprint_is_not_its_certificate_gets_no_link_and_status_says_why()
    {
        Start(NatPreset.PortRestricted, NatPreset.PortRestricted);
        var log = new ConcurrentQueue<string>();
        NodeId a = HostTestKit.IdOf(3), b = HostTestKit.IdOf(4);
        var identityB = Identity("b");
        string mallory = Identity("mallory").Fingerprint.ToString();
        await using var na = new RealNodeUnderTest(prosody, "alice", "alice-pw-1", a, Transport(1, Identity("a"), log));
        await using var nb = new RealNodeUnderTest(prosody, "bob", "bob-pw-2", b, Transport(2, identityB, log),
            signaling: port => new RewritingSignalingPort(port, json => json.Replace(identityB.Fingerprint.ToString(), mallory, StringComparison.Ordinal)));
        var (sa, sb) = await RealNodeUnderTest.Until(na.Host, nb.Host, (x, y) => x.LastTransportError is not null && y.LastTransportError is not null,
            "a transport error at both ends\n" + string.Join("\n", log));
        string both = sa.LastTransportError + " | " + sb.LastTransportError;
        Assert.Contains("fingerprint mismatch", both);
        Assert.Contains(mallory, both);
        Assert.Equal((0L, 0L), (sa.LinksUpTotal, sb.LinksUpTotal));
    }

    private sealed class RewritingSignalingPort(ISignalingPort inner, Func<string, string> rewrite) : ISignalingPort
    {
        public void Send(Protocol.Xmpp.Jid to, string json) => inner.Send(to, rewrite(json));
    }
}
