// A tap device could not be created or configured. The message says what failed, why (errno
// text) and, where the fix is known, what to do: run as root or grant CAP_NET_ADMIN, load the
// tun module or pass /dev/net/tun into the container, pick another device name.
namespace EdgeVpn.RealNode.Tap;

public sealed class TapException(string message, int errno = 0) : Exception(message)
{
    public int Errno { get; } = errno;
}
