// Writes a STUN message into a caller's buffer without allocating: header, attributes in the
// order added, then MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 / FINGERPRINT computed over the
// bytes written so far with the header length already counting the attribute being added (RFC
// 8489 §14.5–§14.7). The header length field is kept current after every call, so Written is a
// complete message at any point. A buffer too small or a value too long is a caller bug: throws.
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EdgeVpn.Protocol.Stun;

public ref struct StunWriter
{
    public const int IntegrityLength = 4 + 20;
    public const int IntegritySha256Length = 4 + 32;
    public const int FingerprintLength = 4 + 4;

    private readonly Span<byte> _buffer;
    private readonly StunTransactionId _tid;
    private readonly byte _paddingByte;
    private int _length;

    public StunWriter(Span<byte> buffer, StunMethod method, StunClass cls, StunTransactionId tid, byte paddingByte = 0)
    {
        if (buffer.Length < StunMessage.HeaderLength) throw new ArgumentException("buffer shorter than a STUN header", nameof(buffer));
        _buffer = buffer;
        _tid = tid;
        _paddingByte = paddingByte;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, StunMessageType.Encode(method, cls));
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], StunMessage.MagicCookie);
        tid.Write(buffer[8..]);
        _length = StunMessage.HeaderLength;
        SetBodyLength(0);
    }

    public readonly int Length => _length;
    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    public void Add(StunAttribute attribute)
    {
        int valueLength = attribute.ValueLength;
        var value = Reserve(attribute.Type, valueLength);
        attribute.WriteValue(value, _tid);
        SetBodyLength(_length - StunMessage.HeaderLength);
    }

    public void AddMessageIntegrity(ReadOnlySpan<byte> key)
    {
        var value = Reserve(StunAttributeType.MessageIntegrity, 20);
        SetBodyLength(_length - StunMessage.HeaderLength);
        HMACSHA1.HashData(key, _buffer[.._length][..^IntegrityLength], value);
    }

    public void AddMessageIntegritySha256(ReadOnlySpan<byte> key)
    {
        var value = Reserve(StunAttributeType.MessageIntegritySha256, 32);
        SetBodyLength(_length - StunMessage.HeaderLength);
        HMACSHA256.HashData(key, _buffer[.._length][..^IntegritySha256Length], value);
    }

    public void AddFingerprint()
    {
        var value = Reserve(StunAttributeType.Fingerprint, 4);
        SetBodyLength(_length - StunMessage.HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.Compute(_buffer[.._length][..^FingerprintLength]) ^ Fingerprint.XorMask);
    }

    /// <summary>Writes the attribute header and padding, advances, and returns the value's slot.</summary>
    private Span<byte> Reserve(ushort type, int valueLength)
    {
        if (valueLength > ushort.MaxValue) throw new ArgumentException($"{StunAttributeType.Name(type)} value of {valueLength} bytes exceeds 65535");
        int total = 4 + StunMessage.Padded(valueLength);
        if (_length + total > _buffer.Length) throw new ArgumentException($"buffer of {_buffer.Length} bytes too small for {StunAttributeType.Name(type)}");
        if (_length + total - StunMessage.HeaderLength > StunMessage.BodyLengthMax) throw new ArgumentException("STUN message longer than 65535 bytes");
        var at = _buffer.Slice(_length, total);
        BinaryPrimitives.WriteUInt16BigEndian(at, type);
        BinaryPrimitives.WriteUInt16BigEndian(at[2..], (ushort)valueLength);
        at[(4 + valueLength)..].Fill(_paddingByte);
        _length += total;
        return at.Slice(4, valueLength);
    }

    private readonly void SetBodyLength(int length) => BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)length);
}
