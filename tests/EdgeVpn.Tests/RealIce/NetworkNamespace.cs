// Runs code inside a named network namespace (made with `ip netns add`, so /run/netns/NAME
// exists) from this test process, without a child process: a dedicated thread enters the
// namespace with setns(2), runs the function and goes back. What the function creates there —
// UDP sockets above all — stays in that namespace for its whole life, whichever thread uses it
// later (a socket belongs to the namespace it was made in); interface enumeration (getifaddrs
// over netlink) sees that namespace's interfaces. setns(CLONE_NEWNET) affects only the calling
// thread and is allowed in a multi-threaded process, which is why a fresh thread is used: the
// thread pool never sees a thread in a foreign namespace. Linux only; needs CAP_SYS_ADMIN.
using System.Runtime.InteropServices;

namespace EdgeVpn.Tests.RealIce;

internal static class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;

    // DllImport, not LibraryImport: the signature is blittable and the test project stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);
#pragma warning restore SYSLIB1054

    public static T Run<T>(string name, Func<T> function)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var home = File.OpenHandle("/proc/thread-self/ns/net", FileMode.Open, FileAccess.Read);
                using var target = File.OpenHandle($"/run/netns/{name}", FileMode.Open, FileAccess.Read);
                Enter(target, name);
                try { result = function(); }
                finally { Enter(home, "the test's own namespace"); }
            }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "netns " + name };
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException($"in network namespace {name}: {failure.Message}", failure);
        return result;
    }

    private static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle ns, string what)
    {
        if (setns((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
            throw new InvalidOperationException($"setns into {what} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
