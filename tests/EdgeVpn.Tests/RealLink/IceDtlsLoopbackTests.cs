// The ICE+DTLS link transport end to end on loopback sockets (no servers, no NAT): two
// transports play the node's sequence (responder prepares as ICE controlled, initiator prepares
// as controlling, each connects with the other's endpoint text and fingerprint), the link comes
// up at both ends, a frame written at one end comes out at the other, a keep-alive arrives as a
// keep-alive, and the status shows a host path. A fingerprint that is not the peer's refuses the
// link at both ends with the reason; malformed signaling fails the link at once.
// Waits are liveness bounds (LinkEventRecorder.Bound), never timing assertions.
using System.Net;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Ice;
using EdgeVpn.RealNode.Link;
using LinkEvent = EdgeVpn.RealNode.Host.LinkEvent;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

public sealed class IceDtlsLoopbackTests
{
    private static readonly NodeId A = new(1UL << 60, 1), B = new(2UL << 60, 2);
    private static readonly LinkId L = new(0x1234);

    private static IceDtlsLinkTransport Transport(LinkEventRecorder events, DtlsIdentity identity) =>
        new(events, new IceDtlsTransportOptions(new IceLinkOptions(new Protocol.Ice.IceConfig())
        {
            Interfaces = new HostInterfaceOptions { Addresses = [IPAddress.Loopback] },
            DatagramBytesMax = 1460,
        })
        { Log = events.AddLog }, identity);

    private static DtlsIdentity Identity(string name) => DtlsIdentity.CreateSelfSigned(name, DateTimeOffset.UtcNow);

    /// <summary>Two transports with their event recorders; disposing disposes both transports.</summary>
    private sealed record Pair(IceDtlsLinkTransport A, LinkEventRecorder EventsA, IceDtlsLinkTransport B, LinkEventRecorder EventsB) : IDisposable
    {
        public void Dispose() { A.Dispose(); B.Dispose(); }
    }

    /// <summary>Two fresh transports in the node's order: B (responder) prepares, A (initiator) prepares,
    /// A connects, B connects. A is given fingerprintAGets as B's fingerprint (default: B's own).</summary>
    private static Pair Negotiated(string? fingerprintAGets = null)
    {
        var ea = new LinkEventRecorder();
        var eb = new LinkEventRecorder();
        var p = new Pair(Transport(ea, Identity("a")), ea, Transport(eb, Identity("b")), eb);
        try
        {
            var (a, b) = (p.A, p.B);
            b.Prepare(L, A, IceRole.Controlled);
            var endpointB = eb.WaitFor<LinkEvent.EndpointPrepared>().Endpoint;
            a.Prepare(L, B, IceRole.Controlling);
            var endpointA = ea.WaitFor<LinkEvent.EndpointPrepared>().Endpoint;
            Assert.StartsWith("a=ice-ufrag:", endpointA);
            a.Connect(L, B, IceRole.Controlling, endpointB, fingerprintAGets ?? b.LocalFingerprint);
            b.Connect(L, A, IceRole.Controlled, endpointA, a.LocalFingerprint);
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    [Fact]
    public void A_link_comes_up_over_ICE_and_DTLS_and_carries_frames_and_keep_alives_both_ways()
    {
        using var p = Negotiated();
        var (a, ea, b, eb) = (p.A, p.EventsA, p.B, p.EventsB);
        ea.WaitFor<LinkEvent.TransportUp>();
        eb.WaitFor<LinkEvent.TransportUp>();

        byte[] frame = [.. Enumerable.Range(0, 1400).Select(i => (byte)(i * 13))];
        a.Send(L, frame);
        Assert.Equal(frame, eb.WaitFor<LinkEvent.Frame>().Bytes);
        b.SendKeepAlive(L);
        ea.WaitFor<LinkEvent.KeepAlive>();
        byte[] back = [.. frame.Take(60).Reverse()];
        b.Send(L, back);
        Assert.Equal(back, ea.WaitFor<LinkEvent.Frame>().Bytes);

        var stats = a.Stats(L);
        Assert.Equal(LinkPathKind.Host, stats.Path);
        Assert.NotNull(stats.RttMs);
        Assert.Equal((frame.Length, back.Length), (stats.BytesOut, stats.BytesIn));
        Assert.Empty(ea.Events.OfType<LinkEvent.TransportDown>());
    }

    [Fact]
    public void A_certificate_that_is_not_the_one_from_signaling_is_refused_at_both_ends_with_the_reason()
    {
        using var p = Negotiated(fingerprintAGets: Identity("mallory").Fingerprint.ToString());
        var (a, ea, b, eb) = (p.A, p.EventsA, p.B, p.EventsB);
        var downA = ea.WaitFor<LinkEvent.TransportDown>();
        var downB = eb.WaitFor<LinkEvent.TransportDown>();
        Assert.StartsWith("fingerprint mismatch: the server's certificate is " + b.LocalFingerprint, downA.Reason);
        Assert.Contains("refused our certificate", downB.Reason);
        Assert.Empty(ea.Events.OfType<LinkEvent.TransportUp>());
        Assert.Empty(eb.Events.OfType<LinkEvent.TransportUp>());
        Assert.Equal((0, 0), (a.Count, b.Count));
    }

    [Theory]
    [InlineData("sha-256 nonsense", "the peer's certificate fingerprint from signaling is malformed")]
    [InlineData(null, "the peer's ICE endpoint from signaling is malformed")]
    public void Malformed_signaling_fails_the_link_at_once_and_says_which_part(string? fingerprint, string expected)
    {
        var ea = new LinkEventRecorder();
        using var a = Transport(ea, Identity("a"));
        a.Prepare(L, B, IceRole.Controlling);
        ea.WaitFor<LinkEvent.EndpointPrepared>();
        a.Connect(L, B, IceRole.Controlling, "a=ice-ufrag:abcd\r\nnot sdp", fingerprint ?? Identity("b").Fingerprint.ToString());
        Assert.StartsWith(expected, ea.WaitFor<LinkEvent.TransportDown>().Reason);
        Assert.Equal(0, a.Count);
    }

    [Fact]
    public void A_closed_link_reports_nothing_more_and_releases_its_end()
    {
        var ea = new LinkEventRecorder();
        using var a = Transport(ea, Identity("a"));
        a.Prepare(L, B, IceRole.Controlled);
        a.Close(L);
        a.Close(L);
        Assert.Equal(0, a.Count);
        a.Send(L, new byte[60]);
        Assert.Equal(default, a.Stats(L));
        Assert.Empty(ea.Events.OfType<LinkEvent.TransportDown>());
    }
}
