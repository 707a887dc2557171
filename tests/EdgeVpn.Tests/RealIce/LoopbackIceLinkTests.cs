// Two IceLinks on real UDP sockets on loopback (no servers): they gather host candidates,
// exchange endpoints as signaling text, connect directly and carry datagrams both ways through
// IDatagramPath; junk sent to a link's socket is dropped with a logged reason and changes
// nothing; closing one end completes the other's Received only through consent (not tested
// here: 30 s), but closes its own at once.
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.RealNode.Ice;
using Xunit;
using static EdgeVpn.Tests.RealIce.IceLinkTestKit;

namespace EdgeVpn.Tests.RealIce;

public class LoopbackIceLinkTests
{
    private static IceLinkOptions Loopback(IceRole role) => new(new IceConfig { Role = role })
    {
        Interfaces = new HostInterfaceOptions { Addresses = [IPAddress.Loopback] },
    };

    [Fact]
    public async Task Two_links_on_loopback_connect_directly_and_carry_datagrams_both_ways()
    {
        var log = new LinkLog();
        await using var a = IceLink.Open(Loopback(IceRole.Controlling), TimeProvider.System, log.Add, "a");
        await using var b = IceLink.Open(Loopback(IceRole.Controlled), TimeProvider.System, log.Add, "b");
        await ExchangeAsync(a, b);

        var pa = await a.Connected.WaitAsync(StepBound);
        var pb = await b.Connected.WaitAsync(StepBound);
        Assert.Equal(IcePathKind.Host, pa.Kind);
        Assert.Equal(IcePathKind.Host, pb.Kind);
        Assert.Equal(a.Bases[0], pa.Local.Address);
        Assert.Equal(b.Bases[0], pa.Remote.Address);
        Assert.True(a.IsUp && b.IsUp);

        byte[] there = [23, 254, 253, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 42];   // shaped like a DTLS record
        Assert.Equal(there, await RoundAsync(a, b, there));
        byte[] back = [.. there.Reverse().Skip(1).Prepend((byte)23)];
        Assert.Equal(back, await RoundAsync(b, a, back));
        Assert.Null(a.RelayProblem);
    }

    [Fact]
    public async Task Junk_on_the_socket_is_dropped_with_a_logged_reason_and_the_link_still_connects()
    {
        var log = new LinkLog();
        await using var a = IceLink.Open(Loopback(IceRole.Controlling), TimeProvider.System, log.Add, "a");
        await using var b = IceLink.Open(Loopback(IceRole.Controlled), TimeProvider.System, log.Add, "b");
        using (var rogue = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            rogue.SendTo(new byte[] { 0x80, 1, 2, 3 }, a.Bases[0]);                 // RTP: not ours
            rogue.SendTo(new byte[] { 0, 1, 0, 8, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99 }, a.Bases[0]);   // STUN header, bad length
        }
        await ExchangeAsync(a, b);
        await a.Connected.WaitAsync(StepBound);
        await b.Connected.WaitAsync(StepBound);
        Assert.True(a.GateDropped >= 1);
        Assert.Contains(log.Lines, l => l.Contains("first byte 0x80 is Rtp", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("a: IceAgent:", StringComparison.Ordinal));   // the malformed STUN, named by the agent
    }

    [Fact]
    public async Task A_link_keeps_consent_across_many_consent_timeouts_and_still_carries_datagrams()
    {
        var log = new LinkLog();
        // Consent every ~100 ms, lost after 600 ms without an answer: 40 checks cover six timeouts.
        // (This found the loop's dependence on the thread pool: a starved pool delayed wake-ups by seconds.)
        IceLinkOptions Short(IceRole role) => Loopback(role) with
        {
            Ice = Loopback(role).Ice with { ConsentInterval = TimeSpan.FromMilliseconds(100), ConsentTimeout = TimeSpan.FromMilliseconds(600) },
        };
        await using var a = IceLink.Open(Short(IceRole.Controlling), TimeProvider.System, log.Add, "a");
        await using var b = IceLink.Open(Short(IceRole.Controlled), TimeProvider.System, log.Add, "b");
        await ExchangeAsync(a, b);
        await a.Connected.WaitAsync(StepBound);
        await b.Connected.WaitAsync(StepBound);
        await WaitUntilAsync(() => a.Stats.ConsentChecksSent >= 40 && b.Stats.ConsentChecksSent >= 40 || a.Closed.IsCompleted || b.Closed.IsCompleted,
            () => "40 consent checks each");
        Assert.True(a.IsUp && b.IsUp, $"a {a.State}, b {b.State}\n{log}");
        byte[] late = [23, 254, 253, .. "still up after consent checks"u8];
        Assert.Equal(late, await RoundAsync(a, b, late));
    }

    [Fact]
    public async Task Time_comes_from_the_time_provider_so_a_fake_clock_drives_the_connect_timeout()
    {
        // No peer ever answers; 45 s of fake time pass in a few real milliseconds, so the failure
        // can only have come from the provider's timer and clock.
        var fake = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var a = IceLink.Open(Loopback(IceRole.Controlling), fake);
        await a.Gathered.WaitAsync(StepBound);
        int advancedSeconds = 0;
        while (!a.Closed.IsCompleted && advancedSeconds < 120)
        {
            fake.Advance(TimeSpan.FromSeconds(1));
            advancedSeconds++;
            await Task.WhenAny(a.Closed, Task.Delay(TimeSpan.FromMilliseconds(5)));
        }
        var reason = await a.Closed.WaitAsync(StepBound);
        Assert.Contains("no pair nominated within 45 s", reason);
        Assert.True(advancedSeconds >= 45, $"failed after {advancedSeconds} s of fake time");
    }

    [Fact]
    public async Task Closing_a_link_ends_its_path_and_refuses_further_sends()
    {
        var a = IceLink.Open(Loopback(IceRole.Controlling), TimeProvider.System);
        await using var b = IceLink.Open(Loopback(IceRole.Controlled), TimeProvider.System);
        await ExchangeAsync(a, b);
        await a.Connected.WaitAsync(StepBound);
        await a.DisposeAsync();
        Assert.Equal("closed", await a.Closed.WaitAsync(StepBound));
        Assert.False(a.IsUp);
        Assert.False(a.Send([23, 1, 2]));
        Assert.True(a.Received.Completion.IsCompleted);
    }
}
