// Frame records (AES-128-GCM keyed from the DTLS exporter) and their replay window: a record
// opens once and only once, in any order within the window; a flipped bit anywhere, a record
// under the wrong key, and arbitrary bytes are dropped with a reason, never an exception.
using EdgeVpn.RealNode.Dtls;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Dtls;

public sealed class FrameRecordTests
{
    private static readonly FrameKeys ClientKeys = FrameKeys.FromExporter(Enumerable.Range(0, FrameKeys.ExportBytes).Select(i => (byte)i).ToArray(), isClient: true);
    private static readonly FrameKeys ServerKeys = FrameKeys.FromExporter(Enumerable.Range(0, FrameKeys.ExportBytes).Select(i => (byte)i).ToArray(), isClient: false);

    private static FrameSealer Sealer() => new(ClientKeys.SealKey, ClientKeys.SealSalt);
    private static FrameOpener Opener() => new(ServerKeys.OpenKey, ServerKeys.OpenSalt);

    private static byte[] Seal(FrameSealer sealer, byte[] frame)
    {
        var record = new byte[frame.Length + FrameRecord.OverheadBytes];
        Assert.Equal(record.Length, sealer.Seal(frame, record));
        return record;
    }

    private static (int Length, FrameDrop? Drop, byte[] Frame) Open(FrameOpener opener, byte[] record)
    {
        var frame = new byte[FrameRecord.FrameBytesMax];
        int length = opener.Open(record, frame, out var drop);
        return (length, drop, frame[..Math.Max(0, length)]);
    }

    [Fact]
    public void Keys_pair_up_the_client_seal_key_with_the_server_open_key_and_back()
    {
        Assert.Equal(ClientKeys.SealKey, ServerKeys.OpenKey);
        Assert.Equal(ServerKeys.SealKey, ClientKeys.OpenKey);
        Assert.NotEqual(ClientKeys.SealKey, ClientKeys.OpenKey);
    }

    [Fact]
    public void A_sealed_frame_opens_to_the_same_bytes_once_and_its_replay_is_dropped()
    {
        using var sealer = Sealer();
        using var opener = Opener();
        byte[] frame = Enumerable.Range(0, 1400).Select(i => (byte)(i * 13)).ToArray();
        byte[] record = Seal(sealer, frame);
        var first = Open(opener, record);
        Assert.Null(first.Drop);
        Assert.Equal(frame, first.Frame);
        var again = Open(opener, record);
        Assert.Equal(-1, again.Length);
        Assert.Equal(FrameDrop.Replayed, again.Drop);
    }

    [Fact]
    public void Records_open_in_any_order_within_the_window_and_too_old_ones_are_dropped()
    {
        using var sealer = Sealer();
        using var opener = Opener();
        var records = Enumerable.Range(0, ReplayWindow.WidthRecords + 10).Select(i => Seal(sealer, [(byte)i])).ToList();
        Assert.Null(Open(opener, records[5]).Drop);
        Assert.Null(Open(opener, records[1]).Drop);
        Assert.Null(Open(opener, records[3]).Drop);
        Assert.Null(Open(opener, records[^1]).Drop);   // jumps the window forward
        Assert.Equal(FrameDrop.TooOld, Open(opener, records[2]).Drop);
        Assert.Null(Open(opener, records[^2]).Drop);
        Assert.Equal(FrameDrop.Replayed, Open(opener, records[^2]).Drop);
    }

    [Fact]
    public void A_record_under_another_sessions_key_is_dropped_as_forged()
    {
        using var sealer = new FrameSealer(ClientKeys.OpenKey, ClientKeys.SealSalt);  // wrong key
        using var opener = Opener();
        Assert.Equal(FrameDrop.Forged, Open(opener, Seal(sealer, [1, 2, 3])).Drop);
    }

    [Fact]
    public void A_forged_record_does_not_move_the_replay_window()
    {
        using var sealer = Sealer();
        using var opener = Opener();
        byte[] genuine = Seal(sealer, [7]);
        byte[] forged = (byte[])genuine.Clone();
        forged[^1] ^= 0x80;
        Assert.Equal(FrameDrop.Forged, Open(opener, forged).Drop);
        Assert.Null(Open(opener, genuine).Drop);
    }

    [Fact]
    public void Flipping_any_bit_of_a_record_gets_it_dropped_never_delivered_and_never_thrown()
    {
        using var sealer = Sealer();
        byte[] frame = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        byte[] record = Seal(sealer, frame);
        PropertyRunner.Check(Gen.Choose(0, record.Length * 8 - 1), bit =>
        {
            using var opener = Opener();
            byte[] flipped = (byte[])record.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var result = Open(opener, flipped);
            return result.Length == -1 && result.Drop is FrameDrop.Forged or FrameDrop.NotFrameRecord;
        }, maxTest: 500);
    }

    [Fact]
    public void Arbitrary_bytes_fed_to_the_record_parser_are_dropped_with_a_reason_and_never_throw()
    {
        using var opener = Opener();
        var typed = PropertyRunner.Bytes(2000).Select(b => b.Length > 0 ? PropertyRunner.With(b, 0, FrameRecord.ContentType) : b);
        PropertyRunner.Check(Gen.OneOf(PropertyRunner.Bytes(2000), typed), bytes =>
        {
            var frame = new byte[FrameRecord.FrameBytesMax];
            int length = opener.Open(bytes, frame, out var drop);
            return length == -1 && drop is not null;
        }, maxTest: 1000);
    }

    [Fact]
    public void A_record_longer_than_the_frame_buffer_is_dropped_as_oversized()
    {
        using var sealer = Sealer();
        using var opener = Opener();
        byte[] record = Seal(sealer, new byte[100]);
        Assert.Equal(-1, opener.Open(record, new byte[50], out var drop));
        Assert.Equal(FrameDrop.Oversized, drop);
    }
}
