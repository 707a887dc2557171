// `edgevpn node --config FILE`: runs one node until SIGINT/SIGTERM.
//   1. the config is parsed; every problem is printed as "FILE: Section.Field: problem", exit 2;
//   2. the node id (generated when the config has none) and seed are printed, never a password;
//   3. SIGINT/SIGTERM handlers are installed before anything that can take time (STUN/TURN names
//      are resolved within IceDtlsConfig.ResolveBound), so a signal during start leaves, exit 0;
//   4. the host loop (NodeHost) starts with the XMPP client bound to it and the control socket;
//   5. on SIGINT/SIGTERM the node leaves gracefully: Leave (links closed), then the XMPP
//      session is stopped (unavailable presence), then the loop; exit 0.
// If the XMPP session gives up (e.g. the server refused the password) the node exits with 2
// and the reason. Links are ICE (the Ice section's STUN/TURN servers) with DTLS on top
// (IceDtlsLinkTransport, a fresh self-signed certificate per start); with a Tap section the
// node's local port is that tap device (TapPort), else frames delivered locally are dropped.
// A tap that cannot be made (not root, no /dev/net/tun, MTU too large for the link datagram)
// exits with 2 and the reason.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
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
    private static readonly TimeSpan LeaveGrace = TimeSpan.FromSeconds(5);

    public static Task<int> RunAsync(FileInfo configFile, CancellationToken ct) => RunAsync(configFile, IceDtlsConfig.SystemResolver, ct);

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

        using var resolveStop = new CancellationTokenSource();
        var resolving = IceDtlsConfig.LinkOptionsAsync(config.Ice, config.Tap, log, resolve, IceDtlsConfig.ResolveBound, resolveStop.Token);
        if (await Task.WhenAny(resolving, shutdown.Task) != resolving)
        {
            await resolveStop.CancelAsync();
            log(XmppLogLevel.Info, "stopped during start");
            return CliApp.ExitOk;
        }
        var linkOptions = await resolving;
        var identity = DtlsIdentity.CreateSelfSigned(id.ToString(), TimeProvider.System.GetUtcNow());
        var transportOptions = new IceDtlsTransportOptions(linkOptions) { Log = log };

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
        log(XmppLogLevel.Info, $"links: ICE ({linkOptions.Ice.StunServers.Count} STUN, {(linkOptions.Ice.Turn is null ? "no" : "1")} TURN server) with DTLS; certificate {identity.Fingerprint}");
        if (tapPort is not null && config.Tap is { } tap) log(XmppLogLevel.Info, $"tap {tapPort.Device.Name} {tap.Address}/{tap.PrefixLength} MTU {tap.Mtu}");
        else log(XmppLogLevel.Info, "no tap configured: frames delivered locally are dropped");

        using var hostStop = new CancellationTokenSource();
        using var xmppStop = new CancellationTokenSource();
        var hostTask = host.RunAsync(hostStop.Token);
        var xmppTask = client.RunAsync(xmppStop.Token);
        var pumpTask = XmppBinding.PumpAsync(client, host, hostStop.Token);

        var first = await Task.WhenAny(shutdown.Task, xmppTask, hostTask);
        int exit = CliApp.ExitOk;
        if (first == shutdown.Task)
        {
            log(XmppLogLevel.Info, "leaving: closing links, then signaling");
            try
            {
                await host.PostAsync(new HostEvent.Leave());
                await host.StatusAsync().WaitAsync(LeaveGrace);   // the loop has handled Leave and sent the closes
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or System.Threading.Channels.ChannelClosedException) { }
            client.Stop("leaving");
            await Task.WhenAny(xmppTask, Task.Delay(LeaveGrace));
        }
        else if (first == xmppTask)
        {
            Console.Error.WriteLine($"edgevpn node: signaling stopped ({client.State}); see the log above for the reason");
            exit = CliApp.ExitBadInput;
        }
        else
        {
            Console.Error.WriteLine($"edgevpn node: the host loop ended: {hostTask.Exception?.GetBaseException().Message ?? "stopped"}");
            exit = CliApp.ExitInternalError;
        }
        await xmppStop.CancelAsync();
        await hostStop.CancelAsync();
        await Task.WhenAny(Task.WhenAll(hostTask, pumpTask), Task.Delay(LeaveGrace));
        log(XmppLogLevel.Info, "stopped");
        return exit;
    }

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
