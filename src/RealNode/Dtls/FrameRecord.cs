// Our own record format for frames after the DTLS handshake (measured faster than
// BouncyCastle's record layer: see experiments/results/dtls-records.md). Hand-written: no
// package offers an AEAD record layer keyed from a DTLS exporter.
//   type (1) = 0x3F | sequence (8, big-endian) | AES-128-GCM ciphertext of the frame | tag (16)
// The type byte lies in RFC 7983's DTLS range (20..63), so ICE demultiplexes frame records to
// the link like any DTLS record, and outside the content types BouncyCastle accepts (20..25), so
// its record layer ignores a stray one. Nonce = salt (4) | sequence (8), unique per key because
// the sequence counts up from 0 and 64 bits never wrap. The 9 header bytes are the associated
// data, so a flipped bit anywhere fails authentication. One record per datagram.
// FrameSealer is thread-safe (several senders); FrameOpener is not (one receiving thread).
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EdgeVpn.RealNode.Dtls;

public static class FrameRecord
{
    public const byte ContentType = 0x3F;
    public const int HeaderBytes = 1 + 8;
    public const int TagBytes = 16;
    public const int OverheadBytes = HeaderBytes + TagBytes;
    /// <summary>An Ethernet frame with a VLAN tag and a 9000-byte jumbo payload fits.</summary>
    public const int FrameBytesMax = 9022;

    internal static void Nonce(ReadOnlySpan<byte> salt, ulong sequence, Span<byte> nonce)
    {
        salt.CopyTo(nonce);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
    }
}

public sealed class FrameSealer : IDisposable
{
    private readonly AesGcm _aes;
    private readonly byte[] _salt;
    private readonly Lock _gate = new();
    private ulong _next;

    public FrameSealer(byte[] key, byte[] salt)
    {
        _aes = new AesGcm(key, FrameRecord.TagBytes);
        _salt = salt;
    }

    public ulong RecordsSealed { get { lock (_gate) return _next; } }

    /// <summary>Writes the record for frame into record (at least frame + OverheadBytes long); returns its length.</summary>
    public int Seal(ReadOnlySpan<byte> frame, Span<byte> record)
    {
        int length = frame.Length + FrameRecord.OverheadBytes;
        if (record.Length < length) throw new ArgumentException($"record buffer of {record.Length} bytes is too small for {length}", nameof(record));
        Span<byte> nonce = stackalloc byte[12];
        lock (_gate)
        {
            ulong sequence = _next++;
            record[0] = FrameRecord.ContentType;
            BinaryPrimitives.WriteUInt64BigEndian(record[1..], sequence);
            FrameRecord.Nonce(_salt, sequence, nonce);
            _aes.Encrypt(nonce, frame, record.Slice(FrameRecord.HeaderBytes, frame.Length),
                record.Slice(FrameRecord.HeaderBytes + frame.Length, FrameRecord.TagBytes), record[..FrameRecord.HeaderBytes]);
        }
        return length;
    }

    public void Dispose() => _aes.Dispose();
}

public sealed class FrameOpener : IDisposable
{
    private readonly AesGcm _aes;
    private readonly byte[] _salt;
    private readonly ReplayWindow _window = new();

    public FrameOpener(byte[] key, byte[] salt)
    {
        _aes = new AesGcm(key, FrameRecord.TagBytes);
        _salt = salt;
    }

    /// <summary>
    /// Authenticates and decrypts one record into frame (at least FrameBytesMax long, or the
    /// record's length). On success returns the frame length and drop is null; otherwise returns
    /// -1 and says why. Never throws on any input.
    /// </summary>
    public int Open(ReadOnlySpan<byte> record, Span<byte> frame, out FrameDrop? drop)
    {
        drop = Check(record, frame.Length, out ulong sequence);
        if (drop is not null) return -1;
        int length = record.Length - FrameRecord.OverheadBytes;
        Span<byte> nonce = stackalloc byte[12];
        FrameRecord.Nonce(_salt, sequence, nonce);
        try
        {
            _aes.Decrypt(nonce, record.Slice(FrameRecord.HeaderBytes, length),
                record.Slice(FrameRecord.HeaderBytes + length, FrameRecord.TagBytes), frame[..length], record[..FrameRecord.HeaderBytes]);
        }
        catch (AuthenticationTagMismatchException)
        {
            frame[..length].Clear();
            drop = FrameDrop.Forged;
            return -1;
        }
        _window.Mark(sequence);
        return length;
    }

    private FrameDrop? Check(ReadOnlySpan<byte> record, int frameSpace, out ulong sequence)
    {
        sequence = 0;
        if (record.Length < FrameRecord.OverheadBytes) return FrameDrop.Truncated;
        if (record[0] != FrameRecord.ContentType) return FrameDrop.NotFrameRecord;
        int length = record.Length - FrameRecord.OverheadBytes;
        if (length > FrameRecord.FrameBytesMax || length > frameSpace) return FrameDrop.Oversized;
        sequence = BinaryPrimitives.ReadUInt64BigEndian(record[1..]);
        return _window.Check(sequence);
    }

    public void Dispose() => _aes.Dispose();
}
