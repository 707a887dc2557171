// TURN ChannelData messages (RFC 8656 §12.4): channel number (2, 0x4000..0x4FFF) | length (2)
// | application data, padded to a multiple of 4 over UDP (the padding is not counted in the
// length). Parse never throws, accepts 0 to 3 trailing padding bytes (RFC 8656 lets UDP senders
// omit padding) and returns the payload as a slice of the input without copying.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public readonly struct ChannelDataMessage
{
    public const ushort ChannelMin = 0x4000;
    public const ushort ChannelMax = 0x4FFF;
    public const int HeaderLength = 4;

    public ushort Channel { get; }
    public ReadOnlyMemory<byte> Payload { get; }

    public ChannelDataMessage(ushort channel, ReadOnlyMemory<byte> payload)
    {
        Channel = channel;
        Payload = payload;
    }

    public static bool IsValidChannel(ushort channel) => channel is >= ChannelMin and <= ChannelMax;

    public static ParseResult<ChannelDataMessage> Parse(ReadOnlyMemory<byte> datagram)
    {
        var s = datagram.Span;
        if (s.Length < HeaderLength) return ParseResult<ChannelDataMessage>.Fail($"channeldata: {s.Length} bytes is shorter than the 4-byte header");
        ushort channel = BinaryPrimitives.ReadUInt16BigEndian(s);
        if (!IsValidChannel(channel)) return ParseResult<ChannelDataMessage>.Fail($"channeldata: channel 0x{channel:x4} is outside 0x4000..0x4fff");
        int length = BinaryPrimitives.ReadUInt16BigEndian(s[2..]);
        int left = s.Length - HeaderLength;
        if (length > left) return ParseResult<ChannelDataMessage>.Fail($"channeldata: length {length} overruns the datagram ({left} bytes left)");
        if (left - length > 3) return ParseResult<ChannelDataMessage>.Fail($"channeldata: {left - length} bytes after the data are more than padding");
        return new ChannelDataMessage(channel, datagram.Slice(HeaderLength, length));
    }

    public static int EncodedLength(int payloadLength, bool pad = true) =>
        HeaderLength + (pad ? StunMessage.Padded(payloadLength) : payloadLength);

    /// <summary>Writes the message into d and returns its length; a bad channel or short buffer throws.</summary>
    public static int Write(Span<byte> d, ushort channel, ReadOnlySpan<byte> payload, bool pad = true)
    {
        if (!IsValidChannel(channel)) throw new ArgumentOutOfRangeException(nameof(channel), channel, "channel numbers are 0x4000..0x4FFF");
        if (payload.Length > ushort.MaxValue) throw new ArgumentException("ChannelData payload longer than 65535 bytes");
        int n = EncodedLength(payload.Length, pad);
        BinaryPrimitives.WriteUInt16BigEndian(d, channel);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)payload.Length);
        payload.CopyTo(d[HeaderLength..]);
        d[(HeaderLength + payload.Length)..n].Clear();
        return n;
    }

    public static byte[] Encode(ushort channel, ReadOnlySpan<byte> payload, bool pad = true)
    {
        var bytes = new byte[EncodedLength(payload.Length, pad)];
        Write(bytes, channel, payload, pad);
        return bytes;
    }
}
