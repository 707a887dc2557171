// Inputs and outputs of the IceAgent machine. The agent owns no socket: the host binds the
// sockets named in LocalInterfaces, feeds every datagram received on them as Datagram (local =
// the socket, remote = the sender), and sends every Transmit from the named local socket.
// Candidates and credentials travel over signaling, which the host also carries.
using System.Net;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Ice;

public abstract record IceInput
{
    /// <summary>The host bound a UDP socket on each of these addresses; starts gathering. Once only.</summary>
    public sealed record LocalInterfaces(IReadOnlyList<IPEndPoint> HostBases) : IceInput;
    public sealed record RemoteCredentials(string Ufrag, string Password) : IceInput;
    public sealed record RemoteCandidate(IceCandidate Candidate) : IceInput;
    public sealed record RemoteCandidatesComplete : IceInput;
    public sealed record Datagram(IPEndPoint Local, IPEndPoint Remote, ReadOnlyMemory<byte> Bytes) : IceInput;
    /// <summary>Application data (e.g. DTLS) to send on the selected pair.</summary>
    public sealed record Send(ReadOnlyMemory<byte> Bytes) : IceInput;
    /// <summary>Stop: releases the TURN allocation; nothing more comes out.</summary>
    public sealed record Close : IceInput;
}

/// <summary>The pair the agent uses: candidates as each side sees them, the path kind and the check's round-trip time.</summary>
public sealed record IceSelectedPair(IceCandidate Local, IceCandidate Remote, IcePathKind Kind, TimeSpan Rtt)
{
    public override string ToString() => $"{Local.Address} -> {Remote.Address} ({Kind}, rtt {Rtt.TotalMilliseconds:F1} ms)";
}

public abstract record IceOutput
{
    /// <summary>Send Bytes from the local socket From to To.</summary>
    public sealed record Transmit(IPEndPoint From, IPEndPoint To, byte[] Bytes) : IceOutput;
    /// <summary>A local candidate to signal to the peer.</summary>
    public sealed record LocalCandidate(IceCandidate Candidate) : IceOutput;
    public sealed record LocalCandidatesComplete : IceOutput;
    /// <summary>A pair was nominated and is now used; may come again if the controlling peer nominates another.</summary>
    public sealed record Connected(IceSelectedPair Pair) : IceOutput;
    /// <summary>A non-STUN datagram that arrived on the selected pair.</summary>
    public sealed record ApplicationData(byte[] Bytes) : IceOutput;
    public sealed record Failed(string Reason) : IceOutput;
    /// <summary>RFC 7675: no consent response for ConsentTimeout; the agent stops sending.</summary>
    public sealed record ConsentLost : IceOutput;
    /// <summary>Bad input reported, never thrown: a rejected check, a forged response, a Send while not connected.</summary>
    public sealed record Error(ProtocolError Problem) : IceOutput;
}

/// <summary>Counters for researchers and tests; they never influence behaviour.</summary>
public sealed class IceStats
{
    public int ChecksSent { get; internal set; }
    public int Retransmissions { get; internal set; }
    public int RequestsAnswered { get; internal set; }
    public int RequestsRejected { get; internal set; }
    public int ResponsesDropped { get; internal set; }
    public int DatagramsDropped { get; internal set; }
    public int RoleSwitches { get; internal set; }
    public int PairsDropped { get; internal set; }
    public int ConsentChecksSent { get; internal set; }
}
