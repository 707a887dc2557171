// A law over generated values, checked from inside an xUnit [Fact] (no FsCheck.Xunit) through
// PropertyCheck: a failing case throws with the replay command and FsCheck's counterexample
// report. Also the generators that the codec, flood and flow tests share.
using FsCheck;
using FsCheck.Fluent;

namespace EdgeVpn.Tests;

internal static class PropertyRunner
{
    public static void Check<T>(Arbitrary<T> arb, Func<T, bool> law, int maxTest = 300) =>
        PropertyCheck.Run(maxTest, Prop.ForAll(arb, law));

    public static void Check<T>(Gen<T> gen, Func<T, bool> law, int maxTest = 300) =>
        Check(Arb.From(gen), law, maxTest);

    /// <summary>A 64-bit seed for scenarios built with DeterministicRandom (a failing seed is printed).</summary>
    public static Gen<ulong> Seeds =>
        Gen.Choose(0, int.MaxValue).SelectMany(hi => Gen.Choose(0, int.MaxValue), (hi, lo) => ((ulong)hi << 31) ^ (ulong)lo);

    public static Gen<byte[]> Bytes(int lengthMax) =>
        Gen.Choose(0, lengthMax).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    /// <summary>A copy of b with one byte replaced (for malformed-input cases).</summary>
    public static byte[] With(byte[] b, int index, byte value)
    {
        var c = (byte[])b.Clone();
        c[index] = value;
        return c;
    }

    public static byte[] Hex(string hex)
    {
        hex = hex.Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
        return Convert.FromHexString(hex);
    }
}
