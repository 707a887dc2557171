// The few libc calls the tap adapter needs, and the Linux constants they take (x86-64 and
// arm64 share these values). Hand-written P/Invoke: no package wraps /dev/net/tun.
// struct ifreq is 40 bytes on 64-bit Linux: ifr_name[16] then a 24-byte union (sockaddr,
// short flags, int mtu, ...); IfReq builds it in a byte array, so nothing here is unsafe.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeVpn.RealNode.Tap;

internal static class LinuxNative
{
    public const int O_RDWR = 0x2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int AF_INET = 2, SOCK_DGRAM = 2;
    public const short IFF_UP = 0x1, IFF_RUNNING = 0x40, IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;
    public const short POLLIN = 0x1;
    public const int EINTR = 4, EAGAIN = 11, ENOENT = 2, EACCES = 13, EPERM = 1, EBUSY = 16, EINVAL = 22, ENODEV = 19, ENXIO = 6;

    public const ulong TUNSETIFF = 0x400454CA;      // _IOW('T', 202, int)
    public const ulong SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    public const ulong SIOCSIFADDR = 0x8916, SIOCSIFNETMASK = 0x891C;
    public const ulong SIOCSIFMTU = 0x8922, SIOCGIFMTU = 0x8921;
    public const ulong SIOCGIFHWADDR = 0x8927, SIOCSIFHWADDR = 0x8924;
    public const ushort ARPHRD_ETHER = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)] public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] public static extern int ioctl(int fd, ulong request, byte[] argument);
    [DllImport("libc", SetLastError = true)] public static extern nint read(int fd, byte[] buffer, nint count);
    [DllImport("libc", SetLastError = true)] public static extern nint write(int fd, byte[] buffer, nint count);
    [DllImport("libc", SetLastError = true)] public static extern int poll([In, Out] PollFd[] fds, ulong nfds, int timeoutMillis);
    [DllImport("libc", SetLastError = true)] public static extern int pipe2([Out] int[] fds, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int socket(int domain, int type, int protocol);
    [DllImport("libc")] public static extern nint strerror(int errno);

    public static string Describe(int errno) => $"{Marshal.PtrToStringUTF8(strerror(errno)) ?? "error"} (errno {errno})";
}

/// <summary>A struct ifreq in a byte array.</summary>
internal sealed class IfReq
{
    public const int Bytes = 40, NameBytesMax = 15, UnionOffset = 16;
    public byte[] Raw { get; } = new byte[Bytes];

    public IfReq(string name)
    {
        int n = System.Text.Encoding.ASCII.GetBytes(name, Raw.AsSpan(0, NameBytesMax));
        Raw[n] = 0;
    }

    public short Flags
    {
        get => BinaryPrimitives.ReadInt16LittleEndian(Raw.AsSpan(UnionOffset));
        set => BinaryPrimitives.WriteInt16LittleEndian(Raw.AsSpan(UnionOffset), value);
    }

    public int Int
    {
        get => BinaryPrimitives.ReadInt32LittleEndian(Raw.AsSpan(UnionOffset));
        set => BinaryPrimitives.WriteInt32LittleEndian(Raw.AsSpan(UnionOffset), value);
    }

    /// <summary>A sockaddr_in (family in host order, port 0, address in network order).</summary>
    public void SetIPv4(System.Net.IPAddress address)
    {
        var u = Raw.AsSpan(UnionOffset, 16);
        u.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(u, LinuxNative.AF_INET);
        address.TryWriteBytes(u[4..8], out _);
    }

    /// <summary>A sockaddr with sa_family ARPHRD_ETHER and six address bytes.</summary>
    public Span<byte> HardwareAddress => Raw.AsSpan(UnionOffset + 2, 6);
    public ushort HardwareFamily
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Raw.AsSpan(UnionOffset));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(UnionOffset), value);
    }
}
