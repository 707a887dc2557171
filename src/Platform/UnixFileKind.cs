// What kind of file a path names (regular file, socket, FIFO, device, ...) and who owns it. .NET
// has no public API for it: FileSystemInfo.Attributes calls a socket or a FIFO "Normal" like a
// regular file (dotnet/runtime#62868) and UnixFileMode holds only the permission bits. So this
// asks statx(2) (Linux, glibc 2.28+), whose struct has one layout on every architecture, unlike
// stat(2): stx_uid, stx_gid and the 16-bit stx_mode at bytes 20, 24 and 28. Of does not follow a
// symbolic link (a link is not the file it names: the node must never delete or chmod what a link
// points to); Stat can. Anything statx cannot tell is Unknown, which callers treat as "not ours
// to touch". Used by the node (control socket, trace file) and the simulator (--csv tables).
using System.Runtime.InteropServices;

namespace EdgeVpn.Platform;

public enum UnixFileKind { Missing, Regular, Directory, SymbolicLink, Socket, Fifo, CharacterDevice, BlockDevice, Unknown }

/// <summary>What statx said of a path: its kind and its owner (Uid, Gid 0 unless Kind is known).</summary>
public readonly record struct UnixFileStatus(UnixFileKind Kind, uint Uid, uint Gid);

public static class UnixFileKinds
{
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxUid = 0x8, StatxGid = 0x10;
    private const int StatxBytes = 256, UidOffset = 20, GidOffset = 24, ModeOffset = 28;
    private const int ENOENT = 2, ENOTDIR = 20;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    /// <summary>The kind of file at path; a symbolic link is not followed.</summary>
    public static UnixFileKind Of(string path) => Stat(path, followLinks: false).Kind;

    /// <summary>The kind and owner of the file at path, following symbolic links when asked.</summary>
    public static UnixFileStatus Stat(string path, bool followLinks)
    {
        if (!OperatingSystem.IsLinux()) return new(UnixFileKind.Unknown, 0, 0);
        var buffer = new byte[StatxBytes];
        try
        {
            if (statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxUid | StatxGid, buffer) != 0)
                return new(Marshal.GetLastPInvokeError() is ENOENT or ENOTDIR ? UnixFileKind.Missing : UnixFileKind.Unknown, 0, 0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return new(UnixFileKind.Unknown, 0, 0);   // a libc without statx: refuse rather than guess
        }
        if ((BitConverter.ToUInt32(buffer, 0) & StatxType) == 0) return new(UnixFileKind.Unknown, 0, 0);
        var kind = (BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000) switch
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
        return new(kind, BitConverter.ToUInt32(buffer, UidOffset), BitConverter.ToUInt32(buffer, GidOffset));
    }

    /// <summary>"a regular file", "a directory", ... for error messages.</summary>
    public static string Describe(UnixFileKind kind) => kind switch
    {
        UnixFileKind.Regular => "a regular file",
        UnixFileKind.Directory => "a directory",
        UnixFileKind.SymbolicLink => "a symbolic link",
        UnixFileKind.Socket => "a socket",
        UnixFileKind.Fifo => "a FIFO (named pipe)",
        UnixFileKind.CharacterDevice => "a character device",
        UnixFileKind.BlockDevice => "a block device",
        UnixFileKind.Missing => "missing",
        _ => "of a kind that cannot be checked",
    };
}
