// The host loop: one dedicated thread runs the node's machines (NodeDriver → EdgeNode); the
// adapters (XMPP pump, link transport, tap reader, control socket) hand it HostEvents through one
// bounded channel; one timer, re-armed from the node's PollTimeout after every event, posts
// Wake; every instant comes from the TimeProvider (Instant = time since the host was made), so
// tests drive it with a fake clock.
// Channel policy (capacity EventsCapacity):
//   - PostAsync waits for room: used by adapters that can wait (XMPP pump, control socket);
//   - Report (ILinkEvents) from the link transport: frames and keep-alives are dropped when
//     the channel is full (datagram semantics, counted in DroppedFrames); state events
//     (endpoint prepared, up, down) wait for room without blocking the caller, so they are
//     never lost (their number is bounded by the node's LinksMax);
//   - the timer's Wake is dropped when the channel is full: the loop re-arms after every event.
// Waking the loop: every successful write also sets a doorbell (ManualResetEventSlim) that the
// loop thread blocks on when the channel is empty. The channel's own async wait would complete
// through the thread pool, so every idle-to-busy step (each ping, each first frame after a
// pause) would wait for a pool thread; on a loaded machine that cost milliseconds per packet.
// Stop (or cancelling RunAsync's token) ends the loop after the events already queued.
using System.Threading.Channels;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

public sealed record NodeHostOptions
{
    public required NodeId NodeId { get; init; }
    public required ulong Seed { get; init; }
    public required EdgeNodeConfig Protocol { get; init; }
    public required string OverlayId { get; init; }
    /// <summary>The bare XMPP address, for status.</summary>
    public required string Account { get; init; }
    public NodeTraceWriter? Trace { get; init; }
    public HostLog Log { get; init; } = (_, _) => { };
    public int EventsCapacity { get; init; } = 4096;
}

public sealed class NodeHost : ILinkEvents, IAsyncDisposable
{
    private readonly Channel<HostEvent> _events;
    private readonly TimeProvider _time;
    private readonly long _epoch;
    private readonly ITimer _timer;
    private readonly ILinkTransport _transport;
    private readonly ILocalPort _local;
    private readonly NodeDriver _driver;
    private readonly NodeTraceWriter? _trace;
    private readonly ManualResetEventSlim _doorbell = new(false);
    private long _droppedFrames;
    private int _started;

    public NodeHost(NodeHostOptions options, Func<ILinkEvents, ILinkTransport> makeTransport, ILocalPort local, ISignalingPort signaling, TimeProvider time)
    {
        _time = time;
        _epoch = time.GetTimestamp();
        _events = Channel.CreateBounded<HostEvent>(new BoundedChannelOptions(options.EventsCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _transport = makeTransport(this);
        _local = local;
        _trace = options.Trace;
        _driver = new NodeDriver(options.NodeId, options.Seed, options.Protocol, options.OverlayId, options.Account,
            _transport, local, signaling, options.Trace, options.Log, Now);
        _timer = time.CreateTimer(_ => Write(new HostEvent.Wake()), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public NodeId Id => _driver.Id;
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Sees every node output on the loop thread (tests); set before RunAsync.</summary>
    public Action<NodeOutput>? OutputObserver { set => _driver.OutputObserver = value; }

    private Instant Now => Instant.FromTimeSpan(_time.GetElapsedTime(_epoch));

    public async ValueTask PostAsync(HostEvent e, CancellationToken ct = default)
    {
        await _events.Writer.WriteAsync(e, ct);
        _doorbell.Set();
    }

    /// <summary>Posts without waiting; false when the channel is full or closed.</summary>
    public bool TryPost(HostEvent e) => Write(e);

    private bool Write(HostEvent e)
    {
        if (!_events.Writer.TryWrite(e)) return false;
        _doorbell.Set();
        return true;
    }

    void ILinkEvents.Report(LinkEvent e)
    {
        var ev = new HostEvent.Link(e);
        if (Write(ev)) return;
        if (e is LinkEvent.Frame or LinkEvent.KeepAlive) { Interlocked.Increment(ref _droppedFrames); return; }
        _ = PostAsync(ev).AsTask();   // state events wait for room; the caller does not
    }

    /// <summary>A consistent snapshot taken on the loop thread.</summary>
    public async Task<NodeStatus> StatusAsync(CancellationToken ct = default)
    {
        var reply = new TaskCompletionSource<NodeStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        await PostAsync(new HostEvent.StatusRequest(reply), ct);
        return await reply.Task.WaitAsync(ct);
    }

    /// <summary>Runs the loop on its own thread until Stop or cancellation.</summary>
    public Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("the host loop runs once");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { Loop(ct); done.TrySetResult(); }
            catch (Exception e) { done.TrySetException(e); }
        })
        { Name = "edgevpn-node", IsBackground = true };
        thread.Start();
        return done.Task;
    }

    private void Loop(CancellationToken ct)
    {
        using var registration = ct.Register(() => Write(new HostEvent.Stop()));
        var reader = _events.Reader;
        try
        {
            Rearm();
            while (true)
            {
                if (!reader.TryRead(out var e))
                {
                    // Block this thread (it is ours) until an event arrives; no other thread runs the node.
                    // Reset, then look again: a write after the reset rings the doorbell, one before it is read here.
                    _doorbell.Reset();
                    if (!reader.TryRead(out e))
                    {
                        if (reader.Completion.IsCompleted) break;
                        _doorbell.Wait();
                        continue;
                    }
                }
                _driver.Handle(Now, e);
                if (e is HostEvent.Stop) break;
                Rearm();
            }
        }
        finally
        {
            // Also when the node threw: later posts fail at once instead of waiting for a reader.
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _events.Writer.TryComplete();
            // Anyone still waiting for a status gets an answer rather than a hang.
            while (reader.TryRead(out var late))
                if (late is HostEvent.StatusRequest r) r.Reply.TrySetCanceled(CancellationToken.None);
        }
    }

    private void Rearm()
    {
        if (_driver.NextWake is not { } at) { _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan); return; }
        // Rounded up to whole ticks: a timer that fired a few nanoseconds early would find nothing
        // due and re-arm at zero forever under a clock that does not move by itself (tests).
        long ns = at.Nanoseconds - Now.Nanoseconds;
        _timer.Change(ns > 0 ? TimeSpan.FromTicks((ns + 99) / 100) : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        _doorbell.Set();   // a loop still waiting sees the completed channel and ends
        _timer.Dispose();
        _transport.Dispose();
        _local.Dispose();
        _trace?.Dispose();
        return ValueTask.CompletedTask;
    }
}
