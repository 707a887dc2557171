// End to end on one machine: two network namespaces, each with a tap device whose frames cross
// a DTLS link (client in one, server in the other) over an in-memory datagram pipe:
//   kernel in ns A -> tap A -> DtlsLink (AES-GCM records) -> pipe -> DtlsLink -> tap B -> kernel in ns B
// The taps are created by this process and moved into the namespaces with `ip link set netns`
// (the open descriptor keeps working), then addressed there with `ip -n`. Checked: ARP
// resolution across the link (both directions, both kernels), and a UDP echo between the
// namespaces (python3 in each, as the machine has no ping; bash's /dev/udp for the ARP case). Namespaces, devices and the echo
// process are removed afterwards, even on failure. Waits are liveness bounds.
using System.Diagnostics;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.RealNode.Dtls;
using EdgeVpn.RealNode.Tap;
using EdgeVpn.Tests.Dtls;
using Xunit;

namespace EdgeVpn.Tests.Tap;

public sealed class TapOverDtlsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Forwards frames between a tap and a link, both ways.</summary>
    private sealed class Bridge(TapDevice tap) : IDtlsLinkEvents
    {
        public void Connected(DtlsLink link) { }
        public void Down(DtlsLink link, string reason) { }
        public void FrameReceived(DtlsLink link, ReadOnlySpan<byte> frame) => tap.WriteFrame(frame);
        public void Log(DtlsLink link, string line) { }
    }

    private sealed class Setup : IDisposable
    {
        private readonly List<IDisposable> _owned = [];
        public string NsA { get; } = $"evtnsa{Environment.ProcessId % 100000}";
        public string NsB { get; } = $"evtnsb{Environment.ProcessId % 100000}";
        public string Subnet { get; } = TapTestKit.Subnet(2);
        public string TapA { get; } = TapTestKit.UniqueName();
        public string TapB { get; } = TapTestKit.UniqueName();
        public MacAddress MacA { get; } = MacAddress.Parse("02:00:5e:20:00:0a").Value;
        public MacAddress MacB { get; } = MacAddress.Parse("02:00:5e:20:00:0b").Value;
        public DtlsLink LinkA { get; }
        public DtlsLink LinkB { get; }

        public Setup()
        {
            try
            {
                Ip($"netns add {NsA}");
                Ip($"netns add {NsB}");
                var tapA = Own(TapDevice.Create(TapA));
                var tapB = Own(TapDevice.Create(TapB));
                tapA.SetMac(MacA.Value);
                tapB.SetMac(MacB.Value);
                Ip($"link set dev {TapA} netns {NsA}");
                Ip($"link set dev {TapB} netns {NsB}");
                Ip($"-n {NsA} addr add {Subnet}.1/24 dev {TapA}");
                Ip($"-n {NsB} addr add {Subnet}.2/24 dev {TapB}");
                Ip($"-n {NsA} link set {TapA} up");
                Ip($"-n {NsB} link set {TapB} up");

                var pipe = Own(new DatagramPipe(DatagramFaults.None, seed: 42));
                LinkA = Own(new DtlsLink("a", DtlsRole.Client, LinkPair.ClientIdentity, LinkPair.ServerIdentity.Fingerprint, pipe.A, new Bridge(tapA), LinkPair.FastRetransmit));
                LinkB = Own(new DtlsLink("b", DtlsRole.Server, LinkPair.ServerIdentity, LinkPair.ClientIdentity.Fingerprint, pipe.B, new Bridge(tapB), LinkPair.FastRetransmit));
                // Links before taps in _owned: they are disposed after (reverse order), so no frame
                // is written to a closed tap; the pipe goes last but one.
                tapA.StartReading(f => LinkA.TrySendFrame(f));
                tapB.StartReading(f => LinkB.TrySendFrame(f));
                LinkB.Start();
                LinkA.Start();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        private T Own<T>(T item) where T : IDisposable { _owned.Add(item); return item; }

        public void WaitConnected()
        {
            var deadline = DateTime.UtcNow + Bound;
            while (LinkA.State != DtlsLinkState.Connected || LinkB.State != DtlsLinkState.Connected)
            {
                Assert.True(DateTime.UtcNow < deadline, $"links not connected within {Bound}: {LinkA.DownReason} {LinkB.DownReason}");
                Assert.NotEqual(DtlsLinkState.Down, LinkA.State);
                Thread.Sleep(10);  // polling a state within a liveness bound, not timing anything
            }
        }

        public void Dispose()
        {
            for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
            TapTestKit.Run("ip", $"netns del {NsA}");
            TapTestKit.Run("ip", $"netns del {NsB}");
        }

        public static void Ip(string arguments)
        {
            var (code, output) = TapTestKit.Run("ip", arguments);
            if (code != 0) throw new InvalidOperationException($"ip {arguments} failed ({code}): {output}");
        }
    }

    [TapFact]
    public void Arp_resolves_across_two_namespaces_through_taps_and_a_dtls_link()
    {
        using var setup = new Setup();
        setup.WaitConnected();

        // A datagram from A to B's address makes A's kernel ask by ARP; B's kernel answers; the
        // answer must come back over the link for A to learn B's MAC.
        var (sent, why) = TapTestKit.Run("ip", $"netns exec {setup.NsA} bash -c \"echo x > /dev/udp/{setup.Subnet}.2/9\"");
        Assert.True(sent == 0, why);
        var deadline = DateTime.UtcNow + Bound;
        string? learned = null;
        while (learned is null && DateTime.UtcNow < deadline)
        {
            learned = TapTestKit.IpJson($"-n {setup.NsA} neigh show dev {setup.TapA}").EnumerateArray()
                .Where(n => n.GetProperty("dst").GetString() == setup.Subnet + ".2" && n.TryGetProperty("lladdr", out _))
                .Select(n => n.GetProperty("lladdr").GetString()).FirstOrDefault();
            if (learned is null) Thread.Sleep(10);
        }
        Assert.Equal(setup.MacB.ToString(), learned);
        Assert.True(setup.LinkA.Counters.FramesSent >= 1 && setup.LinkA.Counters.FramesReceived >= 1, setup.LinkA.Counters.ToString());
        foreach (var link in new[] { setup.LinkA, setup.LinkB })
            Assert.Equal(0, link.Counters.Dropped(FrameDrop.Forged) + link.Counters.Dropped(FrameDrop.Replayed) + link.Counters.Dropped(FrameDrop.TooOld));
    }

    [TapFact(NeedsPython3 = true)]
    public void A_udp_echo_crosses_between_the_namespaces_both_ways()
    {
        using var setup = new Setup();
        setup.WaitConnected();

        const string server = "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 7007))\nwhile True:\n    d, a = s.recvfrom(2000)\n    s.sendto(d.upper(), a)\n";
        const string client = "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(1)\ngot = set()\nfor i in range(3):\n    for attempt in range(20):\n        s.sendto(b'hello-%d' % i, (sys.argv[1], 7007))\n        try:\n            got.add(s.recvfrom(2000)[0].decode())\n        except socket.timeout:\n            continue\n        if 'HELLO-%d' % i in got:\n            break\nprint(' '.join(sorted(got)))\n";
        string dir = Directory.CreateTempSubdirectory("evt-echo").FullName;
        File.WriteAllText(Path.Combine(dir, "server.py"), server);
        File.WriteAllText(Path.Combine(dir, "client.py"), client);
        using var echo = Process.Start(new ProcessStartInfo("ip", $"netns exec {setup.NsB} python3 {dir}/server.py") { UseShellExecute = false, RedirectStandardError = true })!;
        try
        {
            var (code, output) = TapTestKit.Run("ip", $"netns exec {setup.NsA} python3 {dir}/client.py {setup.Subnet}.2");
            Assert.Equal(0, code);
            Assert.Equal("HELLO-0 HELLO-1 HELLO-2", output.Trim());
            Assert.True(setup.LinkB.Counters.FramesReceived >= 3);
        }
        finally
        {
            echo.Kill(entireProcessTree: true);
            echo.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }
    }
}
