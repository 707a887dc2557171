// The one place that says how a link record moves: (side, state, event) -> (next state or
// delete, action). Every other part of LinkManager classifies an input into a LinkEvent, asks
// this table, and executes what it returns; a pair the table does not list is a protocol error
// (h11's _state.py, without exceptions). Keep the rows readable: they are the specification.
namespace EdgeVpn.Protocol.Links;

/// <summary>What happened to one existing link record, after the input was classified.</summary>
internal enum LinkEvent : byte
{
    Close,
    ResponseAccepted,
    ResponseRefused,
    EndpointPrepared,
    PeerCompleted,
    /// <summary>The peer re-sent the request that created this record (duplicated message).</summary>
    RequestRepeated,
    /// <summary>Both sides asked at once and this side has the lower id: its own request wins.</summary>
    RequestLosesCollision,
    /// <summary>A request with another link id that wins over this record (collision lost, or peer restarted).</summary>
    RequestSupersedes,
    TransportUp,
    TransportDown,
    Activity,
    SetupExpired,
    /// <summary>The sweep: every connected link sends one keep-alive per interval, heard from or not.</summary>
    KeepAliveDue,
    IdleDead,
}

/// <summary>The side effects of a transition; executed by LinkManager.Apply, nothing else decides them.</summary>
internal enum LinkAction : byte
{
    /// <summary>Accepted but nothing to do (a duplicate).</summary>
    Ignore,
    PrepareControlling,
    FailRefused,
    SendResponse,
    SendCompleteAndConnect,
    ConnectControlled,
    RefuseCollision,
    MarkConnected,
    Touch,
    SendKeepAlive,
    /// <summary>Give up a record whose end was never prepared: Failed(reason) only.</summary>
    Fail,
    /// <summary>Give up a record whose end was prepared: CloseTransport, then Failed(reason).</summary>
    CloseAndFail,
    /// <summary>Remove a connected link: CloseTransport (unless the transport is already down), then Removed(reason).</summary>
    CloseAndRemove,
    /// <summary>Remove a connected link whose transport the host already reported down: Removed(reason).</summary>
    Remove,
}

internal enum LinkSide : byte { Initiator, Responder, Either }

/// <summary>Next == null means the record is deleted.</summary>
internal readonly record struct LinkTransition(LinkState? Next, LinkAction Action);

internal static class LinkTransitions
{
    private const int StateCount = 5;
    private static readonly int EventCount = Enum.GetValues<LinkEvent>().Length;

    private static readonly LinkState Requested = LinkState.Requested;
    private static readonly LinkState Preparing = LinkState.Preparing;
    private static readonly LinkState Responded = LinkState.Responded;
    private static readonly LinkState Connecting = LinkState.Connecting;
    private static readonly LinkState Connected = LinkState.Connected;
    private static readonly LinkState? Delete = null;

    private const LinkSide I = LinkSide.Initiator;
    private const LinkSide R = LinkSide.Responder;
    private const LinkSide Both = LinkSide.Either;

    // Initiator: Requested -> Preparing -> Connecting -> Connected.
    // Responder:              Preparing -> Responded -> Connecting -> Connected.
    private static readonly (LinkSide Side, LinkState From, LinkEvent Event, LinkState? To, LinkAction Action)[] Rows =
    [
        (I, Requested, LinkEvent.ResponseAccepted, Preparing, LinkAction.PrepareControlling),
        (I, Requested, LinkEvent.ResponseRefused, Delete, LinkAction.FailRefused),
        (I, Preparing, LinkEvent.EndpointPrepared, Connecting, LinkAction.SendCompleteAndConnect),
        (R, Preparing, LinkEvent.EndpointPrepared, Responded, LinkAction.SendResponse),
        (R, Responded, LinkEvent.PeerCompleted, Connecting, LinkAction.ConnectControlled),
        (Both, Connecting, LinkEvent.TransportUp, Connected, LinkAction.MarkConnected),

        // Frames may race a TransportUp through the host; remembering them is harmless.
        (Both, Connecting, LinkEvent.Activity, Connecting, LinkAction.Touch),
        (Both, Connected, LinkEvent.Activity, Connected, LinkAction.Touch),

        (R, Preparing, LinkEvent.RequestRepeated, Preparing, LinkAction.Ignore),
        (R, Responded, LinkEvent.RequestRepeated, Responded, LinkAction.Ignore),
        (R, Connecting, LinkEvent.RequestRepeated, Connecting, LinkAction.Ignore),
        (R, Connected, LinkEvent.RequestRepeated, Connected, LinkAction.Ignore),

        (I, Requested, LinkEvent.RequestLosesCollision, Requested, LinkAction.RefuseCollision),
        (I, Preparing, LinkEvent.RequestLosesCollision, Preparing, LinkAction.RefuseCollision),
        (I, Connecting, LinkEvent.RequestLosesCollision, Connecting, LinkAction.RefuseCollision),
        (I, Connected, LinkEvent.RequestLosesCollision, Connected, LinkAction.RefuseCollision),

        (I, Requested, LinkEvent.RequestSupersedes, Delete, LinkAction.Fail),
        (Both, Preparing, LinkEvent.RequestSupersedes, Delete, LinkAction.CloseAndFail),
        (R, Responded, LinkEvent.RequestSupersedes, Delete, LinkAction.CloseAndFail),
        (Both, Connecting, LinkEvent.RequestSupersedes, Delete, LinkAction.CloseAndFail),
        (Both, Connected, LinkEvent.RequestSupersedes, Delete, LinkAction.CloseAndRemove),

        (I, Requested, LinkEvent.Close, Delete, LinkAction.Fail),
        (Both, Preparing, LinkEvent.Close, Delete, LinkAction.CloseAndFail),
        (R, Responded, LinkEvent.Close, Delete, LinkAction.CloseAndFail),
        (Both, Connecting, LinkEvent.Close, Delete, LinkAction.CloseAndFail),
        (Both, Connected, LinkEvent.Close, Delete, LinkAction.CloseAndRemove),

        // The host reports a failure of an end it was asked to prepare or connect; it already
        // knows the transport is gone, so no CloseTransport goes back.
        (Both, Preparing, LinkEvent.TransportDown, Delete, LinkAction.Fail),
        (R, Responded, LinkEvent.TransportDown, Delete, LinkAction.Fail),
        (Both, Connecting, LinkEvent.TransportDown, Delete, LinkAction.Fail),
        (Both, Connected, LinkEvent.TransportDown, Delete, LinkAction.Remove),

        (I, Requested, LinkEvent.SetupExpired, Delete, LinkAction.Fail),
        (Both, Preparing, LinkEvent.SetupExpired, Delete, LinkAction.CloseAndFail),
        (R, Responded, LinkEvent.SetupExpired, Delete, LinkAction.CloseAndFail),
        (Both, Connecting, LinkEvent.SetupExpired, Delete, LinkAction.CloseAndFail),

        (Both, Connected, LinkEvent.KeepAliveDue, Connected, LinkAction.SendKeepAlive),
        (Both, Connected, LinkEvent.IdleDead, Delete, LinkAction.CloseAndRemove),
    ];

    // Flattened once: [side][state][event] -> transition, so a lookup is one array index.
    private static readonly LinkTransition?[] Table = Build();

    public static bool TryGet(bool initiator, LinkState from, LinkEvent ev, out LinkTransition transition)
    {
        int state = (int)from;
        int e = (int)ev;
        if ((uint)state >= StateCount || (uint)e >= (uint)EventCount) { transition = default; return false; }
        LinkTransition? t = Table[Index(initiator ? LinkSide.Initiator : LinkSide.Responder, state, e)];
        transition = t.GetValueOrDefault();
        return t.HasValue;
    }

    /// <summary>States a record of this side may ever be in (used by CheckInvariants).</summary>
    public static bool IsReachable(bool initiator, LinkState state) => initiator
        ? state is LinkState.Requested or LinkState.Preparing or LinkState.Connecting or LinkState.Connected
        : state is LinkState.Preparing or LinkState.Responded or LinkState.Connecting or LinkState.Connected;

    private static int Index(LinkSide side, int state, int ev) => ((int)side * StateCount + state) * EventCount + ev;

    private static LinkTransition?[] Build()
    {
        var table = new LinkTransition?[2 * StateCount * EventCount];
        foreach (var row in Rows)
        {
            foreach (var side in row.Side == LinkSide.Either ? [LinkSide.Initiator, LinkSide.Responder] : new[] { row.Side })
            {
                int i = Index(side, (int)row.From, (int)row.Event);
                if (table[i] is not null) throw new InvalidOperationException($"link transition table lists ({side}, {row.From}, {row.Event}) twice");
                table[i] = new LinkTransition(row.To, row.Action);
            }
        }
        return table;
    }
}
