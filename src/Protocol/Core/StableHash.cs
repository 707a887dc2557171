// Hashes whose value is part of the contract: the same input gives the same hash in every
// process and on every machine (string.GetHashCode does not). Used for seed labels and traces.
// FNV-1a 64 and a 64-bit mixer; written by hand because System.IO.Hashing is not referenced
// by the pure library.
using System.Text;

namespace EdgeVpn.Protocol.Core;

public static class StableHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Of(string s)
    {
        ulong h = FnvOffset;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= FnvPrime; }
        return h;
    }

    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        ulong h = FnvOffset;
        foreach (byte b in bytes) { h ^= b; h *= FnvPrime; }
        return h;
    }

    /// <summary>Folds one 64-bit value into a running hash (order-sensitive).</summary>
    public static ulong Combine(ulong h, ulong value)
    {
        h ^= value + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2);
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        return h;
    }
}
