// Counters of one run; all are pure functions of the parameters.
namespace EdgeVpn.Sim;

public sealed class SimStats
{
    public long Events;
    /// <summary>Events processed, per EventKind.</summary>
    public readonly long[] EventsByKind = new long[Enum.GetValues<EventKind>().Length];
    public long SignalMessages;
    public long PresenceDeliveries;
    /// <summary>Presence stanzas an XMPP server would send for the roster changes of the run: a
    /// member that comes online gets every member's presence and every member gets its presence
    /// (2 per existing member); one that goes away costs one per remaining member. O(n²) over a
    /// run where n nodes join; the simulator itself batches them into shared views.</summary>
    public long PresenceStanzas;
    public long LinkFrames;
    public long KeepAlives;
    public long LinksUp;
    public long LinksDown;
    public long LinkFailures;
    /// <summary>Link setups given up, per LinkFailure reason.</summary>
    public readonly long[] FailuresByReason = new long[Enum.GetValues<EdgeVpn.Protocol.Links.LinkFailure>().Length];
    /// <summary>Refused link requests seen by initiators, per LinkRefusal code.</summary>
    public readonly long[] RefusalsByCode = new long[Enum.GetValues<EdgeVpn.Protocol.Links.LinkRefusal>().Length];
    public long ProtocolErrors;
    public long Drops;
    /// <summary>Datagrams (frames, keep-alives) lost to injected loss or a partition.</summary>
    public long DatagramsLost;
    public long DatagramsDuplicated;
    /// <summary>Signaling messages lost because the signaling server was down.</summary>
    public long SignalsLost;
    /// <summary>Link setups relayed through the TURN server because the two NATs need it.</summary>
    public long RelayedSetups;
    /// <summary>Link setups that could not succeed: the NATs need a relay and no TURN server exists.</summary>
    public long NatFailedSetups;
    /// <summary>NAT mapping expiries/rebindings injected (ExpireNatMappings).</summary>
    public long NatExpiries;
    /// <summary>Lookup membership messages, and how many of them the signaling server relayed.</summary>
    public long MembershipMessages;
    public long MembershipViaSignaling;
    /// <summary>--links ice or --signaling xmpp: bytes of the signaling payloads sent through the server
    /// as wire text (SignalCodec's JSON, what the real node puts in an XMPP signal); 0 in modeled runs.</summary>
    public long SignalingPayloadBytes;
    /// <summary>Lookup membership messages sent, per MembershipMessageKind.</summary>
    public readonly long[] MembershipByKind = new long[Enum.GetValues<MembershipMessageKind>().Length];
    /// <summary>Hops of the answered lookups (FoundOwner) and of the failed ones (FindFailed), summed with their counts.</summary>
    public long LookupsAnswered, LookupAnsweredHops, LookupsFailed, LookupFailedHops;
    /// <summary>Lookup membership: joins retried through another member after JoinFailed.</summary>
    public long JoinRetries;
    /// <summary>--links ice: link setups by [predicted * 3 + measured] IcePath (Direct, Relayed, Fails): the
    /// prediction for the two nodes' NATs against what the agents achieved (counted once per link).</summary>
    public readonly long[] IceOutcomes = new long[9];
    /// <summary>From the initiator's ConnectTransport until the transport is up (both modes).</summary>
    public readonly DurationHistogram SetupTimes = new();
    /// <summary>From PrepareEndpoint until the end's candidates are ready (both modes).</summary>
    public readonly DurationHistogram GatherTimes = new();
    /// <summary>--signaling xmpp: sessions that came online (logins), and online sessions that lost their connection.</summary>
    public long XmppLogins, XmppDisconnects;
    /// <summary>--signaling xmpp: stanzas the binding refused (presence beyond the roster bound, a
    /// signal from an address with no node id, a payload the codec refuses), and the sessions' warnings.</summary>
    public long XmppDropped, XmppWarnings;
    public long Crashes;
    public long Restarts;

    /// <summary>Messages between nodes: link signaling, frames on links, keep-alives and lookup-membership messages (presence is counted apart).</summary>
    public long Messages => SignalMessages + LinkFrames + KeepAlives + MembershipMessages;
}

/// <summary>The kinds of lookup-membership message, for SimStats.MembershipByKind.</summary>
public enum MembershipMessageKind { FindSuccessor, FoundOwner, FindFailed, Stabilize, StabilizeReply, EstimatePush, Leaving }
