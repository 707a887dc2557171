// CRC-32 as used by STUN's FINGERPRINT (ITU-T V.42 / IEEE 802.3: reflected polynomial
// 0xEDB88320, initial value and final XOR 0xFFFFFFFF; check value of "123456789" = 0xCBF43926).
// Written by hand: Protocol takes no packages (System.IO.Hashing is one). Table-driven, one
// byte per step; the table is built once from the polynomial.
namespace EdgeVpn.Protocol.Stun;

public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
