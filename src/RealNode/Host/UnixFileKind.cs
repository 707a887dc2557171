// What kind of file a path names (regular file, socket, device, ...). .NET has no public API for
// it: FileSystemInfo.Attributes calls a socket "Normal" like a regular file (dotnet/runtime#62868)
// and UnixFileMode holds only the permission bits. So this asks statx(2) (Linux, glibc 2.28+),
// whose struct has one layout on every architecture, unlike stat(2): stx_mode is a 16-bit field
// at byte 28. A symbolic link is not followed: a link is not the file it names, and a node must
// never delete or chmod what a link points to. Anything statx cannot tell is Unknown, which
// callers treat as "not ours to touch".
using System.Runtime.InteropServices;

namespace EdgeVpn.RealNode.Host;

public enum UnixFileKind { Missing, Regular, Directory, SymbolicLink, Socket, Fifo, CharacterDevice, BlockDevice, Unknown }

public static class UnixFileKinds
{
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxBytes = 256, ModeOffset = 28;
    private const int ENOENT = 2, ENOTDIR = 20;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    public static UnixFileKind Of(string path)
    {
        if (!OperatingSystem.IsLinux()) return UnixFileKind.Unknown;
        var buffer = new byte[StatxBytes];
        try
        {
            if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
                return Marshal.GetLastPInvokeError() is ENOENT or ENOTDIR ? UnixFileKind.Missing : UnixFileKind.Unknown;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return UnixFileKind.Unknown;   // a libc without statx: refuse rather than guess
        }
        if ((BitConverter.ToUInt32(buffer, 0) & StatxType) == 0) return UnixFileKind.Unknown;
        return (BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000) switch
        {
            0x8000 => UnixFileKind.Regular,
            0x4000 => UnixFileKind.Directory,
            0xA000 => UnixFileKind.SymbolicLink,
            0xC000 => UnixFileKind.Socket,
            0x1000 => UnixFileKind.Fifo,
            0x2000 => UnixFileKind.CharacterDevice,
            0x6000 => UnixFileKind.BlockDevice,
            _ => UnixFileKind.Unknown,
        };
    }

    /// <summary>"a regular file", "a directory", ... for error messages.</summary>
    public static string Describe(UnixFileKind kind) => kind switch
    {
        UnixFileKind.Regular => "a regular file",
        UnixFileKind.Directory => "a directory",
        UnixFileKind.SymbolicLink => "a symbolic link",
        UnixFileKind.Socket => "a socket",
        UnixFileKind.Fifo => "a named pipe",
        UnixFileKind.CharacterDevice => "a character device",
        UnixFileKind.BlockDevice => "a block device",
        UnixFileKind.Missing => "missing",
        _ => "of a kind that cannot be checked",
    };
}
