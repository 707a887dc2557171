// Records what a link transport reports (from any thread) and waits, within a liveness bound,
// for a condition over the events (never a timing assertion).
using System.Collections.Concurrent;
using EdgeVpn.RealNode.Host;

namespace EdgeVpn.Tests.RealLink;

internal sealed class LinkEventRecorder : ILinkEvents
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly object _gate = new();
    private readonly List<LinkEvent> _events = [];
    public ConcurrentQueue<string> Log { get; } = new();

    public void Report(LinkEvent e)
    {
        lock (_gate)
        {
            _events.Add(e);
            Monitor.PulseAll(_gate);
        }
    }

    public IReadOnlyList<LinkEvent> Events { get { lock (_gate) return [.. _events]; } }

    public void AddLog(EdgeVpn.Protocol.Xmpp.XmppLogLevel level, string line) => Log.Enqueue($"{level}: {line}");

    /// <summary>The first event matching, waiting up to Bound for it.</summary>
    public T WaitFor<T>(Func<T, bool>? match = null, string? what = null) where T : LinkEvent
    {
        var deadline = DateTime.UtcNow + Bound;
        lock (_gate)
        {
            while (true)
            {
                if (_events.OfType<T>().FirstOrDefault(e => match?.Invoke(e) ?? true) is { } found) return found;
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new Xunit.Sdk.XunitException($"no {what ?? typeof(T).Name} within {Bound.TotalSeconds} s; events: {string.Join(" | ", _events)}\nlog:\n{string.Join("\n", Log)}");
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }
}
