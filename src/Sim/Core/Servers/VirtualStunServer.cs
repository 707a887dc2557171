// A STUN server on the virtual network (RFC 8489 Binding only, no authentication, as public
// STUN servers run): a Binding request gets a success response carrying XOR-MAPPED-ADDRESS = the
// source address the request arrived from (after any NAT), with FINGERPRINT. Anything else that
// arrives — malformed bytes, other methods, indications — is dropped and counted, never thrown.
// Stateless by design: the simulator can share one instance among any number of clients.
// Written here with our own STUN codec (src/Protocol/Stun): no STUN server package is served.
using System.Net;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Sim.Servers;

public sealed class VirtualStunServer(IPEndPoint address)
{
    public IPEndPoint Address { get; } = address;
    public long Answered { get; private set; }
    public long Dropped { get; private set; }
    /// <summary>Why the last datagram was dropped (for tests and traces).</summary>
    public string? LastDropReason { get; private set; }

    public SimDatagram? Handle(SimDatagram datagram)
    {
        var parsed = StunMessage.Parse(datagram.Bytes);
        if (!parsed.Ok) return Drop("not a STUN message: " + parsed.Error);
        var m = parsed.Value;
        if (m.Class != StunClass.Request || m.Method != StunMethod.Binding) return Drop($"{m.Class} {m.Method} is not a Binding request");
        if (m.Has<Fingerprint>() && StunIntegrity.VerifyFingerprint(datagram.Bytes) != StunCheck.Valid) return Drop("bad FINGERPRINT");
        Answered++;
        var response = new StunMessage(StunClass.SuccessResponse, StunMethod.Binding, m.TransactionId, [new XorMappedAddress(datagram.From)]);
        return new SimDatagram(Address, datagram.From, response.Encode(fingerprint: true));
    }

    private SimDatagram? Drop(string reason)
    {
        Dropped++;
        LastDropReason = reason;
        return null;
    }
}
