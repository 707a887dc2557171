// The Ice section's STUN and TURN servers as currently resolved, kept current while the node
// runs. Each new link setup reads Current (IceDtlsTransportOptions.Servers); links already up keep
// the agent they were set up with. A node booted before DNS worked (testbeds, systemd order) used
// to run for ever without the servers whose names failed at start, and never followed a server
// whose address changed.
//   - First pass (ResolveAllAsync, at start): every name at once, all within ResolveTimeout (names
//     looked up one after another held the start ~10 s per name with an unreachable DNS server).
//   - A name that fails is looked up again after RetryDelayFirst, doubling up to RetryDelayMax
//     (Backoff.Exponential, seeded jitter), until it resolves. Its warning is logged at the first
//     failure and once more when the delay reaches its bound, not at every retry; when it resolves
//     one Info line says so, and new links use it.
//   - A name that resolved is looked up again every RefreshInterval (jittered, so that nodes do not
//     ask in step): a new address is logged and used for new links; a failed refresh keeps the last
//     good address (warned once) and is retried with the back-off above.
//   - Of several addresses the one in use is kept while it is among them (round-robin DNS would
//     otherwise "change" it at every refresh); else the first IPv4 address, else the first.
//   - TURN: the agent allocates on one relay, so the first listed TURN server with an address is
//     used; an earlier-listed one that resolves later takes over for new links (it is listed first
//     for a reason), and the log says so.
//   - Every lookup ends within ResolveTimeout (WaitAsync: a resolver that ignores its token still
//     ends there); the names due in one round are looked up at once.
//   - RunAsync ends at once when cancelled (node stop) and does not throw then.
// Rounds run one at a time: RunAsync's loop, or a test calling LookUpDueAsync; Current may be read
// from any thread. Time is the TimeProvider's monotonic clock (an NTP step at boot must not stall
// the retries), jitter a DeterministicRandom the caller forks from the node's seed. Log lines never
// contain a password.
using System.Net;
using System.Net.Sockets;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Host;

namespace EdgeVpn.RealNode.Link;

/// <summary>Looks a host name up (Dns.GetHostAddressesAsync in the node; a fake in tests).</summary>
public delegate Task<IPAddress[]> NameResolver(string host, CancellationToken ct);

public sealed class ServerAddressBook
{
    /// <summary>How long one round of lookups (the names due together) may take.</summary>
    public static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);
    /// <summary>The delay before looking a failed name up again; doubles per failure in a row.</summary>
    public static readonly TimeSpan RetryDelayFirst = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan RetryDelayMax = TimeSpan.FromMinutes(5);
    /// <summary>How often a name that resolved is looked up again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);
    /// <summary>Retry and refresh delays are scaled by a factor in [1 - spread, 1 + spread].</summary>
    public const double JitterSpread = 0.2;

    public static readonly NameResolver SystemResolver = (host, ct) => Dns.GetHostAddressesAsync(host, ct);

    private sealed record Field(string Label, ServerAddress Server, int? TurnIndex);

    private sealed class Name(string host)
    {
        public string Host { get; } = host;
        public List<Field> Fields { get; } = [];
        public IPAddress? Address { get; set; }
        /// <summary>Failed lookups in a row.</summary>
        public int Failures { get; set; }
        /// <summary>On the book's clock (time since it was made).</summary>
        public TimeSpan DueAt { get; set; }
    }

    private enum Change { None, Resolved, Moved, Recovered, Failed, FailedAtBound }

    private sealed record Lookup(IPAddress[]? Addresses, string? Problem);

    private readonly IceSettings _ice;
    private readonly HostLog _log;
    private readonly NameResolver _resolve;
    private readonly TimeProvider _time;
    private readonly DeterministicRandom _random;
    private readonly long _epoch;
    private readonly List<Name> _names = [];   // in config order: logs and rounds keep it
    private readonly Dictionary<string, Name> _byHost = new(StringComparer.Ordinal);   // lookup only, never iterated
    private IceServers _current;
    private int? _turnIndex;
    private bool _started;

    public ServerAddressBook(IceSettings ice, HostLog log, NameResolver resolve, TimeProvider time, DeterministicRandom random)
    {
        _ice = ice;
        _log = log;
        _resolve = resolve;
        _time = time;
        _random = random;
        _epoch = time.GetTimestamp();
        for (int i = 0; i < ice.Stun.Count; i++) Add(new Field($"Ice.Stun[{i}]", ice.Stun[i], null));
        for (int i = 0; i < ice.Turn.Count; i++) Add(new Field($"Ice.Turn[{i}].Address", ice.Turn[i].Address, i));
        _current = Compute(out _turnIndex);
    }

    private void Add(Field field)
    {
        if (IPAddress.TryParse(field.Server.Host, out _)) return;   // a literal needs no lookup
        if (!_byHost.TryGetValue(field.Server.Host, out var name))
        {
            name = new Name(field.Server.Host);
            _byHost.Add(name.Host, name);
            _names.Add(name);
        }
        name.Fields.Add(field);
    }

    /// <summary>The servers a link set up now uses. Thread-safe.</summary>
    public IceServers Current => Volatile.Read(ref _current);

    /// <summary>What links can use now against what the config lists, for the node's start line
    /// (a name that failed at start is still counted as configured, and said to be retried, so the
    /// line does not read as if it were forgotten).</summary>
    public string Summary
    {
        get
        {
            var now = Current;
            string stun = $"{now.Stun.Count} of {_ice.Stun.Count} STUN server{(_ice.Stun.Count == 1 ? "" : "s")}";
            string turn = _ice.Turn.Count == 0 ? "no TURN server"
                : _turnIndex is { } i ? $"TURN Ice.Turn[{i}] of {_ice.Turn.Count}"
                : $"none of {_ice.Turn.Count} TURN server{(_ice.Turn.Count == 1 ? "" : "s")}";
            bool missing = _names.Any(n => n.Address is null);
            return $"{stun}, {turn} resolved"
                + (missing ? $"; the others are looked up again from {RetryDelayFirst.TotalSeconds:0} s, doubling to {RetryDelayMax.TotalMinutes:0} min" : "");
        }
    }

    /// <summary>How long until the next name is due (zero: now); null when no server is named.</summary>
    public TimeSpan? NextLookupIn => _names.Count == 0 ? null : TimeSpan.FromTicks(Math.Max(0, (_names.Min(n => n.DueAt) - Now).Ticks));

    private TimeSpan Now => _time.GetElapsedTime(_epoch);

    /// <summary>The first pass: every name, all within ResolveTimeout, then the TURN server in use
    /// logged. Throws OperationCanceledException only when ct is cancelled.</summary>
    public async Task ResolveAllAsync(CancellationToken ct)
    {
        if (_names.Count > 0)
        {
            _log(XmppLogLevel.Info, $"resolving {_names.Count} STUN/TURN server name{(_names.Count == 1 ? "" : "s")} (at most {ResolveTimeout.TotalSeconds:0.#} s): {string.Join(", ", _names.Select(n => n.Host))}");
            await LookUpAsync(_names, ct);
        }
        _started = true;
        if (_turnIndex is { } i)
        {
            int unused = _ice.Turn.Count - i - 1;
            _log(XmppLogLevel.Info, $"TURN server: Ice.Turn[{i}] {_ice.Turn[i].Address} ({Current.Turn!.Server})"
                + (i > 0 ? ", the first that resolves" : "")
                + (unused > 0 ? $"; {unused} more not used (the agent allocates on one relay)" : ""));
        }
    }

    /// <summary>Looks up again the names that are due; nothing when none is. Throws
    /// OperationCanceledException only when ct is cancelled.</summary>
    public Task LookUpDueAsync(CancellationToken ct)
    {
        var now = Now;
        var due = _names.Where(n => n.DueAt <= now).ToList();
        return due.Count == 0 ? Task.CompletedTask : LookUpAsync(due, ct);
    }

    /// <summary>Looks names up again, each when due, until ct is cancelled; then ends at once
    /// without throwing. Ends at once when no server is named.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (NextLookupIn is { } wait)
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _time, ct);
                await LookUpDueAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private async Task LookUpAsync(List<Name> names, CancellationToken ct)
    {
        if (_started) _log(XmppLogLevel.Debug, $"looking up again: {string.Join(", ", names.Select(n => n.Host))}");
        Lookup[] results;
        using (var bound = new CancellationTokenSource(ResolveTimeout, _time))
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, bound.Token))
            results = await Task.WhenAll(names.Select(n => LookUpOneAsync(n.Host, deadline.Token)));
        ct.ThrowIfCancellationRequested();

        var now = Now;
        var changes = new Change[names.Count];
        var previous = new IPAddress?[names.Count];
        for (int k = 0; k < names.Count; k++)
        {
            previous[k] = names[k].Address;
            changes[k] = Apply(names[k], results[k], now);
        }
        int? turnBefore = _turnIndex;
        Volatile.Write(ref _current, Compute(out _turnIndex));
        // Logged once the new set is in place, so that a line saying "used from the next link
        // setup" is true when it is read.
        for (int k = 0; k < names.Count; k++)
            foreach (var field in names[k].Fields) Report(field, names[k], changes[k], previous[k], results[k].Problem);
        if (_started && _turnIndex is { } i && _turnIndex != turnBefore)
            _log(XmppLogLevel.Info, $"TURN server from the next link setup: Ice.Turn[{i}] {_ice.Turn[i].Address} ({Current.Turn!.Server})"
                + (turnBefore is { } j ? $", listed before Ice.Turn[{j}] (used until now)" : ""));
    }

    private Change Apply(Name name, Lookup result, TimeSpan now)
    {
        if (result.Addresses is not { } addresses)
        {
            name.Failures++;
            var delay = Backoff.Exponential(name.Failures, RetryDelayFirst, RetryDelayMax);
            name.DueAt = now + _random.Jitter(delay, JitterSpread);
            if (name.Failures == 1) return Change.Failed;
            bool boundReached = delay == RetryDelayMax && Backoff.Exponential(name.Failures - 1, RetryDelayFirst, RetryDelayMax) < RetryDelayMax;
            return boundReached ? Change.FailedAtBound : Change.None;
        }
        var old = name.Address;
        var chosen = old is not null && addresses.Contains(old) ? old
            : addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        bool hadFailed = name.Failures > 0;
        name.Address = chosen;
        name.Failures = 0;
        name.DueAt = now + _random.Jitter(RefreshInterval, JitterSpread);
        if (old is null) return _started ? Change.Resolved : Change.None;   // the first pass's successes: the TURN line
        if (!old.Equals(chosen)) return Change.Moved;
        return hadFailed ? Change.Recovered : Change.None;
    }

    private void Report(Field field, Name name, Change change, IPAddress? previous, string? problem)
    {
        string label = field.Label, host = name.Host;
        string retries = $"looked up again after {Words(RetryDelayFirst)}, backing off to {Words(RetryDelayMax)}";
        (XmppLogLevel Level, string Text)? line = change switch
        {
            Change.Failed when previous is null => (XmppLogLevel.Warning, $"{label}: {host} {problem}; server skipped until it resolves ({retries})"),
            Change.Failed => (XmppLogLevel.Warning, $"{label}: {host} {problem}; keeping {previous} ({retries})"),
            Change.FailedAtBound => (XmppLogLevel.Warning, $"{label}: {host} failed {name.Failures} lookups in a row (last: {problem}); "
                + (previous is null ? "still skipped" : $"still keeping {previous}") + $", looked up every {Words(RetryDelayMax)} from now on"),
            Change.Resolved => (XmppLogLevel.Info, $"{label} {host} resolved to {name.Address}; {Use(field)}"),
            Change.Moved => (XmppLogLevel.Info, $"{label} {host} now resolves to {name.Address} (was {previous}); {Use(field)}"),
            Change.Recovered => (XmppLogLevel.Info, $"{label} {host} resolves again, to {name.Address} (kept meanwhile)"),
            _ => null,
        };
        if (line is { } l) _log(l.Level, l.Text);
    }

    private string Use(Field field) => field.TurnIndex is not { } i || i == _turnIndex
        ? "used from the next link setup"
        : $"a fallback while Ice.Turn[{_turnIndex}] is used (the agent allocates on one relay)";

    private IceServers Compute(out int? turnIndex)
    {
        var stun = new List<IPEndPoint>();
        foreach (var s in _ice.Stun)
            if (AddressOf(s) is { } a) stun.Add(new IPEndPoint(a, s.Port));
        for (int i = 0; i < _ice.Turn.Count; i++)
        {
            var t = _ice.Turn[i];
            if (AddressOf(t.Address) is not { } a) continue;
            turnIndex = i;
            return new IceServers(stun, new IceTurnServer(new IPEndPoint(a, t.Address.Port), t.User, t.Password.Reveal()));
        }
        turnIndex = null;
        return new IceServers(stun, null);
    }

    private IPAddress? AddressOf(ServerAddress server) =>
        IPAddress.TryParse(server.Host, out var literal) ? literal : _byHost[server.Host].Address;

    /// <summary>Never throws: a failure, the bound or cancellation is a Problem.</summary>
    private async Task<Lookup> LookUpOneAsync(string host, CancellationToken ct)
    {
        try
        {
            // WaitAsync: a resolver that does not heed the token still ends here at the bound.
            var addresses = await _resolve(host, ct).WaitAsync(ct);
            return addresses.Length > 0 ? new Lookup(addresses, null) : new Lookup(null, "has no address");
        }
        catch (SocketException e) { return new Lookup(null, $"cannot be resolved ({e.SocketErrorCode})"); }
        catch (OperationCanceledException) { return new Lookup(null, $"was not resolved within {Words(ResolveTimeout)}"); }
        catch (ArgumentException e) { return new Lookup(null, $"cannot be resolved ({e.Message})"); }
        // Anything else a resolver throws is a failed lookup too: the loop must outlive it.
        catch (Exception e) { return new Lookup(null, $"cannot be resolved ({e.GetType().Name}: {e.Message})"); }
    }

    private static string Words(TimeSpan d) => d < TimeSpan.FromMinutes(2) ? $"{d.TotalSeconds:0.#} s" : $"{d.TotalMinutes:0.#} min";
}
