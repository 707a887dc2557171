// The DTLS handshake model of --links ice: four flights of the measured sizes, the client done on
// flight 4 and the server on flight 3; a lost flight is sent again after 1 s, then 2 s (RFC 6347
// doubling); the done server answers a repeated flight 3 with flight 4; a side that hears nothing
// fails after the handshake timeout; anything that is not one of the flights is refused, never thrown.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Sim.IceLinks;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class DtlsFlightsTests
{
    private static readonly Instant T0 = new(1_000_000_000);

    private static List<int> Take(DtlsFlights side)
    {
        var flights = new List<int>();
        while (side.TryPollDatagram(out var d))
        {
            Assert.True(DtlsFlights.TryRead(d, out int f));
            Assert.Equal(DtlsFlights.FlightBytes[f - 1], d.Length);
            flights.Add(f);
        }
        return flights;
    }

    /// <summary>A client and a server, the flights up to (and including) `upTo` delivered without loss.</summary>
    private static (DtlsFlights Client, DtlsFlights Server) Exchanged(int upTo)
    {
        var client = new DtlsFlights(client: true, T0);
        var server = new DtlsFlights(client: false, T0);
        Take(client);
        for (int flight = 1; flight <= upTo; flight++)
        {
            var to = flight % 2 == 1 ? server : client;
            to.Receive(T0, flight);
            Take(to);
        }
        return (client, server);
    }

    [Fact]
    public void Without_loss_four_flights_of_the_measured_sizes_finish_both_sides()
    {
        var client = new DtlsFlights(client: true, T0);
        var server = new DtlsFlights(client: false, T0);
        Assert.Equal([1], Take(client));
        server.Receive(T0, 1);
        Assert.Equal([2], Take(server));
        client.Receive(T0, 2);
        Assert.Equal([3], Take(client));
        server.Receive(T0, 3);
        Assert.Equal([4], Take(server));
        Assert.True(server.Done);
        Assert.False(client.Done);
        client.Receive(T0, 4);
        Assert.True(client.Done);
        Assert.Null(client.PollTimeout());
        Assert.Null(server.PollTimeout());
        Assert.Equal(0, client.TakeRetransmits() + server.TakeRetransmits());
        // The first bytes say DTLS to RFC 7983 demultiplexing: handshake, and change_cipher_spec for flight 4.
        Assert.Equal(DtlsFlights.HandshakeType, DtlsFlights.Datagram(1)[0]);
        Assert.Equal(DtlsFlights.ChangeCipherSpecType, DtlsFlights.Datagram(4)[0]);
    }

    [Fact]
    public void A_lost_flight_is_sent_again_after_one_second_then_two()
    {
        var client = new DtlsFlights(client: true, T0);
        Take(client);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), client.PollTimeout());
        client.HandleTimeout(T0 + TimeSpan.FromSeconds(1));
        Assert.Equal([1], Take(client));
        Assert.Equal(T0 + TimeSpan.FromSeconds(3), client.PollTimeout());
        client.HandleTimeout(T0 + TimeSpan.FromSeconds(3));
        Assert.Equal([1], Take(client));
        Assert.Equal(2, client.TakeRetransmits());
        Assert.Equal(0, client.TakeRetransmits());
    }

    [Fact]
    public void When_flight_4_is_lost_the_done_server_answers_the_repeated_flight_3()
    {
        var (client, server) = Exchanged(upTo: 3);   // the server's flight 4 is lost
        Assert.True(server.Done);
        var at = client.PollTimeout()!.Value;
        client.HandleTimeout(at);
        Assert.Equal([3], Take(client));
        server.Receive(at, 3);
        Assert.Equal([4], Take(server));
        client.Receive(at, 4);
        Assert.True(client.Done);
    }

    [Fact]
    public void Repeated_flights_are_answered_with_the_last_flight_sent()
    {
        var (client, server) = Exchanged(upTo: 1);
        server.Receive(T0, 1);        // the client's flight 1 again: our flight 2 was lost
        Assert.Equal([2], Take(server));
        client.Receive(T0, 2);
        Take(client);
        client.Receive(T0, 2);        // flight 2 again: our flight 3 was lost
        Assert.Equal([3], Take(client));
        client.Receive(T0, 1);        // nonsense for a client: ignored
        Assert.Empty(Take(client));
    }

    [Fact]
    public void Flights_heard_before_the_start_are_kept_within_a_bound_and_answered_at_the_start()
    {
        var server = new DtlsFlights(client: false);
        Assert.True(server.Receive(T0, 1));
        Assert.Empty(Take(server));
        Assert.Null(server.PollTimeout());        // no handshake timer before the start
        for (int i = 1; i < DtlsFlights.EarlyFlightsMax; i++) Assert.True(server.Receive(T0, 1));
        Assert.False(server.Receive(T0, 1));      // the bound: dropped
        server.Start(T0);
        Assert.True(server.Started);
        Assert.Equal(2, Take(server).Distinct().Single());
        Assert.Equal(T0 + DtlsFlights.RetransmitInitial, server.PollTimeout());
    }

    [Fact]
    public void A_side_that_hears_nothing_fails_after_the_handshake_timeout_and_stays_failed()
    {
        var client = new DtlsFlights(client: true, T0);
        var server = new DtlsFlights(client: false, T0);
        var deadline = T0 + DtlsFlights.HandshakeTimeout;
        while (client.PollTimeout() is { } t && t <= deadline) client.HandleTimeout(t);
        server.HandleTimeout(deadline);
        Assert.True(client.Failed);
        Assert.True(server.Failed);
        Assert.Null(client.PollTimeout());
        client.Receive(deadline, 2);
        Assert.False(client.Done);
        // Retransmissions doubled from 1 s: at 1, 3, 7 and 15 s, then the timeout at 20 s.
        Assert.Equal(4, client.TakeRetransmits());
    }

    [Fact]
    public void Bytes_that_are_not_a_flight_are_refused_without_an_exception()
    {
        Assert.False(DtlsFlights.TryRead([23, 1, 2, 3], out _));                  // application data
        Assert.False(DtlsFlights.TryRead(DtlsFlights.Datagram(2).AsSpan(0, 100), out _));   // cut short
        var wrongType = DtlsFlights.Datagram(4);
        wrongType[0] = DtlsFlights.HandshakeType;
        Assert.False(DtlsFlights.TryRead(wrongType, out _));
        // Every flight with its header, whatever its padding, is read back.
        for (int f = 1; f <= 4; f++)
        {
            var padded = DtlsFlights.Datagram(f);
            padded[^1] = 0x5A;
            Assert.True(DtlsFlights.TryRead(padded, out int read) && read == f);
        }
        PropertyCheck.Run(500, Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            bool ok = DtlsFlights.TryRead(bytes, out int flight);
            return !ok || bytes.AsSpan(0, 4).SequenceEqual(DtlsFlights.Datagram(flight).AsSpan(0, 4)) && bytes.Length == DtlsFlights.FlightBytes[flight - 1];
        }));
    }
}
