// Random STUN messages for property tests: every attribute record this codec knows, with values
// drawn over their whole valid range (IPv4 and IPv6 addresses, all ports, empty and long text,
// multi-byte UTF-8, every channel), built from one seed so that a failing case is reproducible.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Tests.Stun;

internal static class StunGen
{
    public static StunMessage Message(DeterministicRandom rng)
    {
        int n = rng.NextInt(9);
        var attributes = new List<StunAttribute>(n);
        for (int i = 0; i < n; i++) attributes.Add(Attribute(rng));
        var method = (StunMethod)rng.NextInt(StunMessageType.MethodMax + 1);
        return new StunMessage((StunClass)rng.NextInt(4), method, StunTransactionId.Random(rng), attributes);
    }

    public static IPEndPoint EndPoint(DeterministicRandom rng)
    {
        var bytes = new byte[rng.NextInt(2) == 0 ? 4 : 16];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)rng.NextInt(256);
        return new IPEndPoint(new IPAddress(bytes), rng.NextInt(65536));
    }

    public static ByteString Bytes(DeterministicRandom rng, int lengthMax)
    {
        var b = new byte[rng.NextInt(lengthMax + 1)];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)rng.NextInt(256);
        return new ByteString(b);
    }

    public static string Text(DeterministicRandom rng, int charsMax)
    {
        const string alphabet = "abcXYZ019 :/+=-_.ü€中";
        var c = new char[rng.NextInt(charsMax + 1)];
        for (int i = 0; i < c.Length; i++) c[i] = alphabet[rng.NextInt(alphabet.Length)];
        return new string(c);
    }

    public static StunAttribute Attribute(DeterministicRandom rng)
    {
        switch (rng.NextInt(32))
        {
            case 0: return new MappedAddress(EndPoint(rng));
            case 1: return new XorMappedAddress(EndPoint(rng));
            case 2: return new AlternateServer(EndPoint(rng));
            case 3: return new XorPeerAddress(EndPoint(rng));
            case 4: return new XorRelayedAddress(EndPoint(rng));
            case 5: return new Username(Text(rng, 100));
            case 6: return new Realm(Text(rng, 100));
            case 7: return new Nonce(Text(rng, 100));
            case 8: return new Software(Text(rng, 100));
            case 9: return new ErrorCode(300 + rng.NextInt(400), Text(rng, 40));
            case 10: return new UnknownAttributes([.. Enumerable.Range(0, rng.NextInt(5)).Select(_ => (ushort)rng.NextInt(65536))]);
            case 11: return new UserHash(new ByteString(Bytes(rng, 32).ToArray().Concat(new byte[32]).Take(32).ToArray()));
            case 12: return new PasswordAlgorithm(new StunPasswordAlgorithmEntry((StunPasswordAlgorithm)rng.NextInt(4), Bytes(rng, 9)));
            case 13: return new PasswordAlgorithms([.. Enumerable.Range(0, 1 + rng.NextInt(3)).Select(_ => new StunPasswordAlgorithmEntry((StunPasswordAlgorithm)rng.NextInt(4), Bytes(rng, 9)))]);
            case 14: return new Priority((uint)rng.NextUInt64());
            case 15: return UseCandidate.Instance;
            case 16: return new IceControlled(rng.NextUInt64());
            case 17: return new IceControlling(rng.NextUInt64());
            case 18: return new ChannelNumber((ushort)rng.NextInt(65536));
            case 19: return new Lifetime((uint)rng.NextUInt64());
            case 20: return new Data(Bytes(rng, 300));
            case 21: return new RequestedAddressFamily(rng.NextInt(2) == 0 ? StunAddressFamily.Ipv4 : StunAddressFamily.Ipv6);
            case 22: return new AdditionalAddressFamily(StunAddressFamily.Ipv6);
            case 23: return new EvenPort(rng.NextInt(2) == 0);
            case 24: return new RequestedTransport((byte)rng.NextInt(256));
            case 25: return DontFragment.Instance;
            case 26: return new ReservationToken(rng.NextUInt64());
            case 27: return new Icmp((byte)rng.NextInt(256), (byte)rng.NextInt(256), (uint)rng.NextUInt64());
            case 28:
            {
                ushort t;
                do t = (ushort)rng.NextInt(65536); while (StunAttributeType.Name(t).StartsWith("0x", StringComparison.Ordinal) is false || t is StunAttributeType.AlternateDomain);
                return new UnknownAttribute(t, Bytes(rng, 12));
            }
            case 29: return new UnknownAttribute(StunAttributeType.AlternateDomain, Bytes(rng, 12));
            case 30: return new Nomination((uint)rng.NextUInt64() & Nomination.ValueMax);
            default: return new ErrorCode(StunErrorCodes.RoleConflict, "Role Conflict");
        }
    }
}
