// RFC 8122 fingerprints: the text form round-trips, malformed text is refused with a reason,
// and no input makes the parser throw.
using EdgeVpn.RealNode.Dtls;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Dtls;

public sealed class DtlsFingerprintTests
{
    private static readonly string Sample = "sha-256 " + string.Join(':', Enumerable.Range(0, 32).Select(i => (i * 7 + 0xA0 & 0xFF).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void The_text_form_is_rfc_8122_upper_case_pairs_joined_by_colons()
    {
        var fingerprint = DtlsFingerprint.OfCertificate([1, 2, 3]);
        string text = fingerprint.ToString();
        Assert.Matches("^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$", text);
        Assert.Equal(fingerprint, DtlsFingerprint.Parse(text).Value);
    }

    [Fact]
    public void Parsing_accepts_any_case_of_hash_name_and_hex_digits()
    {
        var upper = DtlsFingerprint.Parse(Sample).Value;
        Assert.Equal(upper, DtlsFingerprint.Parse(Sample.ToLowerInvariant()).Value);
        Assert.Equal(upper, DtlsFingerprint.Parse("SHA-256" + Sample[7..]).Value);
        Assert.Equal(Sample, upper.ToString());
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "'<hash-func> <hex pairs>'")]
    [InlineData("sha-1 AB:CD", "not supported")]
    [InlineData("sha-256 AB:CD", "32 hex pairs")]
    public void Malformed_fingerprints_are_refused_with_a_reason(string? text, string reason)
    {
        var result = DtlsFingerprint.Parse(text);
        Assert.False(result.Ok);
        Assert.Contains(reason, result.Error);
    }

    [Fact]
    public void A_stray_character_in_the_hex_is_refused_with_its_position()
    {
        string bad = Sample[..20] + "G" + Sample[21..];
        Assert.Contains("not a hex pair", DtlsFingerprint.Parse(bad).Error);
        string noColon = Sample[..10] + "-" + Sample[11..];
        Assert.Contains("expected ':'", DtlsFingerprint.Parse(noColon).Error);
    }

    [Fact]
    public void Different_certificates_have_different_fingerprints_and_equal_ones_equal()
    {
        Assert.NotEqual(DtlsFingerprint.OfCertificate([1]), DtlsFingerprint.OfCertificate([2]));
        Assert.Equal(DtlsFingerprint.OfCertificate([1]), DtlsFingerprint.OfCertificate([1]));
    }

    [Fact]
    public void Parsing_never_throws_and_what_it_accepts_prints_back_canonically()
    {
        var alphabet = "sha-256 0123456789abcdefABCDEF:xyz\t".ToCharArray();
        var arbitrary = Gen.OneOf(
            Gen.ArrayOf(Gen.Elements(alphabet)).Select(cs => new string(cs)),
            Gen.Choose(0, Sample.Length - 1).SelectMany(i => Gen.Elements(alphabet), (i, c) => Sample[..i] + c + Sample[(i + 1)..]));
        PropertyRunner.Check(arbitrary, text =>
        {
            var result = DtlsFingerprint.Parse(text);
            return !result.Ok || DtlsFingerprint.Parse(result.Value.ToString()).Value.Equals(result.Value);
        }, maxTest: 1000);
    }
}
