// An XMPP client session (RFC 6120 negotiation, RFC 6121 roster/presence/messages) as a sans-IO
// state machine: bytes and transport events in, bytes and intents out, time only through
// Handle/HandleTimeout. Hand-written: no XMPP package is served. A thin socket adapter
// (XmppClient) carries Connect/Send/StartTls/Close to a real socket and SslStream.
//
// States and what moves them (anything else in a state is a protocol failure):
//   Idle --Start--> Connecting --TransportConnected/send header--> Opening
//   Opening --features: starttls--> TlsRequested --proceed--> TlsHandshaking --TlsEstablished--> Opening
//   Opening --features: mechanisms--> Authenticating --success (server verified)--> Opening
//   Opening --features: bind--> Binding --bound--> [SessionStarting] --> RosterFetching --roster--> Online
//   Online: presence, signals, roster pushes, iq requests, keep-alive pings.
//   any connected state --failure--> Backoff --timer--> Connecting   (or Stopped when attempts run out)
//   any --Stop or permanent failure (auth refused, address taken over: conflict)--> Stopped (final)
// TLS is mandatory: a server without STARTTLS is refused, and PLAIN is used only under TLS.
// Failures: malformed or oversized XML ends the connection (an XML stream cannot be
// resynchronized) with a stream error, a logged reason and a reconnect after back-off;
// a well-formed stanza with bad content (unknown sender, bad node id, non-JSON payload) is
// dropped with a logged reason and the stream goes on. Nothing thrown escapes Handle*.
// Passwords and SASL payloads never reach a Log output; SASL bytes go out as Sensitive sends.
using System.Text;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Protocol.Xmpp;

public enum XmppState : byte
{
    Idle, Connecting, Opening, TlsRequested, TlsHandshaking, Authenticating,
    Binding, SessionStarting, RosterFetching, Online, Backoff, Stopped,
}

internal enum XmppTimer : byte { Negotiation, Backoff, PingDue, PingReply }

public sealed partial class XmppSession : IStateMachine<XmppInput, XmppOutput>
{
    private readonly XmppConfig _config;
    private readonly Func<string> _newNonce;
    private readonly DeterministicRandom _random;
    private readonly TimerTable<XmppTimer> _timers = new();
    private readonly XmlStreamParser _parser;
    private OutputQueue<XmppOutput> _outputs;

    private int _connection;          // the current connection number (0: none yet)
    private bool _tls, _authenticated, _headerSent, _headerReceived;
    private int _failures;            // consecutive failed attempts (reset when online)
    private ScramSha1Client? _scram;
    private bool _scramVerified;
    private int _nextId;
    private string? _pendingId;       // the id of the negotiation iq we wait for
    private string? _pingId;

    public XmppSession(XmppConfig config, Func<string> newNonce)
    {
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid XMPP configuration: " + string.Join("; ", errors), nameof(config));
        _config = config;
        _newNonce = newNonce;
        _random = new DeterministicRandom(config.Seed).Fork("xmpp-reconnect");
        _parser = new XmlStreamParser(config.Limits);
    }

    public XmppState State { get; private set; } = XmppState.Idle;
    public Jid? BoundJid { get; private set; }
    public int Connection => _connection;
    public XmppConfig Config => _config;

    public void Handle(Instant now, XmppInput input)
    {
        switch (input)
        {
            case XmppInput.Start:
                if (State == XmppState.Idle) BeginConnect(now);
                return;
            case XmppInput.Stop stop:
                StopFor(stop.Reason, sendGoodbye: true);
                return;
            case XmppInput.SendSignal send:
                SendSignal(send);
                return;
            case XmppInput.TransportConnected c when c.Connection == _connection && State == XmppState.Connecting:
                Log(XmppLogLevel.Info, $"connected to {_config.Host}:{_config.Port}");
                OpenStream();
                return;
            case XmppInput.TlsEstablished t when t.Connection == _connection && State == XmppState.TlsHandshaking:
                _tls = true;
                Log(XmppLogLevel.Info, "TLS established");
                OpenStream();
                return;
            case XmppInput.Received r when r.Connection == _connection && IsConnectedState:
                if (State == XmppState.TlsHandshaking) { Fail(now, "plaintext bytes during the TLS handshake", null); return; }
                _parser.Feed(r.Bytes);
                DrainParser(now);
                return;
            case XmppInput.TransportFailed f when f.Connection == _connection && (IsConnectedState || State == XmppState.Connecting):
                Fail(now, "transport: " + Printable.Of(f.Reason, 200), null);
                return;
            default:
                // Inputs about an older connection, or transport events in a state that expects
                // none (after Stop, during back-off): harmless, and said once at debug level.
                Log(XmppLogLevel.Debug, $"ignored {input.GetType().Name} in {State}");
                return;
        }
    }

    public void HandleTimeout(Instant now)
    {
        if (_timers.TakeIfDue(XmppTimer.Negotiation, now) && IsNegotiating)
            Fail(now, $"not online within {_config.NegotiationTimeout.TotalSeconds:0.#} s (stuck in {State})", "connection-timeout");
        if (_timers.TakeIfDue(XmppTimer.PingReply, now) && State == XmppState.Online)
            Fail(now, $"server did not answer a ping within {_config.PingTimeout.TotalSeconds:0.#} s", "connection-timeout");
        if (_timers.TakeIfDue(XmppTimer.PingDue, now) && State == XmppState.Online)
        {
            _pingId = NextId("ping");
            var ping = XmppStanzas.Iq("get", _pingId, _config.Account.Domain).Add(new XmlElement("ping", XmppNs.Ping));
            SendElement(ping);
            _timers.Set(XmppTimer.PingReply, now + _config.PingTimeout);
        }
        if (_timers.TakeIfDue(XmppTimer.Backoff, now) && State == XmppState.Backoff) BeginConnect(now);
    }

    public Instant? PollTimeout() => _timers.Earliest();

    public bool TryPollOutput(out XmppOutput output) => _outputs.TryDequeue(out output);

    public void CheckInvariants()
    {
        void Require(bool ok, string what) { if (!ok) throw new InvariantViolation($"XmppSession in {State}: {what}"); }
        Require(_failures >= 0, "negative failure count");
        Require(State != XmppState.Online || (_tls && _authenticated && BoundJid is not null), "online without TLS, authentication or a bound address");
        Require(State != XmppState.Backoff || _timers.IsArmed(XmppTimer.Backoff), "backing off without a timer");
        Require(!IsNegotiating || _timers.IsArmed(XmppTimer.Negotiation), "negotiating without a deadline");
        Require(State is XmppState.Online || (!_timers.IsArmed(XmppTimer.PingDue) && !_timers.IsArmed(XmppTimer.PingReply)), "ping timers armed while not online");
        Require(State != XmppState.Stopped || _timers.Earliest() is null, "timers armed after Stop");
        Require(_roster.Count <= _config.RosterItemsMax, "roster above its bound");
        Require(!_authenticated || _tls, "authenticated without TLS");
    }

    private bool IsNegotiating => State is XmppState.Connecting or XmppState.Opening or XmppState.TlsRequested or XmppState.TlsHandshaking
        or XmppState.Authenticating or XmppState.Binding or XmppState.SessionStarting or XmppState.RosterFetching;

    private bool IsConnectedState => IsNegotiating && State != XmppState.Connecting || State == XmppState.Online;

    private void BeginConnect(Instant now)
    {
        _connection++;
        _tls = _authenticated = _headerSent = _headerReceived = false;
        _scram = null;
        _scramVerified = _scramHandledFirst = _sessionRequired = false;
        _pendingId = _pingId = null;
        BoundJid = null;
        _parser.Reset();
        State = XmppState.Connecting;
        _timers.Set(XmppTimer.Negotiation, now + _config.NegotiationTimeout);
        _outputs.Enqueue(new XmppOutput.Connect(_connection, _config.Host, _config.Port));
    }

    /// <summary>Starts a (new) stream on the current connection: the initial one, after TLS, after SASL.</summary>
    private void OpenStream()
    {
        int leftover = _parser.Reset();
        if (leftover > 0) Log(XmppLogLevel.Warning, $"discarded {leftover} bytes received before the stream restart");
        _headerReceived = false;
        _headerSent = true;
        State = XmppState.Opening;
        Send(XmppStanzas.StreamHeader(_config.Account.Domain, _tls ? _config.Account : null), sensitive: false);
    }

    private void DrainParser(Instant now)
    {
        while (IsConnectedState && _parser.TryPollEvent(out var ev))
        {
            switch (ev)
            {
                case XmlStreamEvent.Error e:
                    Fail(now, $"bad XML from the server ({e.Condition}): {e.Reason}", e.Condition);
                    return;
                case XmlStreamEvent.End:
                    Fail(now, "the server closed the stream", null, sendClose: true);
                    return;
                case XmlStreamEvent.Header h:
                    OnHeader(now, h.Stream);
                    break;
                case XmlStreamEvent.Stanza s:
                    if (!_headerReceived) { Fail(now, "a stanza before the stream header", "not-well-formed"); return; }
                    OnStanza(now, s.Element);
                    break;
            }
        }
    }

    private void OnHeader(Instant now, XmlElement header)
    {
        if (State != XmppState.Opening) { Fail(now, $"a stream header in {State}", "not-well-formed"); return; }
        string? version = header.Attr("version");
        if (version is null || !version.StartsWith("1.", StringComparison.Ordinal))
        {
            Fail(now, $"the server speaks stream version '{Printable.Of(version)}', not 1.x", "unsupported-version");
            return;
        }
        _headerReceived = true;
    }

    private void OnStanza(Instant now, XmlElement stanza)
    {
        if (stanza.Is("error", XmppNs.Streams))
        {
            string condition = stanza.Children.FirstOrDefault(c => c.Namespace == XmppNs.StreamErrors && c.Name != "text")?.Name ?? "undefined-condition";
            string? text = stanza.Child("text", XmppNs.StreamErrors)?.Text;
            string reason = $"stream error from the server: {condition}{(text is null ? "" : " (" + Printable.Of(text) + ")")}";
            if (condition == "conflict")
            {
                // Another live client bound our address (our own older streams are filtered by
                // connection number before this point). Servers resolve it by kicking the older
                // session, Prosody by default, so reconnecting would kick the other client, which
                // would kick us back, for ever. The newest login keeps the address; we stop.
                Send(XmppStanzas.StreamClose, sensitive: false);
                Log(XmppLogLevel.Error, $"another client logged in as {BoundJid?.ToString() ?? _config.Account + "/" + _config.Resource}: " +
                    "two nodes share this account and resource. This session stops for good (the newer login keeps the address); " +
                    "give each node its own Resource (or account) and restart it.");
                StopFor(reason, sendGoodbye: false);
                return;
            }
            Fail(now, reason, null, sendClose: true);
            return;
        }
        switch (State)
        {
            case XmppState.Opening when stanza.Is("features", XmppNs.Streams): OnFeatures(now, stanza); return;
            case XmppState.TlsRequested when stanza.Namespace == XmppNs.Tls: OnTlsAnswer(now, stanza); return;
            case XmppState.Authenticating when stanza.Namespace == XmppNs.Sasl: OnSasl(now, stanza); return;
            case XmppState.Binding or XmppState.SessionStarting or XmppState.RosterFetching
                when stanza.Is("iq", XmppNs.Client) && stanza.Attr("id") == _pendingId && _pendingId is not null:
                OnNegotiationResult(now, stanza);
                return;
            case XmppState.Binding or XmppState.SessionStarting or XmppState.RosterFetching or XmppState.Online
                when stanza.Namespace == XmppNs.Client:
                OnRoutedStanza(now, stanza);
                return;
            default:
                Fail(now, $"unexpected <{Printable.Of(stanza.Name)}> in '{Printable.Of(stanza.Namespace)}' while {State}", "unsupported-stanza-type");
                return;
        }
    }

    private void OnFeatures(Instant now, XmlElement features)
    {
        if (!_tls)
        {
            if (features.Child("starttls", XmppNs.Tls) is null) { Fail(now, "the server does not offer STARTTLS; refusing to log in without TLS", "policy-violation"); return; }
            SendElement(new XmlElement("starttls", XmppNs.Tls));
            State = XmppState.TlsRequested;
            return;
        }
        if (!_authenticated)
        {
            var offered = features.Child("mechanisms", XmppNs.Sasl)?.ChildrenNamed("mechanism", XmppNs.Sasl).Select(m => m.Text.Trim()).ToList() ?? [];
            if (offered.Contains("SCRAM-SHA-1")) StartScram();
            else if (offered.Contains("PLAIN") && _config.AllowPlain) StartPlain();
            else
            {
                StopFor($"no usable SASL mechanism (server offers: {Printable.Of(string.Join(" ", offered))}; we take SCRAM-SHA-1{(_config.AllowPlain ? " or PLAIN" : "")})", sendGoodbye: true);
                return;
            }
            if (State != XmppState.Stopped) State = XmppState.Authenticating;
            return;
        }
        if (features.Child("bind", XmppNs.Bind) is null) { Fail(now, "the server offers no resource binding", "unsupported-feature"); return; }
        var session = features.Child("session", XmppNs.Session);
        _sessionRequired = session is not null && session.Child("optional", XmppNs.Session) is null;
        _pendingId = NextId("bind");
        SendElement(XmppStanzas.Iq("set", _pendingId)
            .Add(new XmlElement("bind", XmppNs.Bind).Add(new XmlElement("resource", XmppNs.Bind).WithText(_config.Resource))));
        State = XmppState.Binding;
    }

    private bool _sessionRequired;

    private void OnTlsAnswer(Instant now, XmlElement answer)
    {
        if (!answer.Is("proceed", XmppNs.Tls)) { Fail(now, "the server refused STARTTLS", null, sendClose: true); return; }
        // Bytes after <proceed/> and before the handshake would be plaintext an attacker could
        // have injected (the STARTTLS command-injection class of bugs): refuse them.
        if (_parser.BufferedBytes > 0 || _parser.TryPollEvent(out _)) { Fail(now, "plaintext after <proceed/>", "policy-violation"); return; }
        State = XmppState.TlsHandshaking;
        _outputs.Enqueue(new XmppOutput.StartTls(_connection, _config.Account.Domain));
    }

    private void StartScram()
    {
        var scram = ScramSha1Client.Create(_config.Account.Local!, _config.Password, _newNonce());
        if (!scram.Ok) { StopFor("SCRAM-SHA-1: " + scram.Error, sendGoodbye: true); return; }
        _scram = scram.Value;
        SendSasl(new XmlElement("auth", XmppNs.Sasl).With("mechanism", "SCRAM-SHA-1"), _scram.ClientFirst);
    }

    private void StartPlain()
    {
        if (!_tls) throw new InvariantViolation("PLAIN without TLS");
        SendSasl(new XmlElement("auth", XmppNs.Sasl).With("mechanism", "PLAIN"), $"\0{_config.Account.Local}\0{_config.Password}");
    }

    private void SendSasl(XmlElement element, string payload)
    {
        element.WithText(XmppStanzas.SaslText(payload));
        Send(XmppStanzas.InStream(element), sensitive: true);
    }

    private void OnSasl(Instant now, XmlElement stanza)
    {
        switch (stanza.Name)
        {
            case "challenge" when _scram is not null:
            {
                if (!XmppStanzas.TryDecodeSaslText(stanza.Text, out string challenge)) { Fail(now, "SASL challenge is not base64", null); return; }
                if (!_scramHandledFirst)
                {
                    _scramHandledFirst = true;
                    var final = _scram.HandleServerFirst(challenge);
                    if (!final.Ok) { AbortSasl(now, "SCRAM-SHA-1: " + final.Error); return; }
                    SendSasl(new XmlElement("response", XmppNs.Sasl), final.Value);
                    return;
                }
                // Some servers send server-final as a challenge and want an empty response.
                var ok = _scram.VerifyServerFinal(challenge);
                if (!ok.Ok) { AbortSasl(now, "SCRAM-SHA-1: " + ok.Error); return; }
                _scramVerified = true;
                SendSasl(new XmlElement("response", XmppNs.Sasl), "");
                return;
            }
            case "success":
            {
                if (_scram is not null && !_scramVerified)
                {
                    if (!XmppStanzas.TryDecodeSaslText(stanza.Text, out string final)) { Fail(now, "SASL success data is not base64", null); return; }
                    var ok = _scram.VerifyServerFinal(final);
                    if (!ok.Ok) { Fail(now, "SCRAM-SHA-1: " + ok.Error, "policy-violation"); return; }
                }
                _authenticated = true;
                _scram = null;
                Log(XmppLogLevel.Info, $"authenticated as {_config.Account}");
                OpenStream();
                return;
            }
            case "failure":
            {
                string condition = stanza.Children.FirstOrDefault(c => c.Name != "text")?.Name ?? "undefined-condition";
                string? text = stanza.Child("text", XmppNs.Sasl)?.Text;
                string reason = $"authentication failed: {Printable.Of(condition)}{(text is null ? "" : " (" + Printable.Of(text) + ")")}";
                // Retrying a refused password only risks locking the account: give up.
                if (condition is "not-authorized" or "account-disabled" or "credentials-expired" or "invalid-mechanism" or "mechanism-too-weak" or "encryption-required")
                    StopFor(reason, sendGoodbye: true);
                else Fail(now, reason, null, sendClose: true);
                return;
            }
            default:
                Fail(now, $"unexpected SASL <{Printable.Of(stanza.Name)}>", "not-authorized");
                return;
        }
    }

    private bool _scramHandledFirst;

    private void AbortSasl(Instant now, string reason)
    {
        Send(XmppStanzas.InStream(new XmlElement("abort", XmppNs.Sasl)), sensitive: false);
        Fail(now, reason, null, sendClose: true);
    }

    private void OnNegotiationResult(Instant now, XmlElement iq)
    {
        _pendingId = null;
        string? type = iq.Attr("type");
        if (type != "result")
        {
            string condition = iq.Child("error", XmppNs.Client)?.Children.FirstOrDefault()?.Name ?? "no error element";
            Fail(now, $"{State} refused: {Printable.Of(condition)}", null, sendClose: true);
            return;
        }
        switch (State)
        {
            case XmppState.Binding:
            {
                var jid = Jid.Parse(iq.Child("bind", XmppNs.Bind)?.Child("jid", XmppNs.Bind)?.Text.Trim());
                if (!jid.Ok || jid.Value.Bare != _config.Account || jid.Value.IsBare)
                {
                    Fail(now, $"the server bound an unusable address ({(jid.Ok ? jid.Value.ToString() : jid.Error)})", "invalid-from");
                    return;
                }
                BoundJid = jid.Value;
                if (_sessionRequired)
                {
                    _pendingId = NextId("sess");
                    SendElement(XmppStanzas.Iq("set", _pendingId).Add(new XmlElement("session", XmppNs.Session)));
                    State = XmppState.SessionStarting;
                    return;
                }
                FetchRoster();
                return;
            }
            case XmppState.SessionStarting:
                FetchRoster();
                return;
            case XmppState.RosterFetching:
                OnRosterResult(iq);
                GoOnline(now);
                return;
        }
    }

    private void FetchRoster()
    {
        _pendingId = NextId("roster");
        SendElement(XmppStanzas.Iq("get", _pendingId).Add(new XmlElement("query", XmppNs.Roster)));
        State = XmppState.RosterFetching;
    }

    private void GoOnline(Instant now)
    {
        SendElement(XmppStanzas.Presence(_config.NodeId, _config.OverlayId));
        State = XmppState.Online;
        _failures = 0;
        _timers.Stop(XmppTimer.Negotiation);
        _timers.Set(XmppTimer.PingDue, now + _config.PingInterval);
        Log(XmppLogLevel.Info, $"online as {BoundJid} with node id {_config.NodeId}");
        _outputs.Enqueue(new XmppOutput.Online(BoundJid!));
    }

    /// <summary>Ends the current connection and schedules the next attempt (or gives up).</summary>
    private void Fail(Instant now, string reason, string? streamError, bool sendClose = false)
    {
        if (!IsConnectedState && State != XmppState.Connecting) return;
        // No goodbye in the middle of a TLS handshake: the bytes would corrupt it.
        if (_headerSent && State != XmppState.TlsHandshaking)
        {
            if (streamError is not null) Send(XmppStanzas.StreamError(streamError) + XmppStanzas.StreamClose, sensitive: false);
            else if (sendClose) Send(XmppStanzas.StreamClose, sensitive: false);
        }
        _outputs.Enqueue(new XmppOutput.Close(_connection, reason));
        Log(XmppLogLevel.Warning, "connection lost: " + reason);
        _timers.Stop(XmppTimer.Negotiation);
        _timers.Stop(XmppTimer.PingDue);
        _timers.Stop(XmppTimer.PingReply);
        ClearPeers();
        _failures++;
        if (_config.ReconnectAttemptsMax is { } max && _failures >= max)
        {
            _outputs.Enqueue(new XmppOutput.Offline(reason, null));
            Stopped($"gave up after {_failures} failed attempts; last: {reason}");
            return;
        }
        var delay = _random.Jitter(Backoff.Exponential(_failures, _config.ReconnectDelayFirst, _config.ReconnectDelayMax), _config.ReconnectJitter);
        var at = now + delay;
        State = XmppState.Backoff;
        _timers.Set(XmppTimer.Backoff, at);
        _outputs.Enqueue(new XmppOutput.Offline(reason, at));
    }

    /// <summary>Final: closes the connection (politely when asked) and arms nothing.</summary>
    private void StopFor(string reason, bool sendGoodbye)
    {
        if (State == XmppState.Stopped) return;
        bool connected = IsConnectedState && State != XmppState.TlsHandshaking;
        if (sendGoodbye && connected && _headerSent)
        {
            if (State == XmppState.Online) SendElement(new XmlElement("presence", XmppNs.Client).With("type", "unavailable"));
            Send(XmppStanzas.StreamClose, sensitive: false);
        }
        if (IsConnectedState || State == XmppState.Connecting) _outputs.Enqueue(new XmppOutput.Close(_connection, reason));
        if (State == XmppState.Online) _outputs.Enqueue(new XmppOutput.Offline(reason, null));
        ClearPeers();
        Stopped(reason);
    }

    private void Stopped(string reason)
    {
        State = XmppState.Stopped;
        foreach (var t in Enum.GetValues<XmppTimer>()) _timers.Stop(t);
        Log(XmppLogLevel.Info, "stopped: " + reason);
        _outputs.Enqueue(new XmppOutput.Stopped(reason));
    }

    private string NextId(string what) => $"{what}-{_connection}-{++_nextId}";

    private void SendElement(XmlElement e) => Send(XmppStanzas.InStream(e), sensitive: false);

    private void Send(string xml, bool sensitive) =>
        _outputs.Enqueue(new XmppOutput.Send(_connection, Encoding.UTF8.GetBytes(xml), sensitive));

    private void Log(XmppLogLevel level, string text) => _outputs.Enqueue(new XmppOutput.Log(level, text));
}
