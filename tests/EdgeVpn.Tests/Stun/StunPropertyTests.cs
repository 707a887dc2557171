// Laws of the STUN codec over random input: encode then decode is the identity (plus the
// integrity and fingerprint attributes, which verify); no input of any shape makes a parser or
// a verifier throw; and any single bit flip in a protected message breaks its protection.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Stun;
using FsCheck.Fluent;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Stun;

public class StunPropertyTests
{
    [Fact]
    public void Encoding_then_parsing_gives_back_the_same_message_and_protection_verifies()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var m = StunGen.Message(rng);
            byte[]? key = rng.NextInt(2) == 0 ? null : StunGen.Bytes(rng, 20).ToArray();
            byte[]? key256 = rng.NextInt(3) == 0 ? StunGen.Bytes(rng, 20).ToArray() : null;
            bool fingerprint = rng.NextInt(2) == 0;
            var bytes = m.Encode(key, fingerprint, key256, paddingByte: (byte)rng.NextInt(256));
            Assert.Equal(m.EncodedLength(key is not null, fingerprint, key256 is not null), bytes.Length);

            var parsed = StunMessage.Parse(bytes);
            Assert.True(parsed.Ok, parsed.Error);
            var body = parsed.Value.Attributes.Where(a => a is not (MessageIntegrity or MessageIntegritySha256 or Fingerprint)).ToList();
            Assert.Equal(m, parsed.Value with { Attributes = body });
            Assert.Equal(key is null ? StunCheck.Absent : StunCheck.Valid, StunIntegrity.VerifyMessageIntegrity(bytes, key ?? []));
            Assert.Equal(key256 is null ? StunCheck.Absent : StunCheck.Valid, StunIntegrity.VerifyMessageIntegritySha256(bytes, key256 ?? []));
            Assert.Equal(fingerprint ? StunCheck.Valid : StunCheck.Absent, StunIntegrity.VerifyFingerprint(bytes));
            // RFC 7983 reserves first bytes 0..3 for STUN: every method below 0x100 lands there.
            if ((int)m.Method < 0x100) Assert.Equal(DatagramKind.Stun, DatagramDemux.Classify(bytes));
            return true;
        }, maxTest: 500);
    }

    [Fact]
    public void Parsers_and_verifiers_never_throw_on_random_bytes()
    {
        Check(Bytes(200), bytes =>
        {
            Exercise(bytes);
            // The same bytes behind a valid header, so that the attribute walk sees them too.
            var framed = StunParserTests.WithBody(Convert.ToHexString(bytes.AsSpan(0, bytes.Length & ~3)));
            Exercise(framed);
            return true;
        }, maxTest: 2000);
    }

    [Fact]
    public void Parsers_never_throw_on_bit_flipped_or_truncated_valid_messages()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var bytes = StunGen.Message(rng).Encode("pw"u8.ToArray(), fingerprint: true);
            for (int i = 0; i < 20; i++)
            {
                var mutated = (byte[])bytes.Clone();
                int flips = 1 + rng.NextInt(4);
                for (int f = 0; f < flips; f++) mutated[rng.NextInt(mutated.Length)] ^= (byte)(1 << rng.NextInt(8));
                Exercise(mutated);
                Exercise(bytes.AsSpan(0, rng.NextInt(bytes.Length)).ToArray());
            }
            return true;
        }, maxTest: 300);
    }

    [Fact]
    public void A_single_bit_flip_in_a_protected_message_never_leaves_both_integrity_and_fingerprint_valid()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var key = "pw"u8.ToArray();
            var bytes = StunGen.Message(rng).Encode(key, fingerprint: true);
            var mutated = (byte[])bytes.Clone();
            mutated[rng.NextInt(mutated.Length)] ^= (byte)(1 << rng.NextInt(8));
            Assert.False(StunIntegrity.VerifyMessageIntegrity(mutated, key) == StunCheck.Valid
                && StunIntegrity.VerifyFingerprint(mutated) == StunCheck.Valid);
            return true;
        }, maxTest: 1000);
    }

    private static void Exercise(byte[] bytes)
    {
        var r = StunMessage.Parse(bytes);
        _ = r.Ok ? r.Value.ToString() + r.Value.UnknownComprehensionRequired.Count : r.Error;
        if (!r.Ok) Assert.False(string.IsNullOrEmpty(r.Error));
        _ = StunIntegrity.VerifyMessageIntegrity(bytes, "pw"u8);
        _ = StunIntegrity.VerifyMessageIntegritySha256(bytes, "pw"u8);
        _ = StunIntegrity.VerifyFingerprint(bytes);
        _ = ChannelDataMessage.Parse(bytes).ToString();
        _ = DatagramDemux.Classify(bytes);
    }
}
