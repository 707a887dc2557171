// A file opened under an exclusive flock(2), for a writer that reads, checks and rewrites a file
// other processes write too: the --csv tables, which parallel runs share (CsvTable). Contract:
//  - Open waits for the lock at most `wait`, then throws TimeoutException. flock has no timeout of
//    its own (a blocking one could only be cut short by a signal), so the wait polls LOCK_NB,
//    sleeping 1 ms, then twice as long each time, at most PollMsMax;
//  - the lock is on the file (its inode), not the name: a writer that replaces the file by renaming
//    a new one over its name leaves a waiter holding the old one. So, once locked, the path is
//    checked to still name the locked file, and opened again if not: the holder always has the
//    file its path names, and no other writer of the same protocol changes it until Dispose;
//  - flock belongs to the open file description, so two Opens in one process (two threads) exclude
//    each other as two processes do; Dispose (or the process's death) releases it;
//  - the descriptor comes from open(2) with O_CLOEXEC (a child process, such as bench's runs, never
//    inherits it), not from FileStream: .NET's own open takes flock(LOCK_SH|LOCK_NB) and fails at
//    once on a file someone holds exclusively. So read and write the file through Handle
//    (RandomAccess): any other .NET open of it fails while the lock is held;
//  - a file system that refuses flock (an error other than EWOULDBLOCK) leaves the file unlocked,
//    as .NET does; off Linux the file is opened by .NET and not locked either.
using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeVpn.Platform;
using Microsoft.Win32.SafeHandles;

namespace EdgeVpn.Sim.Cli;

internal sealed class LockedFile : IDisposable
{
    private const int PollMsMax = 50;
    // open(2) flags as asm-generic/fcntl.h has them, which every architecture .NET runs on uses.
    private const int ORdWr = 0x2, OCreat = 0x40, OExcl = 0x80, OCloExec = 0x80000, CreateMode = 0b110_110_110;
    private const int LockEx = 2, LockNb = 4;
    private const int EINTR = 4, ENOENT = 2, EEXIST = 17, EWOULDBLOCK = 11, EACCES = 13, EPERM = 1, EROFS = 30;

    public SafeFileHandle Handle { get; }
    /// <summary>This Open made the file (it did not exist).</summary>
    public bool Created { get; }
    private readonly string _path;

    private LockedFile(SafeFileHandle handle, bool created, string path) => (Handle, Created, _path) = (handle, created, path);

    /// <summary>The file at path, open for reading and writing and locked; null when it does not
    /// exist and create is false.</summary>
    public static LockedFile? Open(string path, bool create, TimeSpan wait)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (!create && !File.Exists(path)) return null;
            return new(File.OpenHandle(path, create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete), false, path);
        }
        var clock = Stopwatch.StartNew();
        int pollMs = 1;
        while (true)
        {
            var (handle, created) = OpenDescriptor(path, create);
            if (handle is null) return null;
            bool keep = false;
            try
            {
                while (flock(Fd(handle), LockEx | LockNb) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    if (errno != EWOULDBLOCK) { keep = true; return new(handle, created, path); }   // no flock here
                    var left = wait - clock.Elapsed;
                    if (left <= TimeSpan.Zero) throw new TimeoutException($"another process held the lock for {wait.TotalSeconds:0.###} s");
                    Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(pollMs, left.TotalMilliseconds)));
                    pollMs = Math.Min(pollMs * 2, PollMsMax);
                }
                // Locked: but a widening may have renamed a new file over the name while we waited.
                if (UnixFileKinds.Stat(handle) is { Kind: not UnixFileKind.Unknown } held && UnixFileKinds.Stat(path, followLinks: true).Id != held.Id)
                {
                    if (clock.Elapsed > wait) throw new TimeoutException($"the file kept being replaced for {wait.TotalSeconds:0.###} s");
                    continue;
                }
                keep = true;
                return new(handle, created, path);
            }
            finally
            {
                if (!keep) handle.Dispose();
            }
        }
    }

    /// <summary>Removes the file if this Open made it and it is still empty and still at its path:
    /// a new file whose first write failed leaves nothing behind.</summary>
    public void DeleteIfCreatedAndEmpty()
    {
        if (Created && UnixFileKinds.Stat(Handle) is { Kind: UnixFileKind.Regular, Size: 0 } held && UnixFileKinds.Stat(_path, followLinks: true).Id == held.Id)
            File.Delete(_path);
    }

    public void Dispose() => Handle.Dispose();

    /// <summary>open(2) the file, learning whether this call created it; (null, false) when it is
    /// missing and create is false.</summary>
    private static (SafeFileHandle? Handle, bool Created) OpenDescriptor(string path, bool create)
    {
        for (int attempt = 1; ; attempt++)
        {
            int fd = create ? open(path, ORdWr | OCloExec | OCreat | OExcl, CreateMode) : -1;
            if (fd >= 0) return (new SafeFileHandle(fd, ownsHandle: true), true);
            if (create && Marshal.GetLastPInvokeError() is int createErrno and not EEXIST and not EINTR) throw Error(createErrno);
            fd = open(path, ORdWr | OCloExec, 0);
            if (fd >= 0) return (new SafeFileHandle(fd, ownsHandle: true), false);
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT && !create) return (null, false);
            // Removed between the two opens (or interrupted): try again, a few times (a dangling
            // link would fail both opens for ever).
            if (errno is not (ENOENT or EINTR) || attempt == 10) throw Error(errno);
        }
    }

    private static Exception Error(int errno)
    {
        string message = Marshal.GetPInvokeErrorMessage(errno);
        return errno is EACCES or EPERM or EROFS ? new UnauthorizedAccessException(message) : new IOException(message);
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();   // owned here, never closed while in use

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);
}
