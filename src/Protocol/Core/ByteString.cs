// An immutable byte string with value equality and a hex ToString: the payload type of wire
// records (STUN attribute values, tokens, hashes) so that records compare by content, which
// round-trip tests and de-duplication rely on. Wraps the array it is given without copying:
// callers hand over ownership.
namespace EdgeVpn.Protocol.Core;

public readonly struct ByteString : IEquatable<ByteString>
{
    private readonly byte[]? _bytes;

    public ByteString(byte[] bytes) => _bytes = bytes;

    public static ByteString Empty => new([]);
    public static ByteString CopyOf(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    public int Length => _bytes?.Length ?? 0;
    public ReadOnlySpan<byte> Span => _bytes;
    public ReadOnlyMemory<byte> Memory => _bytes;
    public byte[] ToArray() => Span.ToArray();

    public bool Equals(ByteString other) => Span.SequenceEqual(other.Span);
    public override bool Equals(object? obj) => obj is ByteString b && Equals(b);
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(Span);
        return h.ToHashCode();
    }
    public static bool operator ==(ByteString a, ByteString b) => a.Equals(b);
    public static bool operator !=(ByteString a, ByteString b) => !a.Equals(b);

    public override string ToString() => Length <= 64
        ? Convert.ToHexStringLower(Span)
        : Convert.ToHexStringLower(Span[..64]) + $"...({Length} bytes)";
}
