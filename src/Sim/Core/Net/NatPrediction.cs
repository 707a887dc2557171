// What ICE (host, server-reflexive and, when a TURN server exists, relayed candidates; the STUN
// server on the public network) achieves between two hosts behind NATs with given RFC 4787
// behaviours: Direct, Relayed or Fails. Derived from the behaviours, not tabulated, so it also
// answers for combinations no preset names (e.g. address-dependent mapping).
//
// Setting. Each side X sits behind its own box (or is public: no translation, no filtering) with
// one public address, distinct from the peer's and the STUN server's. X learned its
// server-reflexive candidate srflx_X from the STUN server: the external endpoint of the mapping
// it used toward that server. Host candidates are private addresses in different sites, so they
// never route (when both sides are public, host = srflx and adds nothing). Each side sends
// connectivity checks to the peer's srflx, repeatedly (so any packet that depends on the
// receiver having sent first is eventually sent after that), and answers each check it receives
// with a response to the source the check came from (RFC 8445 7.3; a triggered check goes to
// the same place). All of it happens within the mapping lifetime.
//
// Reasoning. Write P_X for the external endpoint X's checks to the peer leave from.
// 1. P_X = srflx_X iff X's mapping is endpoint-independent (or X is public): an address- or
//    address-and-port-dependent box opens a new mapping toward the peer, and since ports are
//    never overloaded that mapping has a different port.                         (UsesSrflx)
// 2. A's check (P_A -> srflx_B) arrives iff the mapping behind srflx_B, B's STUN mapping,
//    admits P_A. That mapping has sent to the STUN server, and to the peer only when B's own
//    checks travel through it, i.e. when UsesSrflx(B); B's checks go to srflx_A. So:
//    EIF admits; ADF admits iff UsesSrflx(B) (same address as P_A); APDF admits iff UsesSrflx(B)
//    and srflx_A = P_A, i.e. also UsesSrflx(A).                                 (CheckArrives)
// 3. B answers an arrived check from the mapping toward P_A, whose external endpoint is srflx_B
//    iff UsesSrflx(B) and otherwise another port on B's address. It arrives at A through the
//    mapping that sent the check, which has sent exactly to srflx_B: EIF and ADF admit (same
//    address), APDF admits iff the response comes from srflx_B, i.e. UsesSrflx(B). (ResponseArrives)
// 4. A hears B iff B's check arrives or A's check arrives and its response comes back; a direct
//    path exists iff each side hears the other (a check answered on one pair suffices: the
//    response travels the reverse path, which then carries data both ways).
// 5. Otherwise a TURN server gives a relayed path whatever the NATs: each side only ever talks
//    to the server's endpoints it sent to first, which every filtering behaviour admits, and
//    the server forwards between them. Without one, ICE fails.
// Consequences for the presets: any pair of cones (or a public host) is direct, a symmetric box
// is direct with a full cone or restricted cone (via a peer-reflexive candidate: the cone
// admits the new mapping's address, and the answer comes from the cone's srflx), and symmetric
// facing port-restricted or symmetric needs the relay.
// Not covered: two hosts behind the same box (hairpinning and host candidates decide there),
// nested NATs, and mappings that expire during the checks.
namespace EdgeVpn.Sim.Net;

public enum IcePath
{
    Direct,
    Relayed,
    Fails,
}

public static class NatPrediction
{
    public static IcePath Predict(NatBehaviour a, NatBehaviour b, bool turnServer) =>
        DirectPathExists(a, b) ? IcePath.Direct : turnServer ? IcePath.Relayed : IcePath.Fails;

    public static IcePath Predict(string presetA, string presetB, bool turnServer) =>
        Predict(NatPresets.ByName(presetA), NatPresets.ByName(presetB), turnServer);

    public static bool DirectPathExists(NatBehaviour a, NatBehaviour b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Hears(a, b) && Hears(b, a);
    }

    /// <summary>Some packet of `from` reaches `to`: its check does, or `to`'s check does and is answered.</summary>
    private static bool Hears(NatBehaviour to, NatBehaviour from) =>
        CheckArrives(from, to) || (CheckArrives(to, from) && ResponseArrives(to, from));

    /// <summary>Point 1: the checks toward the peer leave from the STUN-reported endpoint.</summary>
    private static bool UsesSrflx(NatBehaviour x) => x.Public || x.Mapping == NatDependence.EndpointIndependent;

    /// <summary>Point 2: a check from sender to the receiver's srflx gets through the receiver's filtering.</summary>
    private static bool CheckArrives(NatBehaviour sender, NatBehaviour receiver) =>
        receiver.Public || receiver.Filtering switch
        {
            NatDependence.EndpointIndependent => true,
            NatDependence.AddressDependent => UsesSrflx(receiver),
            _ => UsesSrflx(receiver) && UsesSrflx(sender),
        };

    /// <summary>Point 3: the responder's answer gets back through the checker's filtering.</summary>
    private static bool ResponseArrives(NatBehaviour checker, NatBehaviour responder) =>
        checker.Public || checker.Filtering != NatDependence.AddressAndPortDependent || UsesSrflx(responder);
}
