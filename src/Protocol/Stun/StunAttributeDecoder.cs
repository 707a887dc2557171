// Decodes one attribute value by type into its record; types this codec does not know become
// UnknownAttribute (the message parser reports the comprehension-required ones). Every failure
// is a one-line error naming the attribute; nothing here throws on any input.
using System.Buffers.Binary;
using System.Net;
using EdgeVpn.Protocol.Core;
using T = EdgeVpn.Protocol.Stun.StunAttributeType;

namespace EdgeVpn.Protocol.Stun;

internal static class StunAttributeDecoder
{
    public static ParseResult<StunAttribute> Decode(ushort type, ReadOnlySpan<byte> v, StunTransactionId tid) => type switch
    {
        T.MappedAddress => Address(type, v, false, tid, ep => new MappedAddress(ep)),
        T.XorMappedAddress => Address(type, v, true, tid, ep => new XorMappedAddress(ep)),
        T.AlternateServer => Address(type, v, false, tid, ep => new AlternateServer(ep)),
        T.XorPeerAddress => Address(type, v, true, tid, ep => new XorPeerAddress(ep)),
        T.XorRelayedAddress => Address(type, v, true, tid, ep => new XorRelayedAddress(ep)),
        T.Username => Text(type, v, StunTextAttribute.UsernameBytesMax, s => new Username(s)),
        T.Realm => Text(type, v, StunTextAttribute.TextBytesMax, s => new Realm(s)),
        T.Nonce => Text(type, v, StunTextAttribute.TextBytesMax, s => new Nonce(s)),
        T.Software => Text(type, v, StunTextAttribute.TextBytesMax, s => new Software(s)),
        T.MessageIntegrity => Fixed(type, v, MessageIntegrity.Length) ?? new MessageIntegrity(ByteString.CopyOf(v)),
        T.MessageIntegritySha256 => v.Length is >= MessageIntegritySha256.LengthMin and <= MessageIntegritySha256.LengthMax && v.Length % 4 == 0
            ? new MessageIntegritySha256(ByteString.CopyOf(v))
            : AttributeParse.Fail(type, $"value of {v.Length} bytes, expected 16 to 32 in steps of 4"),
        T.Fingerprint => Fixed(type, v, 4) ?? new Fingerprint(BinaryPrimitives.ReadUInt32BigEndian(v)),
        T.UserHash => Fixed(type, v, UserHash.Length) ?? new UserHash(ByteString.CopyOf(v)),
        T.PasswordAlgorithm => PasswordAlgorithmValue(v),
        T.PasswordAlgorithms => PasswordAlgorithmsValue(v),
        T.ErrorCode => ErrorCode.Parse(v),
        T.UnknownAttributes => UnknownAttributes.Parse(v),
        T.Priority => Fixed(type, v, 4) ?? new Priority(BinaryPrimitives.ReadUInt32BigEndian(v)),
        T.UseCandidate => Fixed(type, v, 0) ?? UseCandidate.Instance,
        T.IceControlled => Fixed(type, v, 8) ?? new IceControlled(BinaryPrimitives.ReadUInt64BigEndian(v)),
        T.IceControlling => Fixed(type, v, 8) ?? new IceControlling(BinaryPrimitives.ReadUInt64BigEndian(v)),
        // Comprehension-optional, and 0xC001 has other registered uses: a value of another length is
        // someone else's attribute, kept as unknown rather than failing the message.
        T.Nomination => v.Length == 4 ? new Nomination(BinaryPrimitives.ReadUInt32BigEndian(v) & Nomination.ValueMax) : new UnknownAttribute(type, ByteString.CopyOf(v)),
        T.ChannelNumber => Fixed(type, v, 4) ?? new ChannelNumber(BinaryPrimitives.ReadUInt16BigEndian(v)),
        T.Lifetime => Fixed(type, v, 4) ?? new Lifetime(BinaryPrimitives.ReadUInt32BigEndian(v)),
        T.Data => new Data(ByteString.CopyOf(v)),
        T.RequestedAddressFamily => Family(type, v, false, f => new RequestedAddressFamily(f)),
        T.AdditionalAddressFamily => Family(type, v, true, f => new AdditionalAddressFamily(f)),
        T.EvenPort => Fixed(type, v, 1) ?? new EvenPort((v[0] & 0x80) != 0),
        T.RequestedTransport => Fixed(type, v, 4) ?? new RequestedTransport(v[0]),
        T.DontFragment => Fixed(type, v, 0) ?? DontFragment.Instance,
        T.ReservationToken => Fixed(type, v, 8) ?? new ReservationToken(BinaryPrimitives.ReadUInt64BigEndian(v)),
        T.Icmp => Fixed(type, v, 8) ?? new Icmp(v[2], v[3], BinaryPrimitives.ReadUInt32BigEndian(v[4..])),
        _ => new UnknownAttribute(type, ByteString.CopyOf(v)),
    };

    /// <summary>The failure for a fixed-length value of the wrong length, or null when it fits.</summary>
    private static ParseResult<StunAttribute>? Fixed(ushort type, ReadOnlySpan<byte> v, int length) =>
        AttributeParse.ExpectLength(type, v, length) is { } e ? ParseResult<StunAttribute>.Fail(e) : (ParseResult<StunAttribute>?)null;

    private static ParseResult<StunAttribute> Address(ushort type, ReadOnlySpan<byte> v, bool xored, StunTransactionId tid, Func<IPEndPoint, StunAttribute> make)
    {
        var r = StunAddressAttribute.Read(type, v, xored, tid);
        return r.Ok ? make(r.Value) : ParseResult<StunAttribute>.Fail(r.Error!);
    }

    private static ParseResult<StunAttribute> Text(ushort type, ReadOnlySpan<byte> v, int bytesMax, Func<string, StunAttribute> make)
    {
        var r = StunTextAttribute.Read(type, v, bytesMax);
        return r.Ok ? make(r.Value) : ParseResult<StunAttribute>.Fail(r.Error!);
    }

    private static ParseResult<StunAttribute> Family(ushort type, ReadOnlySpan<byte> v, bool ipv6Only, Func<StunAddressFamily, StunAttribute> make)
    {
        var r = TurnFamily.Read(type, v, ipv6Only);
        return r.Ok ? make(r.Value) : ParseResult<StunAttribute>.Fail(r.Error!);
    }

    private static ParseResult<StunAttribute> PasswordAlgorithmValue(ReadOnlySpan<byte> v)
    {
        var e = StunPasswordAlgorithmEntry.Read(T.PasswordAlgorithm, v, out int consumed);
        if (!e.Ok) return ParseResult<StunAttribute>.Fail(e.Error!);
        if (4 + e.Value.Parameters.Length != v.Length)
            return AttributeParse.Fail(T.PasswordAlgorithm, $"{v.Length - consumed} bytes after the parameters");
        return new PasswordAlgorithm(e.Value);
    }

    private static ParseResult<StunAttribute> PasswordAlgorithmsValue(ReadOnlySpan<byte> v)
    {
        var entries = new List<StunPasswordAlgorithmEntry>();
        while (!v.IsEmpty)
        {
            var e = StunPasswordAlgorithmEntry.Read(T.PasswordAlgorithms, v, out int consumed);
            if (!e.Ok) return ParseResult<StunAttribute>.Fail(e.Error!);
            entries.Add(e.Value);
            v = v[consumed..];
        }
        return new PasswordAlgorithms(entries);
    }
}
