// `edgevpn node --config FILE`: runs one node until SIGINT/SIGTERM.
//   1. the config is parsed; every problem is printed as "FILE: Section.Field: problem", exit 2;
//   2. the node id (generated when the config has none) and seed are printed, never a password;
//   3. SIGINT/SIGTERM handlers are installed before anything that can take time (STUN/TURN names
//      are resolved within ServerAddressBook.ResolveTimeout), so a signal during start leaves, exit 0;
//   4. the host loop (NodeHost) starts with the XMPP client bound to it and the control socket,
//      and the STUN/TURN names are looked up again while the node runs (ServerAddressBook: a name
//      that failed at start is retried, a changed address followed; each new link reads them);
//   5. on SIGINT/SIGTERM the node leaves gracefully: the lookups stop at once, Leave (links
//      closed), then the XMPP session is stopped (unavailable presence), then the loop; exit 0.
// If the XMPP session gives up (the server refused the password, another client took the
// address over) the node exits with 2, and its last line says why at any log level.
// Shutdown follows the events' own path (XMPP client → pump → host loop), each stage ending
// before the next is stopped, so every line queued on the way is logged before the node exits
// (cancelling all three at once dropped the reason signaling stopped, or "stopped: leaving").
// Links are ICE (the Ice section's STUN/TURN servers) with DTLS on top
// (IceDtlsLinkTransport, a fresh self-signed certificate per start); with a Tap section the
// node's local port is that tap device (TapPort), else frames delivered locally are dropped.
// A tap that cannot be made (not root, no /dev/net/tun, MTU too large for the link datagram)
// exits with 2 and the reason.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.RealNode.Config;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Host;
using EdgeVpn.RealNode.Link;
using EdgeVpn.RealNode.Tap;
using EdgeVpn.Protocol.Xmpp;
using EdgeVpn.RealNode.Xmpp;

namespace EdgeVpn.RealNode.Cli;

internal static class NodeCommand
{
    /// <summary>The bound of each step of leaving and stopping (links closed, XMPP goodbye, pump, loop).</summary>
    private static readonly TimeSpan LeaveGrace = TimeSpan.FromSeconds(5);

    public static Task<int> RunAsync(FileInfo configFile, CancellationToken ct) => RunAsync(configFile, ServerAddressBook.SystemResolver, ct);

    /// <summary>resolve looks up the STUN and TURN names (a fake in tests).</summary>
    internal static async Task<int> RunAsync(FileInfo configFile, NameResolver resolve, CancellationToken ct)
    {
        // First, before anything that can take time: without a handler the signal's default action
        // kills the process (exit 143) in the middle of its start.
        var shutdown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; shutdown.TrySetResult(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; shutdown.TrySetResult(); });
        using var cancelled = ct.Register(() => shutdown.TrySetResult());

        var parsed = NodeConfigParser.ParseFile(configFile.FullName);
        if (!parsed.Ok)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"edgevpn node: {configFile.Name}: {e}");
            return CliApp.ExitBadInput;
        }
        var config = parsed.Config!;
        var log = MakeLog(config.LogLevel);
        var id = config.NodeId ?? new NodeId(new UInt128(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8))));
        ulong seed = config.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

        var xmppConfig = config.Signaling.ToXmppConfig(id, config.OverlayId, seed);
        if (xmppConfig.Validate() is { Count: > 0 } problems)
        {
            foreach (var p in problems) Console.Error.WriteLine($"edgevpn node: {configFile.Name}: Signaling.{p}");
            return CliApp.ExitBadInput;
        }

        NodeTraceWriter? trace = null;
        if (config.TracePath is { } tracePath)
        {
            try { trace = NodeTraceWriter.Open(tracePath, config.TraceBytesMax, log); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"edgevpn node: {configFile.Name}: Trace.Path: cannot write {tracePath}: {e.Message}");
                return CliApp.ExitBadInput;
            }
        }
        using var traceUntilHostOwnsIt = trace;   // the host disposes it too; twice is harmless

        var servers = new ServerAddressBook(config.Ice, log, resolve, TimeProvider.System, new DeterministicRandom(seed).Fork("server names"));
        using var resolveStop = new CancellationTokenSource();
        var resolving = IceDtlsConfig.LinkOptionsAsync(config.Ice, config.Tap, servers, resolveStop.Token);
        if (await Task.WhenAny(resolving, shutdown.Task) != resolving)
        {
            await resolveStop.CancelAsync();
            log(XmppLogLevel.Info, "stopped during start");
            return CliApp.ExitOk;
        }
        var linkOptions = await resolving;
        var identity = DtlsIdentity.CreateSelfSigned(id.ToString(), TimeProvider.System.GetUtcNow());
        var transportOptions = new IceDtlsTransportOptions(linkOptions) { Log = log, Servers = () => servers.Current };

        TapPort? tapPort = null;
        if (config.Tap is { } tapSettings)
        {
            try { tapPort = TapPort.Create(tapSettings, linkOptions.DatagramBytesMax); }
            catch (TapException e)
            {
                Console.Error.WriteLine($"edgevpn node: Tap: {e.Message}");
                return CliApp.ExitBadInput;
            }
        }

        await using var client = new XmppClient(xmppConfig, config.Signaling.Trust, TimeProvider.System);
        var host = new NodeHost(
            new NodeHostOptions { NodeId = id, Seed = seed, Protocol = config.Protocol, OverlayId = config.OverlayId, Account = config.Signaling.Account.ToString(), Trace = trace, Log = log },
            events => new IceDtlsLinkTransport(events, transportOptions, identity), (ILocalPort?)tapPort ?? new NullLocalPort(),
            new XmppSignalingPort(client), TimeProvider.System);
        await using var _ = host;
        tapPort?.Start(frame => host.TryPost(new HostEvent.LocalFrame(frame)), line => log(XmppLogLevel.Warning, line));

        ControlServer control;
        try { control = ControlServer.Start(config.ControlSocket, token => host.StatusAsync(token)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"edgevpn node: Control.Socket: cannot listen on {config.ControlSocket}: {e.Message}");
            return CliApp.ExitBadInput;
        }
        await using var __ = control;

        log(XmppLogLevel.Info, $"node {id} seed {seed} overlay {config.OverlayId} account {config.Signaling.Account} server {config.Signaling.Host}:{config.Signaling.Port}; control socket {config.ControlSocket}");
        log(XmppLogLevel.Info, $"links: ICE ({servers.Summary}) with DTLS; certificate {identity.Fingerprint}");
        if (tapPort is not null && config.Tap is { } tap) log(XmppLogLevel.Info, $"tap {tapPort.Device.Name} {tap.Address}/{tap.PrefixLength} MTU {tap.Mtu}");
        else log(XmppLogLevel.Info, "no tap configured: frames delivered locally are dropped");

        using var hostStop = new CancellationTokenSource();
        using var xmppStop = new CancellationTokenSource();
        using var pumpStop = new CancellationTokenSource();
        using var lookupStop = new CancellationTokenSource();
        var hostTask = host.RunAsync(hostStop.Token);
        var lookups = servers.RunAsync(lookupStop.Token);   // ends at once when cancelled; awaited only through EndsWithin
        var xmppTask = client.RunAsync(xmppStop.Token);
        var pumpTask = XmppBinding.PumpAsync(client, host, pumpStop.Token);

        var first = await Task.WhenAny(shutdown.Task, xmppTask, hostTask);
        await lookupStop.CancelAsync();   // no link is set up from here on
        if (first == shutdown.Task)
        {
            try
            {
                await host.PostAsync(new HostEvent.Leave()).AsTask().WaitAsync(LeaveGrace);   // the loop logs "leaving"
                await host.StatusAsync().WaitAsync(LeaveGrace);   // the loop has handled Leave and sent the closes
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or ChannelClosedException) { }
            client.Stop("leaving");
        }
        else if (first == hostTask) client.Stop("the node is stopping");

        // In the events' order: the client ends (its event channel completes), the pump forwards
        // what it still holds, the loop handles all of it, then Stop. Each step bounded.
        if (!await EndsWithin(xmppTask, LeaveGrace))
        {
            // A stalled client (a server that stopped reading) does not complete its channel soon:
            // what it still holds is given up rather than waited for a second time.
            await xmppStop.CancelAsync();
            await pumpStop.CancelAsync();
        }
        else if (!await EndsWithin(pumpTask, LeaveGrace)) await pumpStop.CancelAsync();
        try { await host.PostAsync(new HostEvent.Stop()).AsTask().WaitAsync(LeaveGrace); }
        catch (Exception e) when (e is TimeoutException or ChannelClosedException) { }
        if (!await EndsWithin(hostTask, LeaveGrace)) await hostStop.CancelAsync();
        await EndsWithin(lookups, LeaveGrace);   // ended long ago (cancelled first); bounded all the same

        int exit = CliApp.ExitOk;
        if (first == xmppTask)
        {
            // The reason itself, not "see the log": at Log.Level warning the session's own
            // "stopped: ..." line (info) is not shown.
            string reason = (pumpTask.IsCompletedSuccessfully ? pumpTask.Result : null)
                ?? xmppTask.Exception?.GetBaseException().Message ?? $"in state {client.State}";
            Console.Error.WriteLine($"edgevpn node: signaling stopped: {reason}");
            exit = CliApp.ExitBadInput;
        }
        else if (first == hostTask)
        {
            Console.Error.WriteLine($"edgevpn node: the host loop ended: {hostTask.Exception?.GetBaseException().Message ?? "stopped"}");
            exit = CliApp.ExitInternalError;
        }
        // Flushed now, so that a write error's warning comes before "stopped"; on the loop's thread
        // otherwise, which has ended unless it overran its bound.
        if (hostTask.IsCompleted) trace?.Dispose();
        log(XmppLogLevel.Info, "stopped");
        return exit;
    }

    private static async Task<bool> EndsWithin(Task task, TimeSpan bound) => await Task.WhenAny(task, Task.Delay(bound)) == task;

    private static HostLog MakeLog(XmppLogLevel min)
    {
        var gate = new object();
        return (level, text) =>
        {
            if (level < min) return;
            string line = $"{TimeProvider.System.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {level.ToString().ToLowerInvariant()} {text}";
            lock (gate) Console.Error.WriteLine(line);
        };
    }
}
