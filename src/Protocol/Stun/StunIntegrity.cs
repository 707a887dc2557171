// Keys for and verification of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT on
// received bytes (RFC 8489 §9, §14.5–§14.7). Verification finds the first such attribute, takes
// the bytes before it and rewrites the header length as if the message ended right after it,
// then recomputes: so attributes that follow (which a parser ignores) do not disturb the check.
// FINGERPRINT must be the last attribute. None of these throw on arbitrary input.
//   short-term key = prepared(password)
//   long-term key  = MD5(username ":" prepared(realm) ":" prepared(password))   (or SHA-256)
// "prepared" is StunStringPrep (a documented subset of OpaqueString / SASLprep).
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public enum StunCheck
{
    /// <summary>The attribute is present and its value matches.</summary>
    Valid,
    /// <summary>The bytes hold no such attribute (or are not a well-framed STUN message).</summary>
    Absent,
    /// <summary>The attribute is present but does not match (wrong key, tampering, misplaced).</summary>
    Invalid,
}

public static class StunIntegrity
{
    public static ParseResult<byte[]> ShortTermKey(string password)
    {
        var p = StunStringPrep.Prepare(password, "password");
        return p.Ok ? Encoding.UTF8.GetBytes(p.Value) : ParseResult<byte[]>.Fail(p.Error!);
    }

    public static ParseResult<byte[]> LongTermKey(string username, string realm, string password, StunPasswordAlgorithm algorithm = StunPasswordAlgorithm.Md5)
    {
        var r = StunStringPrep.Prepare(realm, "realm");
        if (!r.Ok) return ParseResult<byte[]>.Fail(r.Error!);
        var p = StunStringPrep.Prepare(password, "password");
        if (!p.Ok) return ParseResult<byte[]>.Fail(p.Error!);
        var input = Encoding.UTF8.GetBytes($"{username}:{r.Value}:{p.Value}");
        return algorithm switch
        {
            StunPasswordAlgorithm.Md5 => MD5.HashData(input),
            StunPasswordAlgorithm.Sha256 => SHA256.HashData(input),
            _ => ParseResult<byte[]>.Fail($"unknown password algorithm {(ushort)algorithm}"),
        };
    }

    public static StunCheck VerifyMessageIntegrity(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key)
    {
        if (!TryFind(message, StunAttributeType.MessageIntegrity, out int at, out int length)) return StunCheck.Absent;
        if (length != 20) return StunCheck.Invalid;
        Span<byte> mac = stackalloc byte[20];
        Span<byte> prefix = at <= StackPrefixMax ? stackalloc byte[at] : new byte[at];
        HMACSHA1.HashData(key, Prefix(message, prefix, 4 + 20), mac);
        return CryptographicOperations.FixedTimeEquals(mac, message.Slice(at + 4, 20)) ? StunCheck.Valid : StunCheck.Invalid;
    }

    public static StunCheck VerifyMessageIntegritySha256(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key)
    {
        if (!TryFind(message, StunAttributeType.MessageIntegritySha256, out int at, out int length)) return StunCheck.Absent;
        if (length is < 16 or > 32 || length % 4 != 0) return StunCheck.Invalid;
        Span<byte> mac = stackalloc byte[32];
        Span<byte> prefix = at <= StackPrefixMax ? stackalloc byte[at] : new byte[at];
        HMACSHA256.HashData(key, Prefix(message, prefix, 4 + length), mac);
        return CryptographicOperations.FixedTimeEquals(mac[..length], message.Slice(at + 4, length)) ? StunCheck.Valid : StunCheck.Invalid;
    }

    public static StunCheck VerifyFingerprint(ReadOnlySpan<byte> message)
    {
        if (!TryFind(message, StunAttributeType.Fingerprint, out int at, out int length)) return StunCheck.Absent;
        if (length != 4 || at + 8 != message.Length) return StunCheck.Invalid;
        uint expected = Crc32.Compute(message[..at]) ^ Fingerprint.XorMask;
        return BinaryPrimitives.ReadUInt32BigEndian(message[(at + 4)..]) == expected ? StunCheck.Valid : StunCheck.Invalid;
    }

    // Prefixes up to this size are copied to the stack (a typical ICE check is about 100 bytes).
    private const int StackPrefixMax = 1024;

    /// <summary>Copies the message bytes before the attribute into prefix (its length is the attribute's
    /// offset) and sets the header length as if the message ended after attributeLength more bytes.</summary>
    private static ReadOnlySpan<byte> Prefix(ReadOnlySpan<byte> message, Span<byte> prefix, int attributeLength)
    {
        message[..prefix.Length].CopyTo(prefix);
        BinaryPrimitives.WriteUInt16BigEndian(prefix[2..], (ushort)(prefix.Length - StunMessage.HeaderLength + attributeLength));
        return prefix;
    }

    /// <summary>Walks a well-framed message for the first attribute of a type; false when absent or not framed.</summary>
    private static bool TryFind(ReadOnlySpan<byte> message, ushort type, out int at, out int length)
    {
        at = 0;
        length = 0;
        if (!StunMessage.LooksLikeStun(message)) return false;
        int end = StunMessage.HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if (end != message.Length) return false;
        int i = StunMessage.HeaderLength;
        while (i + 4 <= end)
        {
            ushort t = BinaryPrimitives.ReadUInt16BigEndian(message[i..]);
            int l = BinaryPrimitives.ReadUInt16BigEndian(message[(i + 2)..]);
            if (i + 4 + l > end) return false;
            if (t == type) { at = i; length = l; return true; }
            i += 4 + StunMessage.Padded(l);
        }
        return false;
    }
}
