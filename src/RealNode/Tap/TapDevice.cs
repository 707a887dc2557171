// A Linux tap device (layer 2: whole Ethernet frames, IFF_TAP|IFF_NO_PI so there is no packet
// information header) opened through /dev/net/tun, plus its configuration by ioctl on an
// AF_INET socket: MTU (SIOCSIFMTU), IPv4 address and netmask (SIOCSIFADDR, SIOCSIFNETMASK), MAC
// (SIOCSIFHWADDR) and up (SIOCSIFFLAGS). ioctl rather than the `ip` command: no process per
// call and errors with errno; `ip link/addr` does the same for an operator who wants it by hand.
// The device is not persistent: it disappears when Dispose closes the descriptor.
// Threads: frames are read on one dedicated thread (StartReading) that blocks in poll() on the
// tap and on a wake-up pipe, so Dispose can stop it at once; WriteFrame may be called from any
// thread (each write(2) on a tap is one whole frame). Every failure is a TapException with a
// message that says what to do (not root, no /dev/net/tun, name taken).
using System.Net;
using static EdgeVpn.RealNode.Tap.LinuxNative;

namespace EdgeVpn.RealNode.Tap;

public delegate void TapFrameHandler(ReadOnlySpan<byte> frame);

public sealed class TapDevice : IDisposable
{
    public const string TunPath = "/dev/net/tun";
    /// <summary>Ethernet header plus the largest MTU we accept (jumbo frames) plus a VLAN tag.</summary>
    public const int FrameBytesMax = 14 + 9000 + 4;
    public const int MtuMin = 576, MtuMax = 9000;

    private readonly int _fd;
    private readonly int[] _wake = new int[2];
    private readonly Lock _gate = new();
    private Thread? _reader;
    private bool _disposed;
    private long _framesRead, _framesWritten, _writeErrors;

    public string Name { get; }
    public long FramesRead => Interlocked.Read(ref _framesRead);
    public long FramesWritten => Interlocked.Read(ref _framesWritten);
    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    private TapDevice(int fd, string name)
    {
        _fd = fd;
        Name = name;
        if (pipe2(_wake, O_CLOEXEC | O_NONBLOCK) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            close(fd);
            throw new TapException($"tap {name}: pipe2 failed: {Describe(errno)}", errno);
        }
    }

    /// <summary>Creates (or attaches to) tap device name; "edgevpn%d" lets the kernel number it.</summary>
    public static TapDevice Create(string name)
    {
        if (!OperatingSystem.IsLinux()) throw new TapException("tap devices are supported on Linux only");
        if (string.IsNullOrEmpty(name) || name.Length > IfReq.NameBytesMax || name.Any(c => c is '/' or ' ' or ':' || char.IsControl(c) || c > 127))
            throw new TapException($"'{name}' is not a valid interface name (1..{IfReq.NameBytesMax} ASCII characters, no '/', ':' or spaces)");
        int fd = open(TunPath, O_RDWR | O_CLOEXEC);
        if (fd < 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new TapException(errno switch
            {
                ENOENT or ENODEV or ENXIO => $"{TunPath} does not exist: load the tun module (modprobe tun), or in a container pass the device (docker run --device /dev/net/tun --cap-add NET_ADMIN); {Describe(errno)}",
                EACCES or EPERM => $"cannot open {TunPath}: permission denied; run edgevpn as root or grant it CAP_NET_ADMIN (setcap cap_net_admin+ep <binary>); {Describe(errno)}",
                _ => $"cannot open {TunPath}: {Describe(errno)}",
            }, errno);
        }
        var request = new IfReq(name) { Flags = IFF_TAP | IFF_NO_PI };
        if (ioctl(fd, TUNSETIFF, request.Raw) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            close(fd);
            throw new TapException(errno switch
            {
                EPERM or EACCES => $"creating tap '{name}' needs CAP_NET_ADMIN: run edgevpn as root or grant the capability (setcap cap_net_admin+ep <binary>); {Describe(errno)}",
                EBUSY => $"tap '{name}' is in use by another process, or '{name}' names a device that is not a tap: choose another tap name; {Describe(errno)}",
                EINVAL => $"'{name}' exists and is not a tap device (or the name is invalid): choose another tap name; {Describe(errno)}",
                _ => $"TUNSETIFF for tap '{name}' failed: {Describe(errno)}",
            }, errno);
        }
        int end = Array.IndexOf(request.Raw, (byte)0, 0, IfReq.NameBytesMax + 1);
        return new TapDevice(fd, System.Text.Encoding.ASCII.GetString(request.Raw, 0, end < 0 ? IfReq.NameBytesMax : end));
    }

    public void SetMtu(int mtu)
    {
        if (mtu is < MtuMin or > MtuMax) throw new TapException($"tap {Name}: MTU {mtu} is outside [{MtuMin}, {MtuMax}]");
        InterfaceIoctl(SIOCSIFMTU, new IfReq(Name) { Int = mtu }, $"set MTU {mtu}");
    }

    public int GetMtu()
    {
        var request = new IfReq(Name);
        InterfaceIoctl(SIOCGIFMTU, request, "read the MTU");
        return request.Int;
    }

    /// <summary>Assigns an IPv4 address with its prefix length (e.g. 10.10.0.1/24).</summary>
    public void SetIPv4(IPAddress address, int prefixLength)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) throw new TapException($"tap {Name}: {address} is not an IPv4 address");
        if (prefixLength is < 1 or > 32) throw new TapException($"tap {Name}: prefix length {prefixLength} is outside [1, 32]");
        var set = new IfReq(Name);
        set.SetIPv4(address);
        InterfaceIoctl(SIOCSIFADDR, set, $"set address {address}");
        uint mask = prefixLength == 32 ? uint.MaxValue : ~(uint.MaxValue >> prefixLength);
        var netmask = new IfReq(Name);
        netmask.SetIPv4(new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(mask)));
        InterfaceIoctl(SIOCSIFNETMASK, netmask, $"set netmask /{prefixLength}");
    }

    /// <summary>The 48-bit MAC as a number (a:b:c:d:e:f = a<<40 | ... | f).</summary>
    public ulong GetMac()
    {
        var request = new IfReq(Name);
        InterfaceIoctl(SIOCGIFHWADDR, request, "read the MAC address");
        ulong mac = 0;
        foreach (byte b in request.HardwareAddress) mac = mac << 8 | b;
        return mac;
    }

    /// <summary>Sets the MAC (must be unicast); do it before bringing the device up.</summary>
    public void SetMac(ulong mac)
    {
        if ((mac >> 40 & 1) != 0) throw new TapException($"tap {Name}: {mac:x12} is a group (multicast) address, not a unicast MAC");
        var request = new IfReq(Name) { HardwareFamily = ARPHRD_ETHER };
        for (int i = 0; i < 6; i++) request.HardwareAddress[i] = (byte)(mac >> (40 - 8 * i));
        InterfaceIoctl(SIOCSIFHWADDR, request, "set the MAC address");
    }

    public void SetUp(bool up = true)
    {
        var request = new IfReq(Name);
        InterfaceIoctl(SIOCGIFFLAGS, request, "read the flags");
        request.Flags = up ? (short)(request.Flags | IFF_UP | IFF_RUNNING) : (short)(request.Flags & ~IFF_UP);
        InterfaceIoctl(SIOCSIFFLAGS, request, up ? "bring it up" : "bring it down");
    }

    private void InterfaceIoctl(ulong request, IfReq ifreq, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int sock = socket(AF_INET, SOCK_DGRAM, 0);
        if (sock < 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new TapException($"tap {Name}: cannot open a configuration socket to {what}: {Describe(errno)}", errno);
        }
        try
        {
            if (ioctl(sock, request, ifreq.Raw) == 0) return;
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new TapException(errno is EPERM or EACCES
                ? $"tap {Name}: cannot {what}: permission denied; run edgevpn as root or grant it CAP_NET_ADMIN; {Describe(errno)}"
                : $"tap {Name}: cannot {what}: {Describe(errno)}", errno);
        }
        finally { close(sock); }
    }

    /// <summary>Writes one whole Ethernet frame; false (counted) when the kernel refuses it.</summary>
    public bool WriteFrame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14 || frame.Length > FrameBytesMax) { Interlocked.Increment(ref _writeErrors); return false; }
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(frame.Length);
        try
        {
            frame.CopyTo(buffer);
            lock (_gate)
            {
                if (_disposed) return false;
                if (write(_fd, buffer, frame.Length) == frame.Length) { Interlocked.Increment(ref _framesWritten); return true; }
            }
            Interlocked.Increment(ref _writeErrors);
            return false;
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Starts the reader thread: every frame the kernel sends out of the device goes to handler, once.</summary>
    public void StartReading(TapFrameHandler handler, Action<string>? log = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_reader is not null) throw new InvalidOperationException($"tap {Name} is already being read");
            _reader = new Thread(() => ReadLoop(handler, log)) { IsBackground = true, Name = "tap-" + Name };
            _reader.Start();
        }
    }

    private void ReadLoop(TapFrameHandler handler, Action<string>? log)
    {
        var buffer = new byte[FrameBytesMax];
        var fds = new PollFd[] { new() { Fd = _fd, Events = POLLIN }, new() { Fd = _wake[0], Events = POLLIN } };
        while (true)
        {
            fds[0].Revents = fds[1].Revents = 0;
            if (poll(fds, 2, -1) < 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                log?.Invoke($"tap {Name}: poll failed, reader stops: {Describe(errno)}");
                return;
            }
            if (fds[1].Revents != 0) return;  // Dispose
            if ((fds[0].Revents & POLLIN) == 0)
            {
                log?.Invoke($"tap {Name}: device error (poll events 0x{fds[0].Revents:x}), reader stops");
                return;
            }
            nint n = read(_fd, buffer, buffer.Length);
            if (n < 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno is EINTR or EAGAIN) continue;
                log?.Invoke($"tap {Name}: read failed, reader stops: {Describe(errno)}");
                return;
            }
            Interlocked.Increment(ref _framesRead);
            handler(buffer.AsSpan(0, (int)n));
        }
    }

    public void Dispose()
    {
        Thread? reader;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            reader = _reader;
        }
        write(_wake[1], [1], 1);
        if (reader is not null && reader != Thread.CurrentThread) reader.Join();
        close(_fd);
        close(_wake[0]);
        close(_wake[1]);
    }
}
