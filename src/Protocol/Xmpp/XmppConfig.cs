// What an XmppSession needs to log in and stay online. Every limit and timer is bounded and
// checked by Validate (which names the field and the problem). The password is never printed:
// ToString shows it as "(hidden)", and nothing else in the session formats it.
using System.Text;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Xmpp;

public sealed record XmppConfig
{
    /// <summary>Where to connect (a name or an address); the XMPP domain is Account.Domain.</summary>
    public required string Host { get; init; }
    public int Port { get; init; } = 5222;
    /// <summary>The bare account address, user@domain.</summary>
    public required Jid Account { get; init; }
    public required string Password { get; init; }
    public string Resource { get; init; } = "edgevpn";
    /// <summary>Announced in every presence, in our own namespace.</summary>
    public required NodeId NodeId { get; init; }
    /// <summary>Announced with the node id; peers in another overlay are ignored.</summary>
    public string? OverlayId { get; init; }
    /// <summary>The roster group that is the overlay: presence and signals from anyone outside
    /// it are dropped. Null accepts every roster member.</summary>
    public string? Group { get; init; }
    /// <summary>PLAIN is offered only when the server lacks SCRAM-SHA-1; always over TLS.</summary>
    public bool AllowPlain { get; init; } = true;

    /// <summary>From the connect request to being online (covers connect, TLS, SASL, bind, roster).</summary>
    public TimeSpan NegotiationTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ReconnectDelayFirst { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Each reconnect delay is scaled by a factor uniform in [1 - j, 1 + j].</summary>
    public double ReconnectJitter { get; init; } = 0.2;
    /// <summary>Consecutive failed connection attempts before giving up; null retries forever.</summary>
    public int? ReconnectAttemptsMax { get; init; }
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The roster comes as one stanza holding every item (about 80 bytes each): 1 MiB holds
    /// RosterItemsMax of them. With the parser's 64 KiB default a roster of about 800 members failed
    /// to parse and the session reconnected forever (found by the simulator's --signaling xmpp).</summary>
    public XmlLimits Limits { get; init; } = XmlLimits.Default with { StanzaBytesMax = 1 << 20 };
    public int RosterItemsMax { get; init; } = 10_000;
    public int GroupsPerItemMax { get; init; } = 64;
    /// <summary>The largest JSON signaling payload we send or accept, in UTF-8 bytes.</summary>
    public int SignalBytesMax { get; init; } = 16_384;
    public int SignalJsonDepthMax { get; init; } = 32;
    /// <summary>Seeds the reconnect jitter.</summary>
    public ulong Seed { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string problem) { if (!ok) errors.Add($"{field}: {problem}"); }
        Check(!string.IsNullOrWhiteSpace(Host), nameof(Host), "empty");
        Check(Port is > 0 and <= 65535, nameof(Port), $"{Port} is not a TCP port");
        Check(Account.Local is not null && Account.IsBare, nameof(Account), $"'{Account}' is not a bare user@domain address");
        Check(!string.IsNullOrEmpty(Password), nameof(Password), "empty");
        Check(Jid.Parse($"{Account.Local}@{Account.Domain}/{Resource}").Ok, nameof(Resource), "not a valid resource");
        Check(OverlayId is null || (OverlayId.Length is > 0 and <= 256 && XmlElement.IsValidXmlText(OverlayId)), nameof(OverlayId), "empty, longer than 256 characters or not valid text");
        Check(Group is null || (Group.Length is > 0 and <= 1023 && XmlElement.IsValidXmlText(Group)), nameof(Group), "empty, too long or not valid text");
        Check(Positive(NegotiationTimeout), nameof(NegotiationTimeout), "must be positive");
        Check(Positive(ReconnectDelayFirst), nameof(ReconnectDelayFirst), "must be positive");
        Check(ReconnectDelayMax >= ReconnectDelayFirst && ReconnectDelayMax <= TimeSpan.FromDays(1), nameof(ReconnectDelayMax), "must lie between ReconnectDelayFirst and one day");
        Check(ReconnectJitter is >= 0 and < 1, nameof(ReconnectJitter), "must lie in [0, 1)");
        Check(ReconnectAttemptsMax is null or > 0, nameof(ReconnectAttemptsMax), "must be positive or absent");
        Check(Positive(PingInterval), nameof(PingInterval), "must be positive");
        Check(Positive(PingTimeout), nameof(PingTimeout), "must be positive");
        Check(Limits.StanzaBytesMax is >= 1024 and <= 16 << 20, "Limits.StanzaBytesMax", "must lie in [1 KiB, 16 MiB]");
        Check(Limits.DepthMax is >= 4 and <= 256, "Limits.DepthMax", "must lie in [4, 256]");
        Check(Limits.AttributesMax is >= 4 and <= 1024, "Limits.AttributesMax", "must lie in [4, 1024]");
        Check(Limits.HeaderBytesMax is >= 256 and <= 65536, "Limits.HeaderBytesMax", "must lie in [256, 65536]");
        Check(RosterItemsMax is > 0 and <= 1_000_000, nameof(RosterItemsMax), "must lie in [1, 1000000]");
        Check(GroupsPerItemMax is > 0 and <= 1024, nameof(GroupsPerItemMax), "must lie in [1, 1024]");
        Check(SignalBytesMax > 0 && SignalBytesMax < Limits.StanzaBytesMax, nameof(SignalBytesMax), "must be positive and below Limits.StanzaBytesMax");
        Check(SignalJsonDepthMax is > 0 and <= 256, nameof(SignalJsonDepthMax), "must lie in [1, 256]");
        return errors;
    }

    private static bool Positive(TimeSpan t) => t > TimeSpan.Zero && t <= TimeSpan.FromDays(1);

    private bool PrintMembers(StringBuilder b)
    {
        b.Append($"Host = {Host}, Port = {Port}, Account = {Account}, Password = (hidden), Resource = {Resource}, NodeId = {NodeId}, OverlayId = {OverlayId}, Group = {Group}");
        return true;
    }
}
