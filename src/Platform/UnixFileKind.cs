// What kind of file a path names (regular file, socket, FIFO, device, ...), who owns it, which
// file it is and how many names it has. .NET has no public API for it: FileSystemInfo.Attributes
// calls a socket or a FIFO "Normal" like a regular file (dotnet/runtime#62868), UnixFileMode holds
// only the permission bits, and nothing gives an inode or a link count. So this asks statx(2)
// (Linux, glibc 2.28+), whose struct has one layout on every architecture, unlike stat(2):
// stx_nlink, stx_uid, stx_gid, the 16-bit stx_mode, stx_ino and stx_size at bytes 16, 20, 24, 28,
// 32 and 40, stx_dev_major and stx_dev_minor at 136 and 140. Of does not follow a symbolic link (a
// link is not the file it names: the node must never delete or chmod what a link points to); Stat
// can, and Stat of an open handle asks about the file that handle has open, whatever its path now
// names. Anything statx cannot tell is Unknown, which callers treat as "not ours to touch". Used by
// the node (control socket, trace file) and the simulator (--csv tables).
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeVpn.Platform;

public enum UnixFileKind { Missing, Regular, Directory, SymbolicLink, Socket, Fifo, CharacterDevice, BlockDevice, Unknown }

/// <summary>Which file: equal for two names of one file (hard links, or a path and a handle open on
/// it), different once another file is renamed over the name.</summary>
public readonly record struct UnixFileId(ulong Device, ulong Inode);

/// <summary>What statx said of a file: its kind and its owner (Uid, Gid), which file it is, how many
/// names (hard links) it has and its size in bytes; all 0 unless Kind is known.</summary>
public readonly record struct UnixFileStatus(UnixFileKind Kind, uint Uid, uint Gid)
{
    public UnixFileId Id { get; init; }
    public uint Links { get; init; }
    public long Size { get; init; }
}

public static class UnixFileKinds
{
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxNlink = 0x4, StatxUid = 0x8, StatxGid = 0x10, StatxIno = 0x100, StatxSize = 0x200;
    private const uint StatxAsked = StatxType | StatxNlink | StatxUid | StatxGid | StatxIno | StatxSize;
    private const int StatxBytes = 256, NlinkOffset = 16, UidOffset = 20, GidOffset = 24, ModeOffset = 28, InoOffset = 32, SizeOffset = 40, DevMajorOffset = 136, DevMinorOffset = 140;
    private const int ENOENT = 2, ENOTDIR = 20;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    /// <summary>The kind of file at path; a symbolic link is not followed.</summary>
    public static UnixFileKind Of(string path) => Stat(path, followLinks: false).Kind;

    /// <summary>The kind, owner, identity, links and size of the file at path, following symbolic
    /// links when asked.</summary>
    public static UnixFileStatus Stat(string path, bool followLinks) => Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow);

    /// <summary>The same of the file an open handle has open (fstat): still that file after another
    /// is renamed over its path.</summary>
    public static UnixFileStatus Stat(SafeFileHandle file)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Statx((int)file.DangerousGetHandle(), "", AtEmptyPath);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    private static UnixFileStatus Statx(int dirfd, string path, int flags)
    {
        if (!OperatingSystem.IsLinux()) return new(UnixFileKind.Unknown, 0, 0);
        var buffer = new byte[StatxBytes];
        try
        {
            if (statx(dirfd, path, flags, StatxAsked, buffer) != 0)
                return new(Marshal.GetLastPInvokeError() is ENOENT or ENOTDIR ? UnixFileKind.Missing : UnixFileKind.Unknown, 0, 0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return new(UnixFileKind.Unknown, 0, 0);   // a libc without statx: refuse rather than guess
        }
        uint mask = BitConverter.ToUInt32(buffer, 0);
        if ((mask & StatxType) == 0) return new(UnixFileKind.Unknown, 0, 0);
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
        // A field the file system did not fill stays 0: callers comparing identities then see no
        // match (an inode of 0 is never a file's), which is the safe answer.
        ulong Field64(uint bit, int offset) => (mask & bit) != 0 ? BitConverter.ToUInt64(buffer, offset) : 0;
        ulong device = ((ulong)BitConverter.ToUInt32(buffer, DevMajorOffset) << 32) | BitConverter.ToUInt32(buffer, DevMinorOffset);
        return new(kind, BitConverter.ToUInt32(buffer, UidOffset), BitConverter.ToUInt32(buffer, GidOffset))
        {
            Id = new(device, Field64(StatxIno, InoOffset)),
            Links = (mask & StatxNlink) != 0 ? BitConverter.ToUInt32(buffer, NlinkOffset) : 0,
            Size = (long)Field64(StatxSize, SizeOffset),
        };
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
