// Timing bounds of a DTLS link. The first retransmission waits RetransmitInitial and each
// further one doubles it (RFC 6347 §4.2.4, BouncyCastle caps at 60 s); the whole handshake,
// including waiting for the peer's first flight, gives up after HandshakeTimeout.
namespace EdgeVpn.RealNode.Dtls;

public sealed record DtlsConfig
{
    /// <summary>RFC 6347 §4.2.4.1 recommends 1 s.</summary>
    public TimeSpan RetransmitInitial { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Bounded: a link that cannot finish within this is failed with a reason.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Datagrams from the peer waiting for the handshake; more are dropped (counted).</summary>
    public int HandshakeQueueDatagramsMax { get; init; } = 64;

    public static readonly DtlsConfig Default = new();

    public void Validate()
    {
        if (RetransmitInitial <= TimeSpan.Zero || RetransmitInitial > TimeSpan.FromSeconds(60))
            throw new ArgumentException($"RetransmitInitial must be in (0, 60 s], not {RetransmitInitial}");
        if (HandshakeTimeout < RetransmitInitial || HandshakeTimeout > TimeSpan.FromMinutes(10))
            throw new ArgumentException($"HandshakeTimeout must be in [RetransmitInitial, 10 min], not {HandshakeTimeout}");
        if (HandshakeQueueDatagramsMax is < 4 or > 4096)
            throw new ArgumentException($"HandshakeQueueDatagramsMax must be in [4, 4096], not {HandshakeQueueDatagramsMax}");
    }
}
