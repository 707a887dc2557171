// The anti-replay sliding window of RFC 6347 §4.1.2.6 over 64-bit record sequence numbers,
// 64 records wide (the RFC's preferred default). A record is checked before it is decrypted
// (cheap rejection) and marked only after it authenticated, so a forged record can never
// move the window. Not thread-safe: one receiving thread per link by the transport's contract.
namespace EdgeVpn.RealNode.Dtls;

public sealed class ReplayWindow
{
    public const int WidthRecords = 64;

    private ulong _highest;   // highest authenticated sequence number
    private ulong _seen;      // bit i set: _highest - i was received
    private bool _any;

    public ulong Highest => _highest;

    /// <summary>Null when the sequence number may be accepted, otherwise why not.</summary>
    public FrameDrop? Check(ulong sequence)
    {
        if (!_any || sequence > _highest) return null;
        ulong age = _highest - sequence;
        if (age >= WidthRecords) return FrameDrop.TooOld;
        return (_seen & (1UL << (int)age)) != 0 ? FrameDrop.Replayed : null;
    }

    /// <summary>Marks an authenticated record; call only after Check returned null.</summary>
    public void Mark(ulong sequence)
    {
        if (!_any) { _any = true; _highest = sequence; _seen = 1; return; }
        if (sequence > _highest)
        {
            ulong shift = sequence - _highest;
            _seen = shift >= WidthRecords ? 1 : (_seen << (int)shift) | 1;
            _highest = sequence;
        }
        else _seen |= 1UL << (int)(_highest - sequence);
    }
}
