// Configuration of one ICE agent (RFC 8445 full agent, one UDP component, RFC 7675 consent).
// Every value is bounded; Validate lists what is out of range and the agent refuses such a
// config (a host bug, so it throws). Defaults follow the RFCs: Ta 50 ms (RFC 8445 §14.2), RTO
// 500 ms doubling with Rc = 7 transmissions and a last wait of Rm = 16 RTO (RFC 8489 §6.2.1),
// consent checks every 5 s ±20% and consent lost after 30 s without a response (RFC 7675 §5.1),
// permissions refreshed before their 300 s and channels before their 600 s (RFC 8656 §9, §12).
using System.Net;
using EdgeVpn.Protocol.Links;

namespace EdgeVpn.Protocol.Ice;

/// <summary>A TURN server and the long-term credentials to allocate a relay on it.</summary>
public sealed record IceTurnServer(IPEndPoint Server, string Username, string Password);

public sealed record IceConfig
{
    public IceRole Role { get; init; } = IceRole.Controlling;
    /// <summary>Binding requests go to each of these from every host base of the same family.</summary>
    public IReadOnlyList<IPEndPoint> StunServers { get; init; } = [];
    public IceTurnServer? Turn { get; init; }

    /// <summary>Pacing: at most one new connectivity check per Ta.</summary>
    public TimeSpan Ta { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>Initial retransmission timeout of every STUN transaction; doubles per retransmission.</summary>
    public TimeSpan Rto { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Rc: transmissions of one request before giving up.</summary>
    public int TransmitsMax { get; init; } = 7;
    /// <summary>Rm: after the last transmission, wait this many initial RTOs for a response.</summary>
    public int LastWaitFactor { get; init; } = 16;

    /// <summary>Gathering ends (LocalCandidatesComplete) at the latest this long after LocalInterfaces.</summary>
    public TimeSpan GatheringTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Without a nominated pair this long after LocalInterfaces, the agent fails.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(45);
    /// <summary>Controlling: nominate the best valid pair at the latest this long after the first check succeeded,
    /// even if checks of higher-priority pairs are still pending.</summary>
    public TimeSpan NominationWait { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Consent checks are spaced by ConsentInterval scaled by a factor in [1 - jitter, 1 + jitter].</summary>
    public double ConsentJitter { get; init; } = 0.2;
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public int ChecklistSizeMax { get; init; } = 100;
    public int RemoteCandidatesMax { get; init; } = 64;
    public int LocalInterfacesMax { get; init; } = 16;
    /// <summary>Outstanding STUN transactions at once (checks, gathering, TURN); beyond this new ones wait.</summary>
    public int TransactionsMax { get; init; } = 256;

    /// <summary>401/438 answers followed by a retry, per TURN request, before it fails.</summary>
    public int TurnAuthRetriesMax { get; init; } = 3;
    public TimeSpan TurnPermissionRefresh { get; init; } = TimeSpan.FromSeconds(240);
    public TimeSpan TurnChannelRefresh { get; init; } = TimeSpan.FromSeconds(540);
    /// <summary>An allocation is refreshed this long before its lifetime ends (or at half of a short lifetime).</summary>
    public TimeSpan TurnRefreshMargin { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Bind a channel to the selected relayed peer and send ChannelData instead of Send indications.</summary>
    public bool TurnUseChannels { get; init; } = true;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Range(string name, TimeSpan v, TimeSpan min, TimeSpan max)
        {
            if (v < min || v > max) problems.Add($"{name} {v} is outside [{min}, {max}]");
        }
        void Count(string name, int v, int min, int max)
        {
            if (v < min || v > max) problems.Add($"{name} {v} is outside [{min}, {max}]");
        }
        Range(nameof(Ta), Ta, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        Range(nameof(Rto), Rto, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60));
        Count(nameof(TransmitsMax), TransmitsMax, 1, 20);
        Count(nameof(LastWaitFactor), LastWaitFactor, 1, 64);
        Range(nameof(GatheringTimeout), GatheringTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5));
        Range(nameof(ConnectTimeout), ConnectTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        Range(nameof(NominationWait), NominationWait, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Range(nameof(ConsentInterval), ConsentInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10));
        if (ConsentJitter is < 0 or > 0.5 || double.IsNaN(ConsentJitter)) problems.Add($"{nameof(ConsentJitter)} {ConsentJitter} is outside [0, 0.5]");
        Range(nameof(ConsentTimeout), ConsentTimeout, ConsentInterval, TimeSpan.FromHours(1));
        Count(nameof(ChecklistSizeMax), ChecklistSizeMax, 1, 10_000);
        Count(nameof(RemoteCandidatesMax), RemoteCandidatesMax, 1, 10_000);
        Count(nameof(LocalInterfacesMax), LocalInterfacesMax, 1, 256);
        Count(nameof(TransactionsMax), TransactionsMax, 1, 100_000);
        Count(nameof(TurnAuthRetriesMax), TurnAuthRetriesMax, 0, 10);
        Range(nameof(TurnPermissionRefresh), TurnPermissionRefresh, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(299));
        Range(nameof(TurnChannelRefresh), TurnChannelRefresh, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(599));
        Range(nameof(TurnRefreshMargin), TurnRefreshMargin, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        if (StunServers.Count > 16) problems.Add($"{StunServers.Count} STUN servers exceed 16");
        if (Turn is { } t && (string.IsNullOrEmpty(t.Username) || string.IsNullOrEmpty(t.Password)))
            problems.Add("TURN server without username or password");
        return problems;
    }
}
