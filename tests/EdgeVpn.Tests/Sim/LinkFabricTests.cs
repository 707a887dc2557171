// LinkFabric packs both ends' node indices and the flags into one word per slot: these tests check
// that the packing keeps indices up to the simulator's node limit and that flags never bleed into
// them, and that setup start times survive only while their link does.
using EdgeVpn.Sim;
using Xunit;

namespace EdgeVpn.Tests.Sim;

public class LinkFabricTests
{
    [Fact]
    public void The_node_limit_fits_the_bits_a_slot_gives_each_end() =>
        Assert.True(SimParameters.NodesMax <= 1 << LinkFabric.NodeIndexBits);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(49_999_998, 49_999_999)]
    [InlineData(49_999_999, 0)]
    public void Both_ends_keep_their_indices_through_attach_connect_silence_and_close(int a, int b)
    {
        var fabric = new LinkFabric();
        fabric.Attach(7, a, b);
        fabric.Attach(7, b, a);
        Assert.False(fabric.Connect(7, a, out _, out _));
        Assert.True(fabric.Connect(7, b, out int first, out int second));
        Assert.Equal((a, b), (first, second));
        fabric.MarkRelayed(7);
        Assert.True(fabric.Silence(7));
        Assert.Equal(LinkPath.Silenced, fabric.PathOf(7, a, out int other));
        Assert.Equal(b, other);
        Assert.True(fabric.TryGetUpPeer(7, b, out other));
        Assert.Equal(a, other);
        Assert.Equal(a, fabric.Close(7, b));
        Assert.False(fabric.IsOpenAt(7, b));
        Assert.True(fabric.IsOpenAt(7, a));
        Assert.Equal(-1, fabric.Close(7, a));
        Assert.Equal(0, fabric.Count);
    }

    [Fact]
    public void A_node_index_beyond_the_packed_bits_is_refused()
    {
        var fabric = new LinkFabric();
        Assert.Throws<ArgumentOutOfRangeException>(() => fabric.Attach(1, 1 << LinkFabric.NodeIndexBits, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => fabric.Attach(1, 0, -1));
    }

    [Fact]
    public void A_setup_start_is_taken_once_and_forgotten_with_its_link()
    {
        var fabric = new LinkFabric();
        fabric.Attach(5, 1, 2);
        fabric.StartSetupTimer(5, 1234);
        Assert.True(fabric.TakeSetupStart(5, out long started));
        Assert.Equal(1234, started);
        Assert.False(fabric.TakeSetupStart(5, out _));

        fabric.StartSetupTimer(5, 99);
        Assert.Equal(-1, fabric.Close(5, 1)); // the peer never attached: the link goes at once
        fabric.Attach(5, 3, 4);
        Assert.False(fabric.TakeSetupStart(5, out _));
        fabric.StartSetupTimer(6, 1); // no such link: nothing to time
        Assert.False(fabric.TakeSetupStart(6, out _));
    }

    [Fact]
    public void Thousands_of_links_survive_growth_and_deletions_with_their_ends()
    {
        var fabric = new LinkFabric();
        for (int i = 0; i < 5000; i++) { fabric.Attach((ulong)i * 7919, i, i + 1); fabric.Attach((ulong)i * 7919, i + 1, i); }
        for (int i = 0; i < 5000; i += 2) fabric.Close((ulong)i * 7919, i);
        for (int i = 0; i < 5000; i++)
        {
            bool open = fabric.IsOpenAt((ulong)i * 7919, i + 1);
            Assert.Equal(i % 2 == 1, fabric.IsOpenAt((ulong)i * 7919, i));
            Assert.True(open);
            Assert.False(fabric.Connect((ulong)i * 7919, i + 1, out _, out _)); // one end ready at most
        }
        Assert.Equal(5000, fabric.Count);
    }
}
