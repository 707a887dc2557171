// The DTLS 1.2 handshake of a `--links ice` link, flight by flight (RFC 6347 §4.2.4), as the real
// node runs it once ICE selected a pair: the ICE controlling end is the DTLS client, no
// HelloVerifyRequest cookie (ICE already proved the address), mutual certificates.
//   flight 1, client: ClientHello                                             170 bytes
//   flight 2, server: ServerHello, Certificate, ServerKeyExchange,
//                     CertificateRequest, ServerHelloDone                      660 bytes
//   flight 3, client: Certificate, ClientKeyExchange, CertificateVerify,
//                     ChangeCipherSpec, Finished                               565 bytes
//   flight 4, server: ChangeCipherSpec, Finished                                75 bytes
// Sizes: one datagram per flight, measured from the real node's BouncyCastle handshake
// (DtlsLink over a tapped in-memory pipe, 2026-12-01). The server is done when flight 3 arrives
// (it answers with flight 4), the client when flight 4 arrives. A side that waits for its peer's
// next flight sends its last flight again after RetransmitInitial, doubling up to 60 s; the server,
// done, answers a repeated flight 3 with flight 4 again (the client's flight 4 was lost), and
// answers a repeated flight 1 with flight 2. HandshakeTimeout after its start, a side that is not
// done fails. Both bounds are the real node's DtlsConfig defaults.
// A model, hand-written: no cryptography and no record layer (the simulator is one deterministic
// thread; BouncyCastle's DTLS runs blocking on its own). Byte 0 is the record's content type
// (22 handshake, 20 change_cipher_spec for flight 4, as on the wire, so RFC 7983 demultiplexing
// classes every flight as DTLS), bytes 1-2 the DTLS 1.2 version, byte 3 the flight number in
// place of the epoch; the rest is padding. TryRead refuses anything else, never throws.
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.IceLinks;

internal sealed class DtlsFlights
{
    public const byte HandshakeType = 22;
    public const byte ChangeCipherSpecType = 20;
    public static readonly int[] FlightBytes = [170, 660, 565, 75];
    public static readonly TimeSpan RetransmitInitial = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RetransmitMax = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Flights kept while not started (the real node's DtlsConfig.HandshakeQueueDatagramsMax).</summary>
    public const int EarlyFlightsMax = 64;

    private readonly bool _client;
    private Instant _deadline;
    private readonly Queue<byte[]> _toSend = new();
    private int _lastSent;              // the flight we sent last (0: none)
    private Instant? _retransmitAt;
    private TimeSpan _retransmitDelay = RetransmitInitial;
    private List<int>? _early;          // flights heard before Start

    /// <summary>A side not started yet: the flights it hears are kept until Start (the controlled end
    /// may hear flight 1 before its own agent selected the pair).</summary>
    public DtlsFlights(bool client) => _client = client;

    /// <summary>A side started at once.</summary>
    public DtlsFlights(bool client, Instant now) : this(client) => Start(now);

    /// <summary>Whether Start was called: the handshake runs over a selected pair.</summary>
    public bool Started { get; private set; }

    /// <summary>Begins the handshake (the client sends flight 1), then answers the flights kept meanwhile.</summary>
    public void Start(Instant now)
    {
        if (Started) return;
        Started = true;
        _deadline = now + HandshakeTimeout;
        if (_client) Send(now, 1);
        if (_early is { } early)
            foreach (int flight in early) Receive(now, flight);
        _early = null;
    }

    public bool Done { get; private set; }
    public bool Failed { get; private set; }
    private int _retransmits, _retransmitsTaken;

    /// <summary>Flights sent again (the peer's answer late, or the peer's flight repeated) since the last call.</summary>
    public int TakeRetransmits()
    {
        int n = _retransmits - _retransmitsTaken;
        _retransmitsTaken = _retransmits;
        return n;
    }

    public Instant? PollTimeout() => !Started || Done || Failed ? null : Instant.Earliest(_retransmitAt, _deadline);

    public bool TryPollDatagram(out byte[] datagram) => _toSend.TryDequeue(out datagram!);

    /// <summary>A flight from the peer (see TryRead); false when it was dropped: heard before Start with
    /// EarlyFlightsMax already kept.</summary>
    public bool Receive(Instant now, int flight)
    {
        if (!Started)
        {
            if ((_early ??= []).Count >= EarlyFlightsMax) return false;
            _early.Add(flight);
            return true;
        }
        if (Failed) return true;
        switch (_client, flight)
        {
            case (true, 2) when _lastSent == 1:
                Send(now, 3);
                break;
            case (true, 2) when _lastSent == 3 && !Done:
                // The server sent flight 2 again: our flight 3 was lost (RFC 6347 §4.2.4).
                _retransmits++;
                Send(now, 3);
                break;
            case (true, 4) when _lastSent == 3:
                Finish();
                break;
            case (false, 1) when _lastSent <= 2:
                if (_lastSent == 2) _retransmits++;
                Send(now, 2);
                break;
            case (false, 3) when _lastSent >= 2:
                if (_lastSent == 4) _retransmits++;
                Send(now, 4);
                Finish();
                break;
            // Anything else is a duplicate or a flight from an older exchange: nothing to answer.
        }
        return true;
    }

    public void HandleTimeout(Instant now)
    {
        if (!Started || Done || Failed) return;
        if (now >= _deadline)
        {
            Failed = true;
            _retransmitAt = null;
            return;
        }
        if (_retransmitAt is { } at && now >= at && _lastSent > 0)
        {
            _retransmits++;
            _retransmitDelay = _retransmitDelay * 2 < RetransmitMax ? _retransmitDelay * 2 : RetransmitMax;
            Send(now, _lastSent);
        }
    }

    private void Send(Instant now, int flight)
    {
        _lastSent = flight;
        _toSend.Enqueue(Datagram(flight));
        // The last flight is not retransmitted on a timer: the peer's repeated flight 3 asks for it.
        _retransmitAt = flight == 4 ? null : now + _retransmitDelay;
    }

    private void Finish()
    {
        Done = true;
        _retransmitAt = null;
    }

    public static byte[] Datagram(int flight)
    {
        var bytes = new byte[FlightBytes[flight - 1]];
        bytes[0] = flight == 4 ? ChangeCipherSpecType : HandshakeType;
        bytes[1] = 0xFE;   // DTLS 1.2 (RFC 6347 §4.1)
        bytes[2] = 0xFD;
        bytes[3] = (byte)flight;
        return bytes;
    }

    /// <summary>The flight a datagram holds, or false when it is not one of ours.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out int flight)
    {
        flight = 0;
        if (bytes.Length < 4 || bytes[1] != 0xFE || bytes[2] != 0xFD || bytes[3] is < 1 or > 4) return false;
        if (bytes[0] != (bytes[3] == 4 ? ChangeCipherSpecType : HandshakeType) || bytes.Length != FlightBytes[bytes[3] - 1]) return false;
        flight = bytes[3];
        return true;
    }
}
