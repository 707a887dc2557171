// DTLS links end to end over an in-memory datagram pipe: the handshake completes through loss,
// reordering and duplication and frames cross both ways; a certificate that is not the one
// announced over signaling refuses the link on both sides with a reason; replayed and
// tampered frame records are dropped and counted, and the link keeps working.
using EdgeVpn.RealNode.Dtls;
using Xunit;

namespace EdgeVpn.Tests.Dtls;

public sealed class DtlsLinkTests
{
    private static byte[] Frame(int index, int length)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++) frame[i] = (byte)(index * 31 + i);
        return frame;
    }

    [Fact]
    public void Handshake_completes_and_frames_cross_both_ways_on_a_clean_path()
    {
        using var pair = new LinkPair(DatagramFaults.None, seed: 1);
        pair.WaitConnected();
        Assert.Equal(DtlsLinkState.Connected, pair.Client.State);
        Assert.Equal(DtlsLinkState.Connected, pair.Server.State);

        for (int i = 0; i < 20; i++)
        {
            Assert.True(pair.Client.TrySendFrame(Frame(i, 1400)));
            Assert.True(pair.Server.TrySendFrame(Frame(1000 + i, 60 + i)));
        }
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.Frames.Count == 20, "20 frames at the server");
        pair.ClientEvents.WaitUntil(() => pair.ClientEvents.Frames.Count == 20, "20 frames at the client");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Frame(i, 1400)), pair.ServerEvents.Frames);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Frame(1000 + i, 60 + i)), pair.ClientEvents.Frames);
        Assert.Equal(0, pair.Server.Counters.DroppedTotal);
    }

    [Theory]
    [InlineData(11UL)]
    [InlineData(12UL)]
    [InlineData(13UL)]
    public void Handshake_completes_and_frames_cross_both_ways_through_loss_reordering_and_duplication(ulong seed)
    {
        var faults = new DatagramFaults(LossProbability: 0.2, ReorderProbability: 0.2, DuplicateProbability: 0.1);
        using var pair = new LinkPair(faults, seed);
        pair.WaitConnected();
        Assert.Null(pair.ClientEvents.DownReason);
        Assert.Null(pair.ServerEvents.DownReason);

        // Lossy path: send until some frames got through each way; every delivered frame is one
        // that was sent, and none is delivered twice (duplicates are replays to the receiver).
        var sentByClient = Enumerable.Range(0, 200).Select(i => Frame(i, 1400)).ToList();
        var sentByServer = Enumerable.Range(0, 200).Select(i => Frame(5000 + i, 100)).ToList();
        foreach (var f in sentByClient) pair.Client.TrySendFrame(f);
        foreach (var f in sentByServer) pair.Server.TrySendFrame(f);
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.Frames.Count >= 100, "most client frames at the server");
        pair.ClientEvents.WaitUntil(() => pair.ClientEvents.Frames.Count >= 100, "most server frames at the client");

        AssertDeliveredSubset(sentByClient, pair.ServerEvents.Frames.ToList());
        AssertDeliveredSubset(sentByServer, pair.ClientEvents.Frames.ToList());
    }

    private static void AssertDeliveredSubset(List<byte[]> sent, List<byte[]> delivered)
    {
        var sentKeys = sent.Select(Convert.ToHexString).ToHashSet();
        var deliveredKeys = delivered.Select(Convert.ToHexString).ToList();
        Assert.All(deliveredKeys, k => Assert.Contains(k, sentKeys));
        Assert.Equal(deliveredKeys.Count, deliveredKeys.Distinct().Count());
    }

    [Fact]
    public void Each_handshake_flight_travels_in_one_datagram_so_reordering_cannot_split_it()
    {
        // Regression: BouncyCastle switches epochs on a ChangeCipherSpec that overtakes the
        // CertificateVerify of its own flight and then ignores every retransmission.
        using var pair = new LinkPair(DatagramFaults.None, seed: 7);
        pair.WaitConnected();
        // Every datagram that carries a ChangeCipherSpec (type 20) also carries the handshake
        // records before it and the Finished after it (epoch 1), however often it was retransmitted.
        foreach (var wire in new[] { pair.ClientWire, pair.ServerWire })
        {
            var withCcs = wire.Sent.Where(d => RecordTypes(d).Contains((byte)20)).ToList();
            Assert.NotEmpty(withCcs);
            Assert.All(withCcs, d => Assert.Equal((byte)20, RecordTypes(d)[^2]));
        }
        Assert.All(pair.ClientWire.Sent.Where(d => RecordTypes(d).Contains((byte)20)), d => Assert.Equal(5, RecordTypes(d).Count));
    }

    // The DTLS record types in one datagram (13-byte headers, length in bytes 11..12).
    private static List<byte> RecordTypes(byte[] datagram)
    {
        var types = new List<byte>();
        for (int at = 0; at + 13 <= datagram.Length; at += 13 + (datagram[at + 11] << 8 | datagram[at + 12])) types.Add(datagram[at]);
        return types;
    }

    [Fact]
    public void A_certificate_other_than_the_signaled_one_refuses_the_link_on_both_sides()
    {
        var impostor = DtlsIdentity.CreateSelfSigned("impostor", DateTimeOffset.UtcNow);
        using var pair = new LinkPair(DatagramFaults.None, seed: 2, clientExpects: impostor.Fingerprint);
        pair.ClientEvents.WaitUntil(() => pair.ClientEvents.DownReason is not null, "client refuses");
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.DownReason is not null, "server learns of the refusal");

        Assert.False(pair.ClientEvents.IsConnected);
        Assert.False(pair.ServerEvents.IsConnected);
        Assert.Contains("fingerprint mismatch", pair.ClientEvents.DownReason);
        Assert.Contains(LinkPair.ServerIdentity.Fingerprint.ToString(), pair.ClientEvents.DownReason);
        Assert.Contains(impostor.Fingerprint.ToString(), pair.ClientEvents.DownReason);
        Assert.Contains("refused our certificate", pair.ServerEvents.DownReason);
        Assert.False(pair.Client.TrySendFrame(Frame(0, 10)));
    }

    [Fact]
    public void A_server_expecting_another_client_refuses_it()
    {
        var impostor = DtlsIdentity.CreateSelfSigned("impostor", DateTimeOffset.UtcNow);
        using var pair = new LinkPair(DatagramFaults.None, seed: 3, serverExpects: impostor.Fingerprint);
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.DownReason is not null, "server refuses");
        pair.ClientEvents.WaitUntil(() => pair.ClientEvents.DownReason is not null, "client learns of the refusal");
        Assert.False(pair.ServerEvents.IsConnected);
        Assert.Contains("fingerprint mismatch: the client's certificate", pair.ServerEvents.DownReason);
    }

    [Fact]
    public void A_handshake_without_a_peer_gives_up_after_its_bound_with_a_reason()
    {
        using var pipe = new DatagramPipe(new DatagramFaults(LossProbability: 1.0), seed: 4);
        var events = new LinkRecorder();
        var config = new DtlsConfig { RetransmitInitial = TimeSpan.FromMilliseconds(50), HandshakeTimeout = TimeSpan.FromMilliseconds(500) };
        using var link = new DtlsLink("lonely", DtlsRole.Client, LinkPair.ClientIdentity, LinkPair.ServerIdentity.Fingerprint, pipe.A, events, config);
        link.Start();
        events.WaitUntil(() => events.DownReason is not null, "handshake gives up");
        Assert.Contains("no DTLS handshake within", events.DownReason);
        Assert.Equal(DtlsLinkState.Down, link.State);
    }

    [Fact]
    public void Replayed_and_tampered_frame_records_are_dropped_counted_and_logged_and_the_link_goes_on()
    {
        using var pair = new LinkPair(DatagramFaults.None, seed: 5);
        pair.WaitConnected();
        Assert.True(pair.Client.TrySendFrame(Frame(1, 500)));
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.Frames.Count == 1, "first frame");
        byte[] record = pair.ClientWire.Sent.Last(d => d[0] == FrameRecord.ContentType);

        pair.ClientWire.Inject(record);
        pair.ServerEvents.WaitUntil(() => pair.Server.Counters.Dropped(FrameDrop.Replayed) == 1, "replay counted");

        byte[] tampered = (byte[])record.Clone();
        tampered[FrameRecord.HeaderBytes + 7] ^= 0x01;
        tampered[1 + 7] = 99;  // a fresh sequence number, so only authentication can catch it
        pair.ClientWire.Inject(tampered);
        pair.ServerEvents.WaitUntil(() => pair.Server.Counters.Dropped(FrameDrop.Forged) == 1, "forgery counted");

        Assert.True(pair.Client.TrySendFrame(Frame(2, 500)));
        pair.ServerEvents.WaitUntil(() => pair.ServerEvents.Frames.Count == 2, "second frame");
        Assert.Equal([Frame(1, 500), Frame(2, 500)], pair.ServerEvents.Frames);
        Assert.Equal(DtlsLinkState.Connected, pair.Server.State);
        Assert.Contains(pair.ServerEvents.Logs, l => l.Contains("Replayed", StringComparison.Ordinal));
        Assert.Contains(pair.ServerEvents.Logs, l => l.Contains("Forged", StringComparison.Ordinal));
    }

    [Fact]
    public void Closing_one_side_takes_the_other_side_down_with_a_reason()
    {
        var pair = new LinkPair(DatagramFaults.None, seed: 6);
        try
        {
            pair.WaitConnected();
            pair.Client.Dispose();
            pair.ServerEvents.WaitUntil(() => pair.ServerEvents.DownReason is not null, "server notices close_notify");
            Assert.Equal("the peer closed the link", pair.ServerEvents.DownReason);
        }
        finally { pair.Dispose(); }
    }

    [Fact]
    public void The_ice_controlling_side_is_the_dtls_client()
    {
        Assert.Equal(DtlsRole.Client, DtlsRoles.ForIce(iceControlling: true));
        Assert.Equal(DtlsRole.Server, DtlsRoles.ForIce(iceControlling: false));
    }
}
