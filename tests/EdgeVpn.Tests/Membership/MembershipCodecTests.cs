// The membership wire format: an exact byte vector, the rejections the parser promises, a parser
// that never throws on random or mutated bytes, and round trips of random valid messages.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Ring;
using Xunit;
using static EdgeVpn.Protocol.Membership.MembershipMessage;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Membership;

public class MembershipCodecTests
{
    private static readonly NodeId A = NodeId.Parse("000102030405060708090a0b0c0d0e0f").Value;
    private static readonly NodeId B = NodeId.Parse("101112131415161718191a1b1c1d1e1f").Value;
    private static readonly NodeId C = NodeId.Parse("202122232425262728292a2b2c2d2e2f").Value;

    private static readonly byte[] FoundOwnerBytes = Hex(
        "01 02" +                                   // version 1, FoundOwner
        "0000000000000007" +                        // request id 7
        "101112131415161718191a1b1c1d1e1f" +        // owner B
        "05" +                                      // hops
        "01 000102030405060708090a0b0c0d0e0f" +     // predecessor A
        "02 101112131415161718191a1b1c1d1e1f" +     // two successors: B, C
        "202122232425262728292a2b2c2d2e2f");

    [Fact]
    public void Found_owner_encodes_to_the_documented_byte_layout_and_parses_back()
    {
        var m = new FoundOwner(7, B, 5, A, [B, C]);
        Assert.Equal(FoundOwnerBytes, MembershipCodec.Encode(m));
        var p = MembershipCodec.Parse(FoundOwnerBytes);
        Assert.True(p.Ok, p.Error);
        var o = Assert.IsType<FoundOwner>(p.Value);
        Assert.Equal((7UL, B, (byte)5, (NodeId?)A), (o.RequestId, o.Owner, o.Hops, o.KeyPredecessor));
        Assert.Equal([B, C], o.KeySuccessors);
    }

    [Fact]
    public void Find_successor_encodes_key_hops_and_the_join_flag_at_fixed_offsets()
    {
        var bytes = MembershipCodec.Encode(new FindSuccessor(1, A, C.Value, 9, ForJoin: true));
        Assert.Equal(44, bytes.Length);
        Assert.Equal(Hex("01 01 0000000000000001"), bytes[..10]);
        Assert.Equal(Hex("000102030405060708090a0b0c0d0e0f 202122232425262728292a2b2c2d2e2f 09 01"), bytes[10..]);
    }

    [Fact]
    public void Find_successor_carries_the_introduce_and_nearest_flags_in_bits_1_and_2()
    {
        Assert.Equal(0x02, MembershipCodec.Encode(new FindSuccessor(1, A, C.Value, 9, false, Introduce: true))[^1]);
        Assert.Equal(0x04, MembershipCodec.Encode(new FindSuccessor(1, A, C.Value, 9, false, Nearest: true))[^1]);
        var parsed = MembershipCodec.Parse(MembershipCodec.Encode(new FindSuccessor(1, A, C.Value, 9, true, true, true)));
        Assert.Equal(new FindSuccessor(1, A, C.Value, 9, true, true, true), parsed.Value);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("bad version")]
    [InlineData("unknown type")]
    [InlineData("truncated")]
    [InlineData("trailing byte")]
    [InlineData("presence byte 2")]
    [InlineData("successor count above 16")]
    [InlineData("successor count beyond the bytes")]
    [InlineData("unknown failure reason")]
    [InlineData("unknown flag bits")]
    public void Membership_parser_rejects_malformed_messages(string defect)
    {
        byte[] find = MembershipCodec.Encode(new FindSuccessor(1, A, B.Value, 1, false));
        byte[] failed = MembershipCodec.Encode(new FindFailed(1, 3, FindFailure.NoRoute));
        byte[] b = defect switch
        {
            "empty" => [],
            "bad version" => With(FoundOwnerBytes, 0, 2),
            "unknown type" => With(FoundOwnerBytes, 1, 9),
            "truncated" => FoundOwnerBytes[..^1],
            "trailing byte" => [.. FoundOwnerBytes, 0],
            "presence byte 2" => With(FoundOwnerBytes, 27, 2),
            "successor count above 16" => With(FoundOwnerBytes, 44, 17),
            "successor count beyond the bytes" => With(FoundOwnerBytes, 44, 3),
            "unknown failure reason" => With(failed, failed.Length - 1, 0),
            "unknown flag bits" => With(find, find.Length - 1, 8),
            _ => throw new ArgumentException(defect),
        };
        var r = MembershipCodec.Parse(b);
        Assert.False(r.Ok, defect);
        Assert.False(string.IsNullOrEmpty(r.Error));
    }

    [Fact]
    public void Membership_parser_never_throws_on_random_bytes()
    {
        Check(Bytes(120), bytes => { _ = MembershipCodec.Parse(bytes).ToString(); return true; }, maxTest: 2000);
    }

    [Fact]
    public void Membership_parser_never_throws_on_mutated_valid_messages_and_what_it_accepts_re_encodes_identically()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var b = MembershipCodec.Encode(RandomMessage(rng));
            int flips = 1 + rng.NextInt(4);
            for (int i = 0; i < flips; i++) b[rng.NextInt(b.Length)] = (byte)rng.NextInt(256);
            int cut = rng.NextInt(b.Length + 1);
            var r = MembershipCodec.Parse(b.AsSpan(0, cut));
            if (r.Ok) Assert.Equal(b[..cut], MembershipCodec.Encode(r.Value));
            return true;
        }, maxTest: 2000);
    }

    [Fact]
    public void Valid_membership_messages_round_trip_through_encode_and_parse()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var m = RandomMessage(rng);
            var bytes = MembershipCodec.Encode(m);
            var p = MembershipCodec.Parse(bytes);
            Assert.True(p.Ok, p.Error);
            Assert.Equal(m.GetType(), p.Value.GetType());
            Assert.Equal(bytes, MembershipCodec.Encode(p.Value));
            Assert.True(bytes.Length <= EncodedLengthMax);
            return true;
        }, maxTest: 1000);
    }

    /// <summary>Any message the format allows, with random fields and lists of 0..16 ids.</summary>
    internal static MembershipMessage RandomMessage(DeterministicRandom rng)
    {
        NodeId Id() => new(rng.NextUInt128());
        NodeId? Pred() => rng.NextInt(2) == 0 ? null : Id();
        NodeId[] List() { var l = new NodeId[rng.NextInt(SuccessorsOnWireMax + 1)]; for (int i = 0; i < l.Length; i++) l[i] = Id(); return l; }
        byte Hops() => (byte)rng.NextInt(256);
        return rng.NextInt(6) switch
        {
            0 => new FindSuccessor(rng.NextUInt64(), Id(), rng.NextUInt128(), Hops(), rng.NextInt(2) == 1, rng.NextInt(2) == 1, rng.NextInt(2) == 1),
            1 => new FoundOwner(rng.NextUInt64(), Id(), Hops(), Pred(), List()),
            2 => new FindFailed(rng.NextUInt64(), Hops(), (FindFailure)(1 + rng.NextInt(3))),
            3 => new Stabilize(rng.NextUInt64()),
            4 => new StabilizeReply(rng.NextUInt64(), rng.NextUInt64(), Pred(), List()),
            _ => new Leaving(Pred(), List()),
        };
    }
}
