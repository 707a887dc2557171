// A host's cache hint. A machine names the objects and tables its next input will likely touch
// (NameHotState), and the host may start loading them so that the loads overlap other work; the
// simulator does (a large run touches a random node per event, and waits on memory more than it
// computes). Naming is read-only: it reads references and lengths, changes nothing, and a host
// that ignores the names gets the same behaviour.
namespace EdgeVpn.Protocol.Core;

public interface ICacheWarmer
{
    /// <summary>The first <paramref name="bytes"/> of the object (its header and fields, or an
    /// array's length and first elements) are likely to be read soon. Null: nothing.</summary>
    void Warm(object? o, int bytes);
}
