// A NameResolver for the tests of server name resolution: it answers from a table the test changes
// as it goes; a name not in the table fails as DNS does (HostNotFound); a name starting with "hang"
// never answers and ignores its token (only the lookup's bound or cancellation ends the wait).
// Every question is counted; no DNS server is asked.
using System.Net;
using System.Net.Sockets;

namespace EdgeVpn.Tests.RealLink;

internal sealed class FakeDns
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, IPAddress[]> _table = new(StringComparer.Ordinal);
    private readonly List<string> _asked = [];

    public FakeDns(Dictionary<string, string>? table = null)
    {
        foreach (var (host, address) in table ?? []) Set(host, address);
    }

    /// <summary>Completes at the first question.</summary>
    public TaskCompletionSource FirstAsked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>From now on host resolves to these addresses, in this order.</summary>
    public void Set(string host, params string[] addresses)
    {
        lock (_gate) _table[host] = [.. addresses.Select(IPAddress.Parse)];
    }

    /// <summary>From now on host fails as an unknown name.</summary>
    public void Fail(string host)
    {
        lock (_gate) _table.Remove(host);
    }

    /// <summary>How many times host was asked for.</summary>
    public int Asked(string host)
    {
        lock (_gate) return _asked.Count(h => h == host);
    }

    public Task<IPAddress[]> Resolve(string host, CancellationToken ct)
    {
        IPAddress[]? found;
        lock (_gate)
        {
            _asked.Add(host);
            _table.TryGetValue(host, out found);
        }
        FirstAsked.TrySetResult();
        if (host.StartsWith("hang", StringComparison.Ordinal)) return new TaskCompletionSource<IPAddress[]>().Task;
        return found is not null ? Task.FromResult(found) : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
