// The STUN message type (RFC 8489 §5): a 12-bit method and a 2-bit class interleaved into the
// 14 low bits of the first 16-bit word, the two top bits being zero:
//   bits  13..9 = M11..M7, bit 8 = C1, bits 7..5 = M6..M4, bit 4 = C0, bits 3..0 = M3..M0.
// Methods: Binding (RFC 8489) and the TURN methods of RFC 8656 §17. Other 12-bit methods parse
// as the numeric value of StunMethod so that a server can answer them with an error.
namespace EdgeVpn.Protocol.Stun;

public enum StunClass : byte
{
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
}

public enum StunMethod : ushort
{
    Binding = 0x001,
    Allocate = 0x003,
    Refresh = 0x004,
    Send = 0x006,
    Data = 0x007,
    CreatePermission = 0x008,
    ChannelBind = 0x009,
}

public static class StunMessageType
{
    public const ushort MethodMax = 0x0FFF;

    public static ushort Encode(StunMethod method, StunClass cls)
    {
        int m = (ushort)method;
        if (m > MethodMax) throw new ArgumentOutOfRangeException(nameof(method), method, "a STUN method has 12 bits");
        int c = (byte)cls & 3;
        return (ushort)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
    }

    /// <summary>Splits a type word whose two top bits are zero (the caller checks them).</summary>
    public static (StunMethod Method, StunClass Class) Decode(ushort type)
    {
        int m = (type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80);
        int c = ((type >> 4) & 1) | ((type >> 7) & 2);
        return ((StunMethod)m, (StunClass)c);
    }
}
