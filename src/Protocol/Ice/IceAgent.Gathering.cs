// Candidates and the checklist (RFC 8445 §5.1, §6.1.2): host candidates from the bound sockets,
// server-reflexive ones from Binding responses, relayed ones from the TURN allocation, remote
// ones from signaling or learned from checks (peer-reflexive); pairs of every pairing local
// candidate (host, relayed: srflx is pruned to its base, which is the host pair) with every
// remote candidate of the same family. Foundations are small numbers handed out per
// (type, base address, server), so equal keys share a foundation as §5.1.1.3 requires.
using System.Net;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;

namespace EdgeVpn.Protocol.Ice;

public sealed partial class IceAgent
{
    private readonly List<IPEndPoint> _bases = [];
    private readonly List<LocalCandidateRecord> _locals = [];
    private readonly List<IceCandidate> _remotes = [];
    private readonly List<IcePair> _pairs = [];
    private readonly List<string> _foundationKeys = [];
    private int _peerReflexiveRemotes;

    private void OnLocalInterfaces(Instant now, IReadOnlyList<IPEndPoint> hostBases)
    {
        if (State != IceAgentState.New)
        {
            Report(new IceInput.LocalInterfaces(hostBases), "local interfaces were already given");
            return;
        }
        foreach (var b in hostBases)
        {
            if (b is null || b.Port == 0 || IsUnspecified(b.Address) || _bases.Contains(b)) continue;
            if (_bases.Count == _config.LocalInterfacesMax) break;
            _bases.Add(b);
        }
        if (_bases.Count == 0)
        {
            Fail("no usable local interface");
            return;
        }
        Transition(IceAgentState.Running);
        _timers.Set(IceTimer.Connect, now + _config.ConnectTimeout);
        _timers.Set(IceTimer.Gathering, now + _config.GatheringTimeout);
        for (int i = 0; i < _bases.Count; i++)
        {
            var b = _bases[i];
            var host = new IceCandidate(Foundation(IceCandidateType.Host, b.Address, ""), IceCandidate.ComputePriority(IceCandidateType.Host, LocalPreference(b)), b, IceCandidateType.Host);
            AddLocal(host, b, signal: true);
        }
        foreach (var b in _bases)
            foreach (var server in _config.StunServers)
                if (server.AddressFamily == b.AddressFamily)
                {
                    var id = NewTransactionId();
                    StartTransaction(now, new IceTransaction
                    {
                        Id = id,
                        Kind = IceTransactionKind.ServerReflexive,
                        Base = b,
                        To = server,
                        Payload = new StunMessage(StunClass.Request, StunMethod.Binding, id, []).Encode(),
                        TransmitsMax = _config.TransmitsMax,
                    });
                }
        StartAllocation(now);
        CheckGatheringDone();
    }

    private static bool IsUnspecified(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);

    /// <summary>65535 for the first interface, one less for each next: unique per base, as §5.1.2.1 asks.</summary>
    private ushort LocalPreference(IPEndPoint hostBase) => (ushort)(65535 - Math.Max(0, _bases.IndexOf(hostBase)));

    private string Foundation(IceCandidateType type, IPAddress baseAddress, string server)
    {
        string key = $"{(int)type}|{baseAddress}|{server}";
        int i = _foundationKeys.IndexOf(key);
        if (i < 0) { _foundationKeys.Add(key); i = _foundationKeys.Count - 1; }
        return (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private int AddLocal(IceCandidate candidate, IPEndPoint @base, bool signal)
    {
        _locals.Add(new LocalCandidateRecord(candidate, @base));
        int index = _locals.Count - 1;
        if (signal) Emit(new IceOutput.LocalCandidate(candidate));
        if (_locals[index].Pairs)
            for (int r = 0; r < _remotes.Count; r++)
                if (_remotes[r].Type != IceCandidateType.PeerReflexive) AddPair(index, r);
        return index;
    }

    private void AddServerReflexive(IPEndPoint hostBase, IPEndPoint mapped, string server)
    {
        if (mapped.Equals(hostBase) || FindLocalByAddress(mapped, hostBase) >= 0) return;   // no NAT, or known
        var c = new IceCandidate(Foundation(IceCandidateType.ServerReflexive, hostBase.Address, server),
            IceCandidate.ComputePriority(IceCandidateType.ServerReflexive, LocalPreference(hostBase)), mapped, IceCandidateType.ServerReflexive, hostBase);
        AddLocal(c, hostBase, signal: !_gatheringComplete);
    }

    private void CheckGatheringDone()
    {
        if (_gatheringComplete) return;
        foreach (var t in _transactions) if (t.Kind == IceTransactionKind.ServerReflexive) return;
        if (_turn is { State: TurnState.Allocating }) return;
        CompleteGathering();
    }

    /// <summary>Candidates found after this are used locally but not signaled (the peer learns them as peer-reflexive).</summary>
    private void CompleteGathering()
    {
        if (_gatheringComplete) return;
        _gatheringComplete = true;
        _timers.Stop(IceTimer.Gathering);
        Emit(new IceOutput.LocalCandidatesComplete());
    }

    private void OnRemoteCredentials(IceInput.RemoteCredentials rc)
    {
        var key = StunIntegrity.ShortTermKey(rc.Password ?? "");
        if (string.IsNullOrEmpty(rc.Ufrag) || rc.Ufrag.Contains(':', StringComparison.Ordinal) || rc.Ufrag.Length > 256 || !key.Ok)
        {
            Report(rc, $"bad remote credentials: {(key.Ok ? "ufrag" : key.Error)}");
            return;
        }
        if (_remoteUfrag is not null && (_remoteUfrag != rc.Ufrag || !key.Value.AsSpan().SequenceEqual(_remoteKey)))
        {
            Report(rc, "remote credentials changed (ICE restart is not supported)");
            return;
        }
        _remoteUfrag = rc.Ufrag;
        _remoteKey = key.Value;
    }

    private void OnRemoteCandidate(Instant now, IceCandidate? c)
    {
        if (c?.Address is null || c.Address.Port == 0 || IsUnspecified(c.Address.Address) || string.IsNullOrEmpty(c.Foundation)
            || c.Foundation.Length > IceCandidate.FoundationLengthMax || !Enum.IsDefined(c.Type))
        {
            Report(new IceInput.RemoteCandidate(c!), $"malformed remote candidate {c}");
            return;
        }
        int known = FindRemote(c.Address);
        if (known >= 0)
        {
            // A signaled candidate replaces the peer-reflexive one learned first (§7.3.1.3).
            if (_remotes[known].Type == IceCandidateType.PeerReflexive && c.Type != IceCandidateType.PeerReflexive)
            {
                _remotes[known] = c;
                _peerReflexiveRemotes--;
                RecomputePriorities();
                for (int l = 0; l < _locals.Count; l++) if (_locals[l].Pairs) AddPair(l, known);
            }
            return;
        }
        if (_remotes.Count >= _config.RemoteCandidatesMax)
        {
            Report(new IceInput.RemoteCandidate(c), $"more than {_config.RemoteCandidatesMax} remote candidates");
            return;
        }
        _remotes.Add(c);
        for (int l = 0; l < _locals.Count; l++) if (_locals[l].Pairs) AddPair(l, _remotes.Count - 1);
        EnsurePermission(now, c.Address.Address);
    }

    /// <summary>A candidate learned from a check's source address; null when the table is full.</summary>
    private int AddPeerReflexiveRemote(IPEndPoint address, uint priority)
    {
        if (_remotes.Count >= _config.RemoteCandidatesMax) return -1;
        _peerReflexiveRemotes++;
        _remotes.Add(new IceCandidate($"prflx{_peerReflexiveRemotes}", priority, address, IceCandidateType.PeerReflexive));
        return _remotes.Count - 1;
    }

    /// <summary>A local candidate learned from a check's mapped address; not signaled, not paired.</summary>
    private int AddPeerReflexiveLocal(IPEndPoint mapped, IPEndPoint @base, uint priority)
    {
        var c = new IceCandidate(Foundation(IceCandidateType.PeerReflexive, @base.Address, ""), priority, mapped, IceCandidateType.PeerReflexive, @base);
        return AddLocal(c, @base, signal: false);
    }

    /// <summary>Adds the pair unless it exists, the families differ or the checklist is full; returns its index or -1.</summary>
    private int AddPair(int local, int remote)
    {
        if (_locals[local].Base.AddressFamily != _remotes[remote].Address.AddressFamily) return -1;
        int existing = FindPair(local, remote);
        if (existing >= 0) return existing;
        if (_pairs.Count >= _config.ChecklistSizeMax)
        {
            Stats.PairsDropped++;
            return -1;
        }
        var pair = new IcePair(local, remote, _locals[local].Candidate.Foundation + ":" + _remotes[remote].Foundation)
        {
            Priority = PairPriorityOf(local, remote),
        };
        // Frozen while another pair of the same foundation is being checked (§6.1.2.6).
        pair.State = _pairs.Exists(p => p.Foundation == pair.Foundation && p.State is IcePairState.Waiting or IcePairState.InProgress)
            ? IcePairState.Frozen : IcePairState.Waiting;
        _pairs.Add(pair);
        return _pairs.Count - 1;
    }

    private ulong PairPriorityOf(int local, int remote)
    {
        uint l = _locals[local].Candidate.Priority, r = _remotes[remote].Priority;
        return Role == IceRole.Controlling ? IceCandidate.PairPriority(l, r) : IceCandidate.PairPriority(r, l);
    }

    private void RecomputePriorities()
    {
        foreach (var p in _pairs) p.Priority = PairPriorityOf(p.Local, p.Remote);
    }

    private int FindRemote(IPEndPoint address) => _remotes.FindIndex(r => r.Address.Equals(address));

    private int FindPair(int local, int remote) => _pairs.FindIndex(p => p.Local == local && p.Remote == remote);

    /// <summary>The pairing local candidate (host or relayed) whose base is this address.</summary>
    private int FindLocalByBase(IPEndPoint @base) => _locals.FindIndex(l => l.Pairs && l.Base.Equals(@base));

    private int FindLocalByAddress(IPEndPoint address, IPEndPoint @base) =>
        _locals.FindIndex(l => l.Candidate.Address.Equals(address) && l.Base.Equals(@base));
}
