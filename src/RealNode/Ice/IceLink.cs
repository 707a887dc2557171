// One end of a link on real UDP sockets: the pure IceAgent (src/Protocol/Ice) driven by one
// loop, bound to a socket per host address (UdpBases), with STUN and TURN servers reached over
// those sockets. It is the IDatagramPath the layer above (DTLS) uses once a pair is selected.
// The loop (one dedicated thread per link; nothing else touches the agent):
//  - inputs come through one inbox: datagrams from the socket threads (after DatagramGate),
//    signaling (SetRemote), application datagrams (Send), wake-ups and Close;
//  - after every Handle/HandleTimeout the agent's outputs are drained and performed: Transmit
//    goes out of the named socket, ApplicationData to Received (or to the receiver given to
//    TryDeliverTo, called right here on the loop thread), the rest completes the tasks
//    below; then the one timer is re-armed at the agent's PollTimeout;
//  - time is Instant = time since the link was opened, from the TimeProvider given. With the
//    system clock the timer is the loop thread's own timed wait on its inbox; with any other
//    TimeProvider (fake time in tests) it is that provider's ITimer, which posts a wake-up.
//    Neither the loop nor the sockets use the thread pool: a starved pool (measured under the
//    test host: 3 threads, wake-ups late by 1-2 s) would break 50 ms pacing and consent.
// What the owner sees: Gathered (credentials and candidates to signal, when gathering ends),
// RelayProblem (TURN was configured but no relayed candidate came: the reason, e.g. a 401 for a
// wrong password), Connected (the first selected pair), SelectedPair (the latest), Closed (why
// the link ended: failed, consent lost, closed). Log lines go to the log callback (thread-safe,
// from any thread): candidates, selected pairs, agent errors and, up to DropLogsMax per link,
// dropped datagrams and send errors with their reasons. Nothing here logs a password: the
// options are never formatted, and agent errors carry only STUN error codes and reasons.
// Bounds: the three queues of IceLinkOptions; datagrams beyond them are dropped and counted.
using System.Net;
using System.Security.Cryptography;
using System.Threading.Channels;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;

namespace EdgeVpn.RealNode.Ice;

public sealed class IceLink : IDatagramPath, IAsyncDisposable
{
    private abstract record Item
    {
        public sealed record Datagram(IPEndPoint Local, IPEndPoint Remote, byte[] Bytes) : Item;
        public sealed record ToAgent(IceInput Input) : Item;
        public sealed record AppData(byte[] Bytes) : Item;
        public sealed record Wake : Item;
        public sealed record Close : Item;
    }

    private static readonly TimeSpan DisposeBound = TimeSpan.FromSeconds(10);

    private readonly IceLinkOptions _options;
    private readonly IceAgent _agent;
    private readonly UdpBases _sockets;
    private readonly TimeProvider _time;
    private readonly long _epoch;
    private readonly Action<string> _log;
    private readonly string _name;
    private readonly object _gate = new();
    private Queue<Item> _inbox = new();
    private bool _inboxClosed;
    private readonly Channel<byte[]> _received;
    private readonly ITimer? _timer;
    private readonly TaskCompletionSource<IceEndpoint> _gathered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IceSelectedPair> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _loop;
    private int _queuedDatagrams, _queuedSends, _wakePending, _dropLogs;
    private long _receiveDropped, _inputDropped, _gateDropped, _sendErrors;
    private volatile bool _up;
    private volatile IceSelectedPair? _selected;
    private volatile Action<byte[]>? _deliver;
    private string? _lastTurnError;
    private Instant? _armedAt;

    private IceLink(IceLinkOptions options, UdpBases sockets, TimeProvider time, Action<string> log, string name)
    {
        _options = options;
        _sockets = sockets;
        _time = time;
        _log = log;
        _name = name;
        _epoch = time.GetTimestamp();
        ulong seed = options.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _agent = new IceAgent(options.Ice, new DeterministicRandom(seed));
        _received = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.ReceivedDatagramsMax)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        }, _ => Interlocked.Increment(ref _receiveDropped));
        if (time != TimeProvider.System) _timer = time.CreateTimer(_ => PostWake(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Post(new Item.ToAgent(new IceInput.LocalInterfaces(sockets.Locals)));
        _sockets.Start(OnReceived, (local, why) => _log($"{_name}: receiving on {local} stopped: {why}"), name);
        _loop = new Thread(Run) { IsBackground = true, Name = "ice loop " + name };
        _loop.Start();
    }

    /// <summary>
    /// Binds the sockets (in the calling thread's network namespace) and starts gathering.
    /// Throws ArgumentException for invalid options and IOException when no address could be bound.
    /// </summary>
    public static IceLink Open(IceLinkOptions options, TimeProvider time, Action<string>? log = null, string name = "ice")
    {
        var problems = options.Validate();
        if (problems.Count > 0) throw new ArgumentException("invalid IceLinkOptions: " + string.Join("; ", problems), nameof(options));
        log ??= _ => { };
        var addresses = HostInterfaces.Choose(options.Interfaces);
        var failures = new List<string>();
        var sockets = UdpBases.Bind(addresses, options.SocketReceiveBufferBytes, failures);
        foreach (var f in failures) log($"{name}: {f}");
        if (sockets.Locals.Count == 0)
        {
            sockets.Dispose();
            throw new IOException(addresses.Count == 0
                ? $"{name}: no usable host address (interfaces down, loopback excluded, or none configured)"
                : $"{name}: no host address could be bound: {string.Join("; ", failures)}");
        }
        log($"{name}: bound {string.Join(", ", sockets.Locals)}");
        return new IceLink(options, sockets, time, log, name);
    }

    // --- what the owner sees ---------------------------------------------------------------

    /// <summary>The local credentials and candidates to signal, once gathering has ended.</summary>
    public Task<IceEndpoint> Gathered => _gathered.Task;
    /// <summary>The first selected pair; faults with IceLinkFailedException if the link ends before.</summary>
    public Task<IceSelectedPair> Connected => _connected.Task;
    /// <summary>Why the link ended (failed, consent lost, closed).</summary>
    public Task<string> Closed => _closed.Task;
    public IceSelectedPair? SelectedPair => _selected;
    /// <summary>Set when gathering ended without the relayed candidate a TURN server was configured for.</summary>
    public string? RelayProblem { get; private set; }
    public IReadOnlyList<IPEndPoint> Bases => _sockets.Locals;
    public IceAgentState State => _agent.State;
    /// <summary>The agent's counters (written by the loop; a read from another thread is a snapshot, for status and diagnosis).</summary>
    public IceStats Stats => _agent.Stats;
    /// <summary>Datagrams dropped before the agent: not STUN/ChannelData/DTLS (DatagramGate) or the input queue was full.</summary>
    public long GateDropped => Interlocked.Read(ref _gateDropped);
    public long InputDropped => Interlocked.Read(ref _inputDropped);
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>The peer's credentials and candidates from signaling (thread-safe).</summary>
    public void SetRemote(IceEndpoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Post(new Item.ToAgent(new IceInput.RemoteCredentials(remote.Ufrag, remote.Password)));
        foreach (var c in remote.Candidates) Post(new Item.ToAgent(new IceInput.RemoteCandidate(c)));
        Post(new Item.ToAgent(new IceInput.RemoteCandidatesComplete()));
    }

    // --- IDatagramPath ---------------------------------------------------------------------

    public int DatagramBytesMax => _options.DatagramBytesMax;
    public bool IsUp => _up;
    public ChannelReader<byte[]> Received => _received.Reader;
    public long ReceiveDropped => Interlocked.Read(ref _receiveDropped);

    /// <summary>Application datagrams go to receiver on this link's loop thread from now on (Received stays empty).</summary>
    public bool TryDeliverTo(Action<byte[]> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        _deliver = receiver;
        return true;
    }

    public bool Send(ReadOnlySpan<byte> datagram)
    {
        if (!_up || datagram.Length > _options.DatagramBytesMax || datagram.IsEmpty) return false;
        if (Interlocked.Increment(ref _queuedSends) > _options.SendDatagramsMax)
        {
            Interlocked.Decrement(ref _queuedSends);
            return false;
        }
        if (Post(new Item.AppData(datagram.ToArray()))) return true;
        Interlocked.Decrement(ref _queuedSends);
        return false;
    }

    // --- the socket side (thread-pool threads) ---------------------------------------------

    private void OnReceived(IPEndPoint local, IPEndPoint remote, ReadOnlySpan<byte> bytes)
    {
        if (DatagramGate.Refusal(bytes) is { } why)
        {
            Interlocked.Increment(ref _gateDropped);
            LogDrop($"dropped a datagram from {remote} on {local}: {why}");
            return;
        }
        if (Interlocked.Increment(ref _queuedDatagrams) > _options.InputDatagramsMax)
        {
            Interlocked.Decrement(ref _queuedDatagrams);
            Interlocked.Increment(ref _inputDropped);
            LogDrop($"dropped a datagram from {remote} on {local}: {_options.InputDatagramsMax} datagrams already wait for the loop");
            return;
        }
        if (!Post(new Item.Datagram(local, remote, bytes.ToArray()))) Interlocked.Decrement(ref _queuedDatagrams);
    }

    private void PostWake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0) Post(new Item.Wake());
    }

    /// <summary>Queues an item for the loop (thread-safe); false once the loop has ended.</summary>
    private bool Post(Item item)
    {
        lock (_gate)
        {
            if (_inboxClosed) return false;
            _inbox.Enqueue(item);
            if (_inbox.Count == 1) Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>Waits for items or the deadline (system time only; other providers wake through their ITimer) and takes all queued.</summary>
    private Queue<Item> Take(TimeSpan? wait)
    {
        lock (_gate)
        {
            if (_inbox.Count == 0)
            {
                if (wait is { } w) { if (w > TimeSpan.Zero) Monitor.Wait(_gate, w); }
                else Monitor.Wait(_gate);
            }
            var batch = _inbox;
            _inbox = new Queue<Item>();
            return batch;
        }
    }

    private void LogDrop(string line)
    {
        int n = Interlocked.Increment(ref _dropLogs);
        if (n <= _options.DropLogsMax) _log($"{_name}: {line}");
        else if (n == _options.DropLogsMax + 1) _log($"{_name}: further drops and send errors are only counted");
    }

    // --- the loop ---------------------------------------------------------------------------

    private Instant Now => Instant.FromTimeSpan(_time.GetElapsedTime(_epoch));

    private void Run()
    {
        string? endReason = null;
        try
        {
            TimeSpan? wait = null;
            while (true)
            {
                foreach (var item in Take(wait))
                {
                    if (item is Item.Close)
                    {
                        _agent.Handle(Now, new IceInput.Close());
                        Drain();
                        endReason = "closed";
                        return;
                    }
                    Handle(item);
                    if (IsFinal) break;
                }
                _agent.HandleTimeout(Now);   // early calls are harmless: this is also the system-time timer firing
                Drain();
                _agent.CheckInvariants();
                if (IsFinal) return;
                wait = Rearm();
            }
        }
        catch (Exception e)   // the top of the loop: whatever broke, the link ends with the reason
        {
            endReason = $"internal error: {e.GetType().Name}: {e.Message}";
            _log($"{_name}: {endReason}");
        }
        finally
        {
            lock (_gate) _inboxClosed = true;
            End(endReason ?? "stopped");
            _timer?.Dispose();
            _sockets.Dispose();
            _loopDone.TrySetResult();
        }
    }

    private bool IsFinal => _agent.State is IceAgentState.Failed or IceAgentState.ConsentLost or IceAgentState.Closed;

    private void Handle(Item item)
    {
        switch (item)
        {
            case Item.Datagram d:
                Interlocked.Decrement(ref _queuedDatagrams);
                _agent.Handle(Now, new IceInput.Datagram(d.Local, d.Remote, d.Bytes));
                break;
            case Item.AppData a:
                Interlocked.Decrement(ref _queuedSends);
                if (_agent.State == IceAgentState.Connected) _agent.Handle(Now, new IceInput.Send(a.Bytes));
                break;
            case Item.ToAgent t:
                _agent.Handle(Now, t.Input);
                break;
            case Item.Wake:
                Interlocked.Exchange(ref _wakePending, 0);
                _armedAt = null;   // the one-shot timer has fired: whatever is due next must be armed again
                _agent.HandleTimeout(Now);
                break;
        }
        Drain();
    }

    /// <summary>Re-arms the one timer at the agent's PollTimeout; returns how long the loop may wait (null: until an input).</summary>
    private TimeSpan? Rearm()
    {
        var at = _agent.PollTimeout();
        if (at is not { } due)
        {
            _armedAt = null;
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return null;
        }
        // Rounded up to whole milliseconds: waits have millisecond resolution, and a wake-up a
        // fraction early would find nothing due and spin.
        var delay = due - Now;
        var wait = TimeSpan.FromMilliseconds(delay > TimeSpan.Zero ? Math.Ceiling(delay.TotalMilliseconds) : 0);
        if (_timer is null) return wait;
        if (at != _armedAt)
        {
            _armedAt = at;
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
        }
        return null;
    }

    /// <summary>Performs every output the agent has (the sans-IO drain rule).</summary>
    private void Drain()
    {
        while (_agent.TryPollOutput(out var output))
        {
            switch (output)
            {
                case IceOutput.Transmit t:
                    if (_sockets.Send(t.From, t.To, t.Bytes) is { } why)
                    {
                        Interlocked.Increment(ref _sendErrors);
                        LogDrop(why);
                    }
                    break;
                case IceOutput.ApplicationData a:
                    if (_deliver is { } deliver) deliver(a.Bytes);
                    else _received.Writer.TryWrite(a.Bytes);   // full: dropped and counted by the channel
                    break;
                case IceOutput.LocalCandidate c:
                    _log($"{_name}: local candidate {IceEndpointCodec.EncodeCandidate(c.Candidate)}");
                    break;
                case IceOutput.LocalCandidatesComplete:
                    OnGathered();
                    break;
                case IceOutput.Connected c:
                    _selected = c.Pair;
                    _up = true;
                    _log($"{_name}: selected {c.Pair}");
                    _connected.TrySetResult(c.Pair);
                    break;
                case IceOutput.Failed f:
                    End("failed: " + f.Reason);
                    break;
                case IceOutput.ConsentLost:
                    End("consent lost (RFC 7675): no answer to consent checks");
                    break;
                case IceOutput.Error e:
                    if (e.Problem.Input.StartsWith("TURN ", StringComparison.Ordinal)) _lastTurnError = $"{e.Problem.Input}: {e.Problem.Reason}";
                    LogDrop(e.Problem.ToString());
                    break;
            }
        }
    }

    private void OnGathered()
    {
        var candidates = _agent.LocalCandidates;
        if (_options.Ice.Turn is { } turn && !candidates.Any(c => c.Type == IceCandidateType.Relayed))
        {
            RelayProblem = $"no relayed candidate from TURN server {turn.Server}: "
                + (_lastTurnError is { } e ? (e.Contains(" 401 ", StringComparison.Ordinal) ? e + " (wrong username or password?)" : e) : "no answer before gathering ended");
            _log($"{_name}: {RelayProblem}");
        }
        _log($"{_name}: gathered {candidates.Count} candidates");
        _gathered.TrySetResult(new IceEndpoint(_agent.LocalUfrag, _agent.LocalPassword, candidates));
    }

    private void End(string reason)
    {
        if (_closed.Task.IsCompleted) return;
        _up = false;
        _log($"{_name}: ended: {reason}");
        _received.Writer.TryComplete();
        _gathered.TrySetException(new IceLinkFailedException(reason));
        _connected.TrySetException(new IceLinkFailedException(reason));
        _closed.TrySetResult(reason);
    }

    /// <summary>Closes the link: releases the TURN allocation, stops the loop, closes the sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        Post(new Item.Close());
        try { await _loopDone.Task.WaitAsync(DisposeBound); }
        catch (TimeoutException) { _log($"{_name}: the loop did not stop within {DisposeBound.TotalSeconds} s"); }
        _sockets.Dispose();
    }
}

/// <summary>The link ended before the awaited step; Message says why.</summary>
public sealed class IceLinkFailedException(string reason) : Exception(reason);
