// The huge-page advisor reads /proc/self/maps; these pin down which mappings count as heap and
// that advising the live process's heap works (or is skipped) without throwing.
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

public sealed class HugePageAdvisorTests
{
    [Fact]
    public void An_anonymous_private_read_write_mapping_counts_as_heap()
    {
        Assert.True(HugePageAdvisor.TryParse("7f6c58000000-7f6c5c000000 rw-p 00000000 00:00 0 ", out long start, out long end, out bool heap));
        Assert.Equal(0x7f6c58000000L, start);
        Assert.Equal(0x7f6c5c000000L, end);
        Assert.True(heap);
    }

    [Theory]
    [InlineData("7f6c58000000-7f6c5c000000 ---p 00000000 00:00 0 ")]                       // reserved, not committed
    [InlineData("7f6c58000000-7f6c5c000000 rw-s 00000000 00:05 1234 /dev/zero (deleted)")] // shared
    [InlineData("7f6c58000000-7f6c5c000000 rw-p 00000000 08:01 4242 /usr/lib/libc.so.6")] // file-backed
    [InlineData("7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0 [stack]")]                // named
    public void Other_mappings_do_not_count_as_heap(string line)
    {
        Assert.True(HugePageAdvisor.TryParse(line, out _, out _, out bool heap));
        Assert.False(heap);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("zz-7f rw-p 0 00:00 0")]
    [InlineData("7f6c58000000 rw-p 00000000 00:00 0")]
    public void A_malformed_line_is_skipped(string line) => Assert.False(HugePageAdvisor.TryParse(line, out _, out _, out _));

    [Fact]
    public void Advising_the_running_process_covers_a_large_live_array_when_huge_pages_are_on()
    {
        var big = new byte[256 << 20];
        for (int i = 0; i < big.Length; i += 4096) big[i] = 1;
        long advised = HugePageAdvisor.Advise();
        if (HugePageAdvisor.Describe().StartsWith("collapse", StringComparison.Ordinal)) Assert.True(advised >= big.Length, $"advised {advised} bytes");
        else Assert.Equal(0, advised);
        GC.KeepAlive(big);
    }
}

public sealed class HugePageAdviceThreadTests
{
    [Fact]
    public void The_first_pass_runs_even_when_disposed_at_once_and_disposing_ends_the_thread()
    {
        var thread = new HugePageAdviceThread();
        thread.Dispose();
        Assert.False(thread.Running);
        // The loop runs its first pass before it looks at the stop signal, and Dispose waits for it.
        var busy = thread.BusyTime;
        Assert.True(busy > TimeSpan.Zero, "no pass ran");
        thread.Dispose(); // a second Dispose is harmless
        Assert.Equal(busy, thread.BusyTime);
    }
}
