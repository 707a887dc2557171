// A STUN message (RFC 8489 §5, §6): the 20-byte header
//   0 0 | type (14 bits) | message length (2) | magic cookie 0x2112A442 (4) | transaction id (12)
// followed by attributes (type (2) | length (2) | value, padded to a multiple of 4).
// Parse contract: never throws; the datagram must be exactly one message (the length field is a
// multiple of 4 and equals the bytes after the header); every attribute must fit; a malformed
// known attribute fails the whole message with a one-line error naming it. Per RFC 8489 §14.5–
// §14.7, attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT,
// after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, and after FINGERPRINT are skipped.
// Unknown attributes are kept as UnknownAttribute; UnknownComprehensionRequired lists the
// comprehension-required ones so that a server can answer 420. Integrity and fingerprint values
// are parsed, not checked: StunIntegrity verifies them against the received bytes.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public sealed record StunMessage(StunClass Class, StunMethod Method, StunTransactionId TransactionId, IReadOnlyList<StunAttribute> Attributes)
{
    public const uint MagicCookie = 0x2112_A442;
    public const int HeaderLength = 20;
    public const int BodyLengthMax = 0xFFFC;

    public static int Padded(int length) => (length + 3) & ~3;

    /// <summary>The first attribute of the given record type, or null.</summary>
    public TAttribute? Get<TAttribute>() where TAttribute : StunAttribute
    {
        foreach (var a in Attributes) if (a is TAttribute t) return t;
        return null;
    }

    public bool Has<TAttribute>() where TAttribute : StunAttribute => Get<TAttribute>() is not null;

    /// <summary>The comprehension-required attribute types this codec does not know, in order.</summary>
    public IReadOnlyList<ushort> UnknownComprehensionRequired =>
        [.. Attributes.OfType<UnknownAttribute>().Where(a => a.IsComprehensionRequired).Select(a => a.RawType)];

    /// <summary>True when the first two bits are 0 and the magic cookie is present: worth parsing as STUN.</summary>
    public static bool LooksLikeStun(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= HeaderLength && (bytes[0] & 0xC0) == 0 && BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]) == MagicCookie;

    public static ParseResult<StunMessage> Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderLength) return Fail($"message of {bytes.Length} bytes is shorter than the {HeaderLength}-byte header");
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        if ((type & 0xC000) != 0) return Fail($"first two bits of the type 0x{type:x4} are not zero");
        int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        uint cookie = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
        if (cookie != MagicCookie) return Fail($"magic cookie 0x{cookie:x8} is not 0x{MagicCookie:x8}");
        if (length % 4 != 0) return Fail($"message length {length} is not a multiple of 4 (attribute padding missing)");
        if (HeaderLength + length != bytes.Length)
            return Fail($"message length {length} does not match the {bytes.Length - HeaderLength} bytes after the header");
        var (method, cls) = StunMessageType.Decode(type);
        var tid = StunTransactionId.Read(bytes[8..]);

        var attributes = new List<StunAttribute>();
        bool afterIntegrity = false, afterIntegritySha256 = false, afterFingerprint = false;
        int at = HeaderLength;
        while (at < bytes.Length)
        {
            int left = bytes.Length - at - 4;   // at least 0: the body length is a multiple of 4
            ushort attrType = BinaryPrimitives.ReadUInt16BigEndian(bytes[at..]);
            int attrLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 2)..]);
            if (attrLength > left)
                return Fail($"attribute 0x{attrType:x4} length {attrLength} overruns the message ({left} bytes left)");
            var value = bytes.Slice(at + 4, attrLength);
            at += 4 + Padded(attrLength);

            bool ignored = afterFingerprint
                || (afterIntegritySha256 && attrType != StunAttributeType.Fingerprint)
                || (afterIntegrity && attrType is not (StunAttributeType.Fingerprint or StunAttributeType.MessageIntegritySha256));
            if (ignored) continue;
            var attribute = StunAttributeDecoder.Decode(attrType, value, tid);
            if (!attribute.Ok) return Fail(attribute.Error!);
            attributes.Add(attribute.Value);
            switch (attrType)
            {
                case StunAttributeType.MessageIntegrity: afterIntegrity = true; break;
                case StunAttributeType.MessageIntegritySha256: afterIntegritySha256 = true; break;
                case StunAttributeType.Fingerprint: afterFingerprint = true; break;
            }
        }
        return new StunMessage(cls, method, tid, attributes);
    }

    /// <summary>
    /// The encoded message: the attributes in order, then MESSAGE-INTEGRITY (when a key is given),
    /// MESSAGE-INTEGRITY-SHA256 (when its key is given) and FINGERPRINT (when asked), each over
    /// the prefix before it. Padding bytes are paddingByte (RFC 8489 lets senders choose any).
    /// </summary>
    public byte[] Encode(byte[]? integrityKey = null, bool fingerprint = false, byte[]? integritySha256Key = null, byte paddingByte = 0)
    {
        var bytes = new byte[EncodedLength(integrityKey is not null, fingerprint, integritySha256Key is not null)];
        var w = new StunWriter(bytes, Method, Class, TransactionId, paddingByte);
        foreach (var a in Attributes) w.Add(a);
        if (integrityKey is not null) w.AddMessageIntegrity(integrityKey);
        if (integritySha256Key is not null) w.AddMessageIntegritySha256(integritySha256Key);
        if (fingerprint) w.AddFingerprint();
        return bytes;
    }

    public int EncodedLength(bool integrity, bool fingerprint, bool integritySha256 = false)
    {
        int n = HeaderLength;
        foreach (var a in Attributes) n += 4 + Padded(a.ValueLength);
        if (integrity) n += StunWriter.IntegrityLength;
        if (integritySha256) n += StunWriter.IntegritySha256Length;
        if (fingerprint) n += StunWriter.FingerprintLength;
        return n;
    }

    public bool Equals(StunMessage? other) =>
        other is not null && Class == other.Class && Method == other.Method && TransactionId == other.TransactionId
        && Attributes.SequenceEqual(other.Attributes);

    public override int GetHashCode() => HashCode.Combine(Class, Method, TransactionId, Attributes.Count);

    public override string ToString() =>
        $"{Method} {Class} {TransactionId} [{string.Join(", ", Attributes)}]";

    private static ParseResult<StunMessage> Fail(string error) => ParseResult<StunMessage>.Fail("stun: " + error);
}
