// A HostLog that keeps its lines as "Level text" for assertions (from any thread), and a wait for
// a line holding some text (the wait is the caller's to bound).
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.Tests.RealLink;

internal sealed class LogLines
{
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];

    public void Add(XmppLogLevel level, string text)
    {
        string line = $"{level} {text}";
        lock (_gate)
        {
            _lines.Add(line);
            foreach (var (wanted, seen) in _waits)
                if (line.Contains(wanted, StringComparison.Ordinal)) seen.TrySetResult();
        }
    }

    public List<string> Lines { get { lock (_gate) return [.. _lines]; } }

    /// <summary>Completes once a line (logged before or after the call) contains text.</summary>
    public Task Seen(string text)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal))) seen.SetResult();
            else _waits.Add((text, seen));
        }
        return seen.Task;
    }

    public override string ToString() => string.Join('\n', Lines);
}
