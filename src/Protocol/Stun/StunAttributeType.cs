// STUN attribute type numbers: RFC 8489 §18.3, RFC 8656 §18 (TURN) and RFC 8445 §16.1 (ICE).
// Types below 0x8000 are comprehension-required: a receiver that does not know one must reject
// the message (a server answers 420 Unknown Attribute listing it); types from 0x8000 up are
// comprehension-optional and may be skipped.
namespace EdgeVpn.Protocol.Stun;

public static class StunAttributeType
{
    // RFC 8489
    public const ushort MappedAddress = 0x0001;
    public const ushort Username = 0x0006;
    public const ushort MessageIntegrity = 0x0008;
    public const ushort ErrorCode = 0x0009;
    public const ushort UnknownAttributes = 0x000A;
    public const ushort Realm = 0x0014;
    public const ushort Nonce = 0x0015;
    public const ushort MessageIntegritySha256 = 0x001C;
    public const ushort PasswordAlgorithm = 0x001D;
    public const ushort UserHash = 0x001E;
    public const ushort XorMappedAddress = 0x0020;
    public const ushort PasswordAlgorithms = 0x8002;
    public const ushort AlternateDomain = 0x8003;
    public const ushort Software = 0x8022;
    public const ushort AlternateServer = 0x8023;
    public const ushort Fingerprint = 0x8028;

    // RFC 8656 (TURN)
    public const ushort ChannelNumber = 0x000C;
    public const ushort Lifetime = 0x000D;
    public const ushort XorPeerAddress = 0x0012;
    public const ushort Data = 0x0013;
    public const ushort XorRelayedAddress = 0x0016;
    public const ushort RequestedAddressFamily = 0x0017;
    public const ushort EvenPort = 0x0018;
    public const ushort RequestedTransport = 0x0019;
    public const ushort DontFragment = 0x001A;
    public const ushort ReservationToken = 0x0022;
    public const ushort AdditionalAddressFamily = 0x8000;
    public const ushort AddressErrorCode = 0x8001;
    public const ushort Icmp = 0x8004;

    // RFC 8445 (ICE)
    public const ushort Priority = 0x0024;
    public const ushort UseCandidate = 0x0025;
    public const ushort IceControlled = 0x8029;
    public const ushort IceControlling = 0x802A;
    // draft-thatcher-ice-renomination-01 (comprehension-optional: agents that do not know it ignore it)
    public const ushort Nomination = 0xC001;

    public static bool IsComprehensionRequired(ushort type) => type < 0x8000;

    public static string Name(ushort type) => type switch
    {
        MappedAddress => "MAPPED-ADDRESS",
        Username => "USERNAME",
        MessageIntegrity => "MESSAGE-INTEGRITY",
        ErrorCode => "ERROR-CODE",
        UnknownAttributes => "UNKNOWN-ATTRIBUTES",
        Realm => "REALM",
        Nonce => "NONCE",
        MessageIntegritySha256 => "MESSAGE-INTEGRITY-SHA256",
        PasswordAlgorithm => "PASSWORD-ALGORITHM",
        UserHash => "USERHASH",
        XorMappedAddress => "XOR-MAPPED-ADDRESS",
        PasswordAlgorithms => "PASSWORD-ALGORITHMS",
        AlternateDomain => "ALTERNATE-DOMAIN",
        Software => "SOFTWARE",
        AlternateServer => "ALTERNATE-SERVER",
        Fingerprint => "FINGERPRINT",
        ChannelNumber => "CHANNEL-NUMBER",
        Lifetime => "LIFETIME",
        XorPeerAddress => "XOR-PEER-ADDRESS",
        Data => "DATA",
        XorRelayedAddress => "XOR-RELAYED-ADDRESS",
        RequestedAddressFamily => "REQUESTED-ADDRESS-FAMILY",
        EvenPort => "EVEN-PORT",
        RequestedTransport => "REQUESTED-TRANSPORT",
        DontFragment => "DONT-FRAGMENT",
        ReservationToken => "RESERVATION-TOKEN",
        AdditionalAddressFamily => "ADDITIONAL-ADDRESS-FAMILY",
        AddressErrorCode => "ADDRESS-ERROR-CODE",
        Icmp => "ICMP",
        Priority => "PRIORITY",
        UseCandidate => "USE-CANDIDATE",
        IceControlled => "ICE-CONTROLLED",
        IceControlling => "ICE-CONTROLLING",
        Nomination => "NOMINATION",
        _ => $"0x{type:x4}",
    };
}
