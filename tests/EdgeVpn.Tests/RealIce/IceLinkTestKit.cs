// Helpers for tests of IceLink on real sockets: a log that collects lines from any thread, the
// exchange of endpoints as signaling would carry them (through IceEndpointCodec text), and
// liveness bounds on awaited steps (never timing assertions).
using System.Collections.Concurrent;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.RealNode.Ice;

namespace EdgeVpn.Tests.RealIce;

internal sealed class LinkLog
{
    private readonly ConcurrentQueue<string> _lines = new();
    public void Add(string line) => _lines.Enqueue(line);
    public IReadOnlyList<string> Lines => [.. _lines];
    public override string ToString() => string.Join("\n", _lines);
}

internal static class IceLinkTestKit
{
    public static readonly TimeSpan StepBound = TimeSpan.FromSeconds(30);

    /// <summary>Each side's gathered endpoint, encoded and parsed as XMPP signaling would carry it, given to the other.</summary>
    public static async Task ExchangeAsync(IceLink a, IceLink b)
    {
        var ea = await a.Gathered.WaitAsync(StepBound);
        var eb = await b.Gathered.WaitAsync(StepBound);
        b.SetRemote(IceEndpointCodec.Parse(IceEndpointCodec.Encode(ea)).Value);
        a.SetRemote(IceEndpointCodec.Parse(IceEndpointCodec.Encode(eb)).Value);
    }

    /// <summary>Sends a datagram from one path until the other receives one (UDP may lose some), within StepBound; returns what arrived.</summary>
    public static async Task<byte[]> RoundAsync(IDatagramPath from, IDatagramPath to, byte[] datagram)
    {
        using var bound = new CancellationTokenSource(StepBound);
        var read = to.Received.ReadAsync(bound.Token).AsTask();
        while (true)
        {
            Xunit.Assert.True(from.Send(datagram), "Send refused on an up path");
            await Task.WhenAny(read, Task.Delay(TimeSpan.FromMilliseconds(500), bound.Token));
            if (read.IsCompleted) return await read;
        }
    }
}
