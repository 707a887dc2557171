// A scripted XMPP server and a harness that wires it to an XmppSession without sockets or
// clocks: the harness carries the session's transport outputs to the server (Connect, Send,
// StartTls, Close), feeds the server's bytes back, and jumps virtual time to the session's next
// timer. The server speaks just enough RFC 6120/6121 for the client's happy path (STARTTLS,
// SCRAM-SHA-1 with the RFC 5802 example values, PLAIN, bind, roster, ping) and lets a test
// override any answer, or push stanzas of its own, to exercise failures.
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

internal sealed class FakeXmppServer
{
    public const string Password = "pencil";
    private XmlStreamParser _parser = new();
    private readonly StringBuilder _out = new();
    private bool _tls, _authenticated;

    public bool OfferStartTls { get; set; } = true;
    public string[] Mechanisms { get; set; } = ["SCRAM-SHA-1", "PLAIN"];
    public string ServerFinal { get; set; } = ScramSha1ClientTests.ServerFinal;
    public string? SaslFailure { get; set; }
    public bool AnswerPings { get; set; } = true;
    public string RosterItems { get; set; } =
        "<item jid='alice@example.org' subscription='both'><group>overlay1</group></item>"
        + "<item jid='bob@example.org' subscription='both' name='Bob'><group>overlay1</group><group>other</group></item>"
        + "<item jid='eve@example.org' subscription='both'><group>other</group></item>";
    /// <summary>Called with each stanza from the client; return true when it handled it.</summary>
    public Func<XmlElement, bool>? Override { get; set; }

    public List<XmlElement> Received { get; } = [];
    public List<string> Errors { get; } = [];
    public bool HeaderSeen { get; private set; }
    public bool TlsStartedByClient { get; private set; }

    public void OnConnect() { _parser = new XmlStreamParser(); _tls = _authenticated = false; HeaderSeen = false; }

    public void OnTlsEstablished() { _tls = true; _parser.Reset(); }

    public void Push(string xml) => _out.Append(xml);

    public string TakeOutput()
    {
        string s = _out.ToString();
        _out.Clear();
        return s;
    }

    public void OnBytes(byte[] bytes)
    {
        _parser.Feed(bytes);
        while (_parser.TryPollEvent(out var ev))
        {
            switch (ev)
            {
                case XmlStreamEvent.Header:
                    HeaderSeen = true;
                    Push("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='example.org' id='x1'>");
                    Push(Features());
                    break;
                case XmlStreamEvent.Stanza s:
                    Received.Add(s.Element);
                    if (Override?.Invoke(s.Element) != true) Answer(s.Element);
                    break;
                case XmlStreamEvent.Error e:
                    Errors.Add(e.Condition + ": " + e.Reason);
                    break;
            }
        }
    }

    private string Features()
    {
        if (!_tls)
            return "<stream:features>" + (OfferStartTls ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" : "")
                + Mechs() + "</stream:features>";
        if (!_authenticated) return "<stream:features>" + Mechs() + "</stream:features>";
        return "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>";
    }

    private string Mechs() => "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        + string.Concat(Mechanisms.Select(m => $"<mechanism>{m}</mechanism>")) + "</mechanisms>";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
    private static string Unb64(string s) => Encoding.UTF8.GetString(Convert.FromBase64String(s));

    private void Answer(XmlElement s)
    {
        if (s.Is("starttls", XmppNs.Tls)) { TlsStartedByClient = true; Push("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); return; }
        if (s.Is("auth", XmppNs.Sasl))
        {
            if (SaslFailure is not null) { Push($"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{SaslFailure}/></failure>"); return; }
            string payload = Unb64(s.Text);
            if (s.Attr("mechanism") == "PLAIN")
            {
                if (payload == "\0user\0" + Password) Succeed(null);
                else Push("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
                return;
            }
            Assert.Equal("n,,n=user,r=" + ScramSha1ClientTests.Nonce, payload);
            Push($"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{B64(ScramSha1ClientTests.ServerFirst)}</challenge>");
            return;
        }
        if (s.Is("response", XmppNs.Sasl))
        {
            if (Unb64(s.Text) == ScramSha1ClientTests.ClientFinal) Succeed(ServerFinal);
            else Push("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
            return;
        }
        if (s.Is("iq", XmppNs.Client))
        {
            string id = s.Attr("id")!;
            if (s.Child("bind", XmppNs.Bind) is not null)
                Push($"<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.org/edgevpn</jid></bind></iq>");
            else if (s.Child("query", XmppNs.Roster) is not null && s.Attr("type") == "get")
                Push($"<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'>{RosterItems}</query></iq>");
            else if (s.Child("ping", XmppNs.Ping) is not null && AnswerPings)
                Push($"<iq type='result' id='{id}' from='example.org'/>");
        }
    }

    private void Succeed(string? final)
    {
        _authenticated = true;
        Push(final is null ? "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" : $"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{B64(final)}</success>");
        _parser.Reset();
    }
}

internal sealed class SessionHarness
{
    public static readonly NodeId Node = new(0x0123456789abcdefUL, 0xfedcba9876543210UL);

    public XmppSession Session { get; }
    public FakeXmppServer Server { get; } = new();
    public Instant Now { get; set; } = Instant.Zero;
    public List<XmppOutput> Outputs { get; } = [];
    public List<XmppOutput> Events => Outputs.Where(o => o is not (XmppOutput.Send or XmppOutput.Connect or XmppOutput.StartTls or XmppOutput.Close)).ToList();
    public List<string> Logs => Outputs.OfType<XmppOutput.Log>().Select(l => l.Text).ToList();
    public bool Connected { get; private set; }
    /// <summary>When false, Connect outputs are answered with TransportFailed.</summary>
    public bool ServerReachable { get; set; } = true;

    public SessionHarness(Func<XmppConfig, XmppConfig>? configure = null)
    {
        var config = new XmppConfig
        {
            Host = "server.test",
            Account = Jid.Parse("user@example.org").Value,
            Password = FakeXmppServer.Password,
            NodeId = Node,
            OverlayId = "ov1",
            Group = "overlay1",
            Seed = 7,
        };
        Session = new XmppSession(configure is null ? config : configure(config), () => ScramSha1ClientTests.Nonce);
    }

    public void Input(XmppInput input)
    {
        Session.Handle(Now, input);
        Pump();
    }

    /// <summary>Delivers outputs and server answers until both sides are quiet.</summary>
    public void Pump()
    {
        for (int round = 0; round < 1000; round++)
        {
            Session.CheckInvariants();
            bool progress = false;
            while (Session.TryPollOutput(out var o))
            {
                progress = true;
                Outputs.Add(o);
                switch (o)
                {
                    case XmppOutput.Connect c:
                        if (ServerReachable) { Connected = true; Server.OnConnect(); Session.Handle(Now, new XmppInput.TransportConnected(c.Connection)); }
                        else Session.Handle(Now, new XmppInput.TransportFailed(c.Connection, "connection refused"));
                        break;
                    case XmppOutput.Send s when Connected:
                        Server.OnBytes(s.Bytes);
                        break;
                    case XmppOutput.StartTls t:
                        Server.OnTlsEstablished();
                        Session.Handle(Now, new XmppInput.TlsEstablished(t.Connection));
                        break;
                    case XmppOutput.Close:
                        Connected = false;
                        break;
                }
            }
            string reply = Server.TakeOutput();
            if (reply.Length > 0 && Connected)
            {
                progress = true;
                Session.Handle(Now, new XmppInput.Received(Session.Connection, Encoding.UTF8.GetBytes(reply)));
            }
            if (!progress) return;
        }
        throw new InvalidOperationException("session and server never went quiet");
    }

    /// <summary>Jumps to the session's next timer and fires it.</summary>
    public void Advance()
    {
        var at = Session.PollTimeout() ?? throw new InvalidOperationException("no timer armed");
        if (at > Now) Now = at;
        Session.HandleTimeout(Now);
        Pump();
    }

    public void StartAndGoOnline()
    {
        Input(new XmppInput.Start());
        Assert.Equal(XmppState.Online, Session.State);
    }

    /// <summary>The server pushes a stanza to the client.</summary>
    public void ServerSends(string xml)
    {
        Server.Push(xml);
        Pump();
    }
}
