// A stanza-level XMPP server for the simulator (a subset of RFC 6120 and RFC 6121), sans-IO: the
// simulator opens streams, carries the clients' bytes in with Receive and the server's bytes out
// with TryPollOutput; there is no socket, clock, thread or randomness in here. Hand-written: no
// XMPP server package is served (the real node's integration tests run against Prosody instead).
// It reuses the client's XmlStreamParser, XmlElement, Jid and XmppStanzas.
//
// Contract, per stream (one client TCP connection):
//  - negotiation: stream header -> features <starttls required/> -> <proceed/>, then nothing until
//    TlsEstablished (bytes before it: policy-violation) -> new header -> features <mechanisms>
//    SCRAM-SHA-1 (RFC 5802, as Prosody offers it: challenge, response, success carrying the server
//    signature; per-account stored keys derived once, salt and server nonce derived from names so a
//    run stays a function of its parameters) and PLAIN -> <auth> checked against the accounts
//    (failure not-authorized / invalid-mechanism /
//    incorrect-encoding; the AuthAttemptsMax-th failure also ends the stream) -> <success/> ->
//    new header -> features <bind/> and optional <session/> -> bind (a full address already bound
//    elsewhere kicks the older stream with a conflict stream error, RFC 6120 §7.7.2.2) -> session.
//  - bound: the server stamps 'from' with the sender's full address on everything it relays.
//    iq: roster get (one item per other account, all in the one shared group, subscription
//    'both', in account order), ping and session to the server are answered; any other get/set
//    gets service-unavailable; results and errors are ignored.
//    presence (no type, no 'to'): the session becomes available with that stanza's child
//    elements; the presence goes to the sender first (echo) and to every other available session
//    (every account is in the group); on the first one the sender then gets the presence of every
//    other available session (RFC 6121 §4.2.2). 'unavailable' is broadcast to the others. Other
//    types and directed presence are ignored. Broadcast presence carries no 'to' (RFC 6120 §8.1.1.1).
//    message: to a bound full address, or to every available session of a bare address; otherwise
//    dropped (headline, error) or bounced with service-unavailable (RFC 6121 §8.5), counted dropped.
//  - the stream ends by the client's </stream:stream> (answered, then Close), Lost (no output),
//    a stream error (malformed XML, limits, a stanza out of order, an unknown element: error,
//    </stream:stream>, Close) or CloseAll (system-shutdown, no presence broadcast). An ended
//    available session is reported unavailable to the others, except under CloseAll.
//  - never throws on any input; calls about unknown or ended streams are ignored and counted.
//  - outputs: at the end of each public call, one Send per stream touched (its bytes in order)
//    followed by its Close if it ended, streams in the order first touched. No hash order reaches
//    an output: streams and sessions are kept in sorted dictionaries keyed by stream number.
//  - bounds: the parser bounds each stream's buffered input by XmlLimits; SASL attempts are bounded;
//    what the server sends per call is bounded by what it holds (sessions x payload sizes).
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Xmpp;

namespace EdgeVpn.Sim.Servers;

public abstract record XmppServerOutput
{
    /// <summary>Bytes to the client on that stream; Presences: how many presence stanzas they hold
    /// (the simulator waits for those before it calls the overlay converged).</summary>
    public sealed record Send(long Stream, byte[] Bytes, int Presences) : XmppServerOutput
    {
        public override string ToString() => $"Send {{ Stream = {Stream}, Bytes = {Bytes.Length}, Presences = {Presences} }}";
    }
    /// <summary>The server closes the TCP connection (after any bytes sent before it).</summary>
    public sealed record Close(long Stream, string Reason) : XmppServerOutput;
}

public sealed class VirtualXmppServer
{
    public const int AuthAttemptsMax = 3;

    private enum Phase : byte { AwaitHeader, Open, AwaitTls, Ended }

    private sealed class Stream(long id, XmlLimits limits)
    {
        public readonly long Id = id;
        public readonly XmlStreamParser Parser = new(limits);
        public Phase Phase = Phase.AwaitHeader;
        public int Restarts;                   // stream restarts so far (after TLS, after SASL)
        public bool HeaderSent;                // our header for the current (restarted) stream
        public bool Tls;
        public string? Account;                // the authenticated local part
        public Jid? Bound;
        public List<XmlElement>? Presence;     // non-null exactly when available
        public int AuthFailures;
        public ScramSha1Server? Scram;         // a SCRAM exchange waiting for the client's response
        public string? ScramUser;
        // Output of the current call.
        public readonly StringBuilder Pending = new();
        public int PendingPresences;
        public string? CloseReason;
        public bool Touched;
    }

    private readonly List<string> _accounts;
    private readonly Dictionary<string, int> _accountIndex;   // lookup only, never iterated
    private readonly Func<string, string> _passwordOf;
    private readonly XmlLimits _limits;
    private readonly SortedDictionary<long, Stream> _streams = new();
    private readonly Dictionary<string, ScramSha1Server.StoredCredentials> _scramCredentials = new(StringComparer.Ordinal);   // lookup only
    private readonly bool _offerScram;
    private readonly Dictionary<string, Stream> _boundByJid = new(StringComparer.Ordinal);   // lookup only
    private readonly SortedDictionary<long, Stream> _available = new();
    private readonly List<Stream> _touched = [];
    private readonly Queue<XmppServerOutput> _outputs = new();
    private readonly List<string> _rosterItems = [];   // the XML of each account's roster item, in account order

    /// <param name="offerScram">Offer SCRAM-SHA-1 before PLAIN (as Prosody does); false offers PLAIN alone.</param>
    public VirtualXmppServer(string domain, string group, IReadOnlyList<string> accounts, Func<string, string> passwordOf, XmlLimits limits, bool offerScram = true)
    {
        _offerScram = offerScram;
        var d = Jid.Parse(domain);
        if (!d.Ok || d.Value.Local is not null || d.Value.Resource is not null)
            throw new ArgumentException($"'{domain}' is not a domain", nameof(domain));
        if (string.IsNullOrEmpty(group) || !XmlElement.IsValidXmlText(group))
            throw new ArgumentException("the group must be non-empty valid text", nameof(group));
        Domain = d.Value.Domain;
        _accounts = [];
        _accountIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string a in accounts)
        {
            var j = Jid.Parse($"{a}@{Domain}");
            if (!j.Ok || j.Value.Local != a) throw new ArgumentException($"account '{a}' is not a lower-case local part", nameof(accounts));
            if (!_accountIndex.TryAdd(a, _accounts.Count)) throw new ArgumentException($"account '{a}' is listed twice", nameof(accounts));
            _accounts.Add(a);
            // The roster differs per account only by the account itself: each item is built once.
            _rosterItems.Add($"<item jid='{XmlElement.Escape(a + "@" + Domain)}' subscription='both'><group>{XmlElement.Escape(group)}</group></item>");
        }
        _passwordOf = passwordOf;
        _limits = limits;
    }

    public string Domain { get; }
    public int OpenStreams => _streams.Count;
    public int BoundSessions => _boundByJid.Count;
    public int AvailableSessions => _available.Count;
    public long StanzasIn { get; private set; }
    public long StanzasOut { get; private set; }
    public long BytesIn { get; private set; }
    public long BytesOut { get; private set; }
    public long PresenceDelivered { get; private set; }
    public long MessagesRouted { get; private set; }
    public long MessagesDropped { get; private set; }
    public long StreamErrors { get; private set; }
    /// <summary>Successful logins by SASL mechanism.</summary>
    public long ScramLogins { get; private set; }
    public long PlainLogins { get; private set; }
    /// <summary>Calls about streams that are unknown or already ended (or in a state that expects no such call).</summary>
    public long IgnoredCalls { get; private set; }

    public void Open(long stream)
    {
        if (_streams.ContainsKey(stream)) { IgnoredCalls++; return; }
        _streams.Add(stream, new Stream(stream, _limits));
    }

    public void Receive(long stream, ReadOnlySpan<byte> bytes)
    {
        if (!_streams.TryGetValue(stream, out var s)) { IgnoredCalls++; return; }
        BytesIn += bytes.Length;
        if (bytes.IsEmpty) return;
        if (s.Phase == Phase.AwaitTls)
        {
            Terminate(s, "policy-violation", "bytes before the TLS handshake finished", broadcast: true);
            Flush();
            return;
        }
        s.Parser.Feed(bytes);
        while (s.Phase != Phase.Ended && s.Parser.TryPollEvent(out var ev))
        {
            switch (ev)
            {
                case XmlStreamEvent.Error e:
                    Terminate(s, e.Condition, "bad XML: " + e.Reason, broadcast: true);
                    break;
                case XmlStreamEvent.End:
                    Write(s, XmppStanzas.StreamClose);
                    End(s, "the client closed its stream", closeOutput: true, broadcast: true);
                    break;
                case XmlStreamEvent.Header h:
                    OnHeader(s, h.Stream);
                    break;
                case XmlStreamEvent.Stanza st:
                    StanzasIn++;
                    OnStanza(s, st.Element);
                    break;
            }
        }
        Flush();
    }

    public void TlsEstablished(long stream)
    {
        if (!_streams.TryGetValue(stream, out var s) || s.Phase != Phase.AwaitTls) { IgnoredCalls++; return; }
        s.Tls = true;
        Restart(s);
    }

    public void Lost(long stream)
    {
        if (!_streams.TryGetValue(stream, out var s)) { IgnoredCalls++; return; }
        End(s, "lost", closeOutput: false, broadcast: true);
        Flush();
    }

    public void CloseAll(string reason)
    {
        foreach (var s in _streams.Values.ToList())
            Terminate(s, "system-shutdown", reason, broadcast: false);
        Flush();
    }

    public bool TryPollOutput(out XmppServerOutput output) => _outputs.TryDequeue(out output!);

    public void CheckInvariants()
    {
        static void Require(bool ok, string what) { if (!ok) throw new InvariantViolation("VirtualXmppServer: " + what); }
        int bound = 0, available = 0;
        int bufferMax = Math.Max(_limits.StanzaBytesMax, _limits.HeaderBytesMax);
        foreach (var (id, s) in _streams)
        {
            Require(s.Id == id && s.Phase != Phase.Ended, $"stream {id} listed but ended or misfiled");
            Require(s.Account is null || s.Tls, $"stream {id} authenticated without TLS");
            Require(s.Bound is null || (s.Account is not null && s.Bound.Local == s.Account && s.Bound.Resource is not null), $"stream {id} bound without authentication or to another account");
            Require(s.Presence is null || s.Bound is not null, $"stream {id} available but not bound");
            Require(s.AuthFailures is >= 0 and < AuthAttemptsMax, $"stream {id} has {s.AuthFailures} SASL failures");
            Require(s.Phase != Phase.AwaitTls || !s.Tls, $"stream {id} waits for TLS twice");
            Require(s.Parser.BufferedBytes <= bufferMax, $"stream {id} buffers {s.Parser.BufferedBytes} bytes");
            Require(!s.Touched && s.Pending.Length == 0 && s.PendingPresences == 0 && s.CloseReason is null, $"stream {id} has unflushed output");
            if (s.Bound is not null)
            {
                bound++;
                Require(_boundByJid.TryGetValue(s.Bound.ToString(), out var b) && b == s, $"stream {id} bound to {s.Bound} but not filed under it");
            }
            if (s.Presence is not null)
            {
                available++;
                Require(_available.TryGetValue(id, out var a) && a == s, $"stream {id} available but not filed as available");
            }
        }
        Require(bound == _boundByJid.Count, $"{_boundByJid.Count} bound addresses but {bound} bound streams");
        Require(available == _available.Count, $"{_available.Count} available entries but {available} available streams");
        Require(_touched.Count == 0, "output left unflushed");
        Require(StanzasIn >= 0 && StanzasOut >= PresenceDelivered + MessagesRouted && MessagesDropped >= 0 && StreamErrors >= 0 && BytesIn >= 0 && BytesOut >= 0,
            "counters inconsistent");
    }

    // ---- negotiation ----

    private void OnHeader(Stream s, XmlElement header)
    {
        SendHeader(s);
        string? to = header.Attr("to");
        if (to is not null && !string.Equals(to.TrimEnd('.'), Domain, StringComparison.OrdinalIgnoreCase))
        {
            Terminate(s, "host-unknown", $"stream to '{Printable.Of(to)}'", broadcast: true);
            return;
        }
        string? version = header.Attr("version");
        if (version is null || !version.StartsWith("1.", StringComparison.Ordinal))
        {
            Terminate(s, "unsupported-version", $"stream version '{Printable.Of(version)}'", broadcast: true);
            return;
        }
        s.Phase = Phase.Open;
        var features = new XmlElement("features", XmppNs.Streams);
        if (!s.Tls)
            features.Add(new XmlElement("starttls", XmppNs.Tls).Add(new XmlElement("required", XmppNs.Tls)));
        else if (s.Account is null)
        {
            var mechanisms = new XmlElement("mechanisms", XmppNs.Sasl);
            if (_offerScram) mechanisms.Add(new XmlElement("mechanism", XmppNs.Sasl).WithText("SCRAM-SHA-1"));
            features.Add(mechanisms.Add(new XmlElement("mechanism", XmppNs.Sasl).WithText("PLAIN")));
        }
        else
        {
            features.Add(new XmlElement("bind", XmppNs.Bind));
            features.Add(new XmlElement("session", XmppNs.Session).Add(new XmlElement("optional", XmppNs.Session)));
        }
        Write(s, "<stream:features>" + string.Concat(features.Children.Select(c => c.ToXml())) + "</stream:features>");
        StanzasOut++;
    }

    private void SendHeader(Stream s)
    {
        if (s.HeaderSent) return;
        s.HeaderSent = true;
        string id = s.Restarts == 0 ? $"s{s.Id}" : $"s{s.Id}.{s.Restarts}";
        Write(s, $"<?xml version='1.0'?><stream:stream from='{XmlElement.Escape(Domain)}' id='{id}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    }

    /// <summary>A new stream on the same connection (after TLS, after SASL success): a new header is expected.</summary>
    private void Restart(Stream s)
    {
        s.Parser.Reset();
        s.Restarts++;
        s.HeaderSent = false;
        s.Phase = Phase.AwaitHeader;
    }

    private void OnStanza(Stream s, XmlElement e)
    {
        if (e.Namespace == XmppNs.Streams)
        {
            if (e.Name == "error")
            {
                // The client gives up on the stream: close ours too.
                Write(s, XmppStanzas.StreamClose);
                End(s, "stream error from the client", closeOutput: true, broadcast: true);
            }
            else Terminate(s, "unsupported-stanza-type", $"<stream:{Printable.Of(e.Name)}>", broadcast: true);
            return;
        }
        if (!s.Tls)
        {
            if (e.Is("starttls", XmppNs.Tls))
            {
                Write(s, XmppStanzas.InStream(new XmlElement("proceed", XmppNs.Tls)));
                StanzasOut++;
                s.Phase = Phase.AwaitTls;
                return;
            }
            Terminate(s, "policy-violation", $"<{Printable.Of(e.Name)}> before STARTTLS", broadcast: true);
            return;
        }
        if (s.Account is null)
        {
            if (e.Namespace == XmppNs.Sasl) { OnSasl(s, e); return; }
            Terminate(s, "not-authorized", $"<{Printable.Of(e.Name)}> before authentication", broadcast: true);
            return;
        }
        if (e.Namespace != XmppNs.Client || e.Name is not ("iq" or "presence" or "message"))
        {
            Terminate(s, "unsupported-stanza-type", $"<{Printable.Of(e.Name)}> in '{Printable.Of(e.Namespace)}'", broadcast: true);
            return;
        }
        if (s.Bound is null)
        {
            if (e.Name == "iq" && e.Attr("type") == "set" && e.Child("bind", XmppNs.Bind) is { } bind && e.Attr("id") is not null)
            {
                OnBind(s, e, bind);
                return;
            }
            Terminate(s, "not-authorized", $"<{e.Name}> before resource binding", broadcast: true);
            return;
        }
        e.With("from", s.Bound.ToString());   // RFC 6120 §8.1.2.1: the server stamps the sender
        switch (e.Name)
        {
            case "iq": OnIq(s, e); return;
            case "presence": OnPresence(s, e); return;
            default: OnMessage(s, e); return;
        }
    }

    private void OnSasl(Stream s, XmlElement e)
    {
        if (e.Name == "abort") { SaslFailure(s, "aborted"); return; }
        if (e.Name == "response" && s.Scram is not null) { OnScramResponse(s, e); return; }
        if (e.Name != "auth") { Terminate(s, "not-authorized", $"SASL <{Printable.Of(e.Name)}> without an exchange", broadcast: true); return; }
        string? mechanism = e.Attr("mechanism");
        if (mechanism == "SCRAM-SHA-1" && _offerScram) { OnScramAuth(s, e); return; }
        if (mechanism != "PLAIN") { SaslFailure(s, "invalid-mechanism"); return; }
        if (DecodeSasl(e) is not { } payload) { SaslFailure(s, "incorrect-encoding"); return; }
        string[] parts = payload.Split('\0');
        if (parts.Length != 3) { SaslFailure(s, "malformed-request"); return; }
        string authzid = parts[0], user = parts[1], password = parts[2];
        if (!_accountIndex.ContainsKey(user) || password != _passwordOf(user)) { SaslFailure(s, "not-authorized"); return; }
        if (authzid.Length > 0 && authzid != $"{user}@{Domain}") { SaslFailure(s, "invalid-authzid"); return; }
        PlainLogins++;
        Authenticated(s, user, new XmlElement("success", XmppNs.Sasl));
    }

    private void Authenticated(Stream s, string user, XmlElement success)
    {
        s.Account = user;
        s.Scram = null;
        s.ScramUser = null;
        Write(s, XmppStanzas.InStream(success));
        StanzasOut++;
        Restart(s);   // anything the client sent after <auth> belongs to no stream (RFC 6120 §6.4.6)
    }

    private static string? DecodeSasl(XmlElement e) => XmppStanzas.TryDecodeSaslText(e.Text, out string text) ? text : null;

    private void OnScramAuth(Stream s, XmlElement e)
    {
        if (DecodeSasl(e) is not { } clientFirst) { SaslFailure(s, "incorrect-encoding"); return; }
        var scram = new ScramSha1Server();
        var user = scram.HandleClientFirst(clientFirst);
        if (!user.Ok) { SaslFailure(s, "malformed-request"); return; }
        if (!_accountIndex.ContainsKey(user.Value)) { SaslFailure(s, "not-authorized"); return; }
        s.Scram = scram;
        s.ScramUser = user.Value;
        string serverNonce = $"{s.Id}x{s.Restarts}x{s.AuthFailures}sim";
        Write(s, XmppStanzas.InStream(new XmlElement("challenge", XmppNs.Sasl).WithText(XmppStanzas.SaslText(scram.ServerFirst(CredentialsOf(user.Value), serverNonce)))));
        StanzasOut++;
    }

    private void OnScramResponse(Stream s, XmlElement e)
    {
        var scram = s.Scram!;
        string user = s.ScramUser!;
        s.Scram = null;
        s.ScramUser = null;
        if (DecodeSasl(e) is not { } clientFinal) { SaslFailure(s, "incorrect-encoding"); return; }
        var final = scram.HandleClientFinal(clientFinal);
        if (!final.Ok) { SaslFailure(s, "not-authorized"); return; }
        ScramLogins++;
        Authenticated(s, user, new XmlElement("success", XmppNs.Sasl).WithText(XmppStanzas.SaslText(final.Value)));
    }

    /// <summary>The account's stored SCRAM keys, derived on its first login (PBKDF2 is slow on purpose).
    /// The salt comes from the account's name: nothing random, nothing secret is simulated.</summary>
    private ScramSha1Server.StoredCredentials CredentialsOf(string user)
    {
        if (_scramCredentials.TryGetValue(user, out var known)) return known;
        byte[] salt = System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes("edgevpn-sim-salt:" + user))[..16];
        var created = ScramSha1Server.StoredCredentials.From(_passwordOf(user), salt, ScramSha1Client.IterationsMin);
        _scramCredentials[user] = created;
        return created;
    }

    private void SaslFailure(Stream s, string condition)
    {
        Write(s, XmppStanzas.InStream(new XmlElement("failure", XmppNs.Sasl).Add(new XmlElement(condition, XmppNs.Sasl))));
        StanzasOut++;
        if (++s.AuthFailures >= AuthAttemptsMax)
            Terminate(s, "policy-violation", $"{AuthAttemptsMax} failed SASL attempts", broadcast: true);
    }

    private void OnBind(Stream s, XmlElement iq, XmlElement bind)
    {
        string resource = bind.Child("resource", XmppNs.Bind)?.Text.Trim() ?? "";
        if (resource.Length == 0) resource = $"r{s.Id}.{s.Restarts}";
        var jid = Jid.Parse($"{s.Account}@{Domain}/{resource}");
        if (!jid.Ok || jid.Value.Local != s.Account)
        {
            Reply(s, IqError(iq, s, "bad-request"));
            return;
        }
        string key = jid.Value.ToString();
        if (_boundByJid.TryGetValue(key, out var old))
            Terminate(old, "conflict", $"{key} bound again on stream {s.Id}", broadcast: true);
        s.Bound = jid.Value;
        _boundByJid.Add(key, s);
        Reply(s, new XmlElement("iq", XmppNs.Client).With("type", "result").With("id", iq.Attr("id"))
            .Add(new XmlElement("bind", XmppNs.Bind).Add(new XmlElement("jid", XmppNs.Bind).WithText(key))));
    }

    // ---- stanzas of a bound session ----

    private bool ToServer(Stream s, string? to) =>
        to is null || to == Domain || (Jid.Parse(to) is { Ok: true } j && (j.Value.Equals(new Jid(null, Domain, null)) || j.Value.Equals(s.Bound!.Bare)));

    private void OnIq(Stream s, XmlElement iq)
    {
        string? type = iq.Attr("type");
        if (type is "result" or "error") return;
        string? to = iq.Attr("to");
        if (type is not ("get" or "set") || iq.Attr("id") is null)
        {
            Reply(s, IqError(iq, s, "bad-request"));
            return;
        }
        if (!ToServer(s, to)) { Reply(s, IqError(iq, s, "service-unavailable")); return; }
        var payload = iq.Children.Count == 1 ? iq.Children[0] : null;
        if (type == "get" && payload is not null && payload.Is("query", XmppNs.Roster))
        {
            // The reply's XML with an empty query, whose self-closing tail is then replaced by the items.
            string shell = XmppStanzas.InStream(new XmlElement("iq", XmppNs.Client).With("type", "result").With("id", iq.Attr("id"))
                .With("to", s.Bound!.ToString()).Add(new XmlElement("query", XmppNs.Roster)));
            const string emptyTail = "<query xmlns='jabber:iq:roster'/></iq>";
            var sb = new StringBuilder(shell, 0, shell.Length - emptyTail.Length, shell.Length + 64 * _rosterItems.Count);
            sb.Append("<query xmlns='jabber:iq:roster'>");
            int self = _accountIndex[s.Account!];
            for (int i = 0; i < _rosterItems.Count; i++)
                if (i != self) sb.Append(_rosterItems[i]);
            sb.Append("</query></iq>");
            Write(s, sb.ToString());
            StanzasOut++;
            return;
        }
        if ((type == "get" && payload is not null && payload.Is("ping", XmppNs.Ping))
            || (type == "set" && payload is not null && payload.Is("session", XmppNs.Session)))
        {
            Reply(s, new XmlElement("iq", XmppNs.Client).With("type", "result").With("id", iq.Attr("id"))
                .With("from", to).With("to", s.Bound!.ToString()));
            return;
        }
        Reply(s, IqError(iq, s, "service-unavailable"));
    }

    private static XmlElement IqError(XmlElement request, Stream s, string condition)
    {
        var reply = XmppStanzas.IqError(request, condition);
        reply.With("to", s.Bound?.ToString());
        if (request.Attr("to") is { } to) reply.With("from", to);
        return reply;
    }

    private void OnPresence(Stream s, XmlElement p)
    {
        string? type = p.Attr("type");
        if (p.Attr("to") is { } to && !ToServer(s, to)) return;   // directed presence: not supported
        if (type is null)
        {
            bool initial = s.Presence is null;
            s.Presence = [.. p.Children];
            _available[s.Id] = s;
            string xml = PresenceXml(s);
            Deliver(s, xml);
            foreach (var other in _available.Values)
                if (other != s) Deliver(other, xml);
            if (initial)
                foreach (var other in _available.Values)
                    if (other != s) Deliver(s, PresenceXml(other));
            return;
        }
        if (type == "unavailable" && s.Presence is not null)
        {
            Unavailable(s, broadcast: true);
        }
        // subscribe, probe and the like: the shared group already subscribes everyone.
    }

    private string PresenceXml(Stream s)
    {
        var e = new XmlElement("presence", XmppNs.Client).With("from", s.Bound!.ToString());
        foreach (var c in s.Presence!) e.Add(c);
        return XmppStanzas.InStream(e);
    }

    private void Deliver(Stream to, string presenceXml)
    {
        Write(to, presenceXml);
        StanzasOut++;
        PresenceDelivered++;
        to.PendingPresences++;
    }

    private void Unavailable(Stream s, bool broadcast)
    {
        if (s.Presence is null) return;
        s.Presence = null;
        _available.Remove(s.Id);
        if (!broadcast) return;
        string xml = XmppStanzas.InStream(new XmlElement("presence", XmppNs.Client).With("from", s.Bound!.ToString()).With("type", "unavailable"));
        foreach (var other in _available.Values) Deliver(other, xml);
    }

    private void OnMessage(Stream s, XmlElement m)
    {
        string? type = m.Attr("type");
        string? to = m.Attr("to");
        var jid = Jid.Parse(to);
        if (jid.Ok && jid.Value.Domain == Domain && jid.Value.Local is { } local && _accountIndex.ContainsKey(local))
        {
            if (!jid.Value.IsBare)
            {
                if (_boundByJid.TryGetValue(jid.Value.ToString(), out var target)) { Route(target, m); return; }
            }
            else
            {
                bool any = false;
                string xml = XmppStanzas.InStream(m);
                foreach (var target in _available.Values)
                    if (target.Bound!.Local == local)
                    {
                        Write(target, xml);
                        StanzasOut++;
                        MessagesRouted++;
                        any = true;
                    }
                if (any) return;
            }
        }
        MessagesDropped++;
        if (type is "headline" or "error") return;   // RFC 6121 §8.5.2: never bounce these
        var bounce = new XmlElement("message", XmppNs.Client).With("type", "error").With("id", m.Attr("id"))
            .With("from", to).With("to", s.Bound!.ToString())
            .Add(new XmlElement("error", XmppNs.Client).With("type", "cancel")
                .Add(new XmlElement(jid.Ok ? "service-unavailable" : "jid-malformed", XmppNs.Stanzas)));
        Reply(s, bounce);
    }

    private void Route(Stream target, XmlElement m)
    {
        Write(target, XmppStanzas.InStream(m));
        StanzasOut++;
        MessagesRouted++;
    }

    private void Reply(Stream s, XmlElement e)
    {
        Write(s, XmppStanzas.InStream(e));
        StanzasOut++;
    }

    // ---- ending streams and output ----

    /// <summary>A stream error (RFC 6120 §4.9): our header if not yet sent, the error, our close, then Close.</summary>
    private void Terminate(Stream s, string condition, string reason, bool broadcast)
    {
        if (s.Phase == Phase.Ended) return;
        SendHeader(s);
        Write(s, XmppStanzas.StreamError(condition) + XmppStanzas.StreamClose);
        StreamErrors++;
        End(s, $"{condition}: {reason}", closeOutput: true, broadcast);
    }

    private void End(Stream s, string reason, bool closeOutput, bool broadcast)
    {
        if (s.Phase == Phase.Ended) return;
        s.Phase = Phase.Ended;
        Unavailable(s, broadcast);
        if (s.Bound is not null) _boundByJid.Remove(s.Bound.ToString());
        _streams.Remove(s.Id);
        if (closeOutput)
        {
            s.CloseReason = reason;
            Touch(s);
        }
    }

    private void Write(Stream s, string xml)
    {
        s.Pending.Append(xml);
        Touch(s);
    }

    private void Touch(Stream s)
    {
        if (s.Touched) return;
        s.Touched = true;
        _touched.Add(s);
    }

    private void Flush()
    {
        foreach (var s in _touched)
        {
            if (s.Pending.Length > 0)
            {
                var bytes = Encoding.UTF8.GetBytes(s.Pending.ToString());
                BytesOut += bytes.Length;
                _outputs.Enqueue(new XmppServerOutput.Send(s.Id, bytes, s.PendingPresences));
                s.Pending.Clear();
                s.PendingPresences = 0;
            }
            if (s.CloseReason is { } reason)
            {
                _outputs.Enqueue(new XmppServerOutput.Close(s.Id, reason));
                s.CloseReason = null;
            }
            s.Touched = false;
        }
        _touched.Clear();
    }
}
