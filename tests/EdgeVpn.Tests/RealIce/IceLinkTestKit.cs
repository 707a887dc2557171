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
            if (!from.Send(datagram))
                throw new Xunit.Sdk.XunitException($"Send refused ({(from is IceLink l ? $"{l.State}, {(l.Closed.IsCompleted ? l.Closed.Result : "open")}" : "")}, up {from.IsUp})");
            await Task.WhenAny(read, Task.Delay(TimeSpan.FromMilliseconds(500), bound.Token));
            if (read.IsCompleted) return await read;
        }
    }

    /// <summary>Polls a condition (every 50 ms) until it holds, failing after StepBound; a liveness bound, not a timing assertion.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> what)
    {
        using var bound = new CancellationTokenSource(StepBound);
        while (!condition())
        {
            if (bound.IsCancellationRequested) throw new Xunit.Sdk.XunitException($"not within {StepBound.TotalSeconds} s: {what()}");
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        }
    }
}
