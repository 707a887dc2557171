// The UTF-8 text attributes (RFC 8489 §14.3, §14.9, §14.10, §14.14): USERNAME (fewer than 509
// bytes), REALM, NONCE and SOFTWARE (at most 763 bytes each). Parsing rejects invalid UTF-8 and
// over-long values; encoding an over-long value is a caller bug and throws.
using System.Text;
using System.Text.Unicode;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Stun;

public abstract record StunTextAttribute(string Value) : StunAttribute
{
    public const int UsernameBytesMax = 508;
    public const int TextBytesMax = 763;

    public virtual int BytesMax => TextBytesMax;

    public override int ValueLength => Encoding.UTF8.GetByteCount(Value);

    public override void WriteValue(Span<byte> d, StunTransactionId tid)
    {
        if (ValueLength > BytesMax) throw new ArgumentException($"{AttributeParse.Label(Type)} of {ValueLength} bytes exceeds {BytesMax}");
        Encoding.UTF8.GetBytes(Value, d);
    }

    internal static ParseResult<string> Read(ushort type, ReadOnlySpan<byte> v, int bytesMax)
    {
        if (v.Length > bytesMax) return ParseResult<string>.Fail($"{AttributeParse.Label(type)}: {v.Length} bytes exceed {bytesMax}");
        if (!Utf8.IsValid(v)) return ParseResult<string>.Fail($"{AttributeParse.Label(type)}: not valid UTF-8");
        return Encoding.UTF8.GetString(v);
    }
}

public sealed record Username(string Value) : StunTextAttribute(Value)
{
    public override ushort Type => StunAttributeType.Username;
    public override int BytesMax => UsernameBytesMax;
}

public sealed record Realm(string Value) : StunTextAttribute(Value)
{
    public override ushort Type => StunAttributeType.Realm;
}

public sealed record Nonce(string Value) : StunTextAttribute(Value)
{
    public override ushort Type => StunAttributeType.Nonce;
}

public sealed record Software(string Value) : StunTextAttribute(Value)
{
    public override ushort Type => StunAttributeType.Software;
}
