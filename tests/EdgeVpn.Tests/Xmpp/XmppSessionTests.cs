// XmppSession against a scripted server, without sockets or clocks: the whole negotiation
// (STARTTLS, SCRAM-SHA-1 with the RFC 5802 values, bind, roster, presence), group filtering of
// presence and signals, the refusals (no TLS, forged SCRAM signature, refused password,
// plaintext injection, oversized or malformed XML), reconnection with seeded back-off, pings,
// and that no password ever reaches a log line or a non-sensitive send.
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Xmpp;

public class XmppSessionTests
{
    private const string AlicePresence = "<presence from='alice@example.org/n1'><node xmlns='urn:edgevpn:xmpp:0' id='00000000000000000000000000000abc' overlay='ov1'/></presence>";

    [Fact]
    public void Logs_in_over_starttls_with_scram_sha_1_binds_fetches_the_roster_and_announces_its_node_id()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        Assert.True(h.Server.TlsStartedByClient);
        Assert.Equal("user@example.org/edgevpn", h.Session.BoundJid!.ToString());
        var online = Assert.Single(h.Events.OfType<XmppOutput.Online>());
        Assert.Equal("user@example.org/edgevpn", online.BoundJid.ToString());
        var roster = Assert.Single(h.Events.OfType<XmppOutput.Roster>());
        Assert.Equal(["alice@example.org", "bob@example.org", "eve@example.org"], roster.Items.Select(i => i.Jid.ToString()));
        Assert.Equal(["other", "overlay1"], roster.Items[1].Groups);

        var presence = h.Server.Received.Last(e => e.Name == "presence");
        var node = presence.Child("node", XmppNs.EdgeVpn)!;
        Assert.Equal(SessionHarness.Node.ToString(), node.Attr("id"));
        Assert.Equal("ov1", node.Attr("overlay"));
        Assert.Equal(XmppState.Online, h.Session.State);
        Assert.Empty(h.Server.Errors);
    }

    [Fact]
    public void Plain_is_used_under_tls_when_the_server_lacks_scram()
    {
        var h = new SessionHarness();
        h.Server.Mechanisms = ["PLAIN"];
        h.StartAndGoOnline();
        Assert.Equal("PLAIN", h.Server.Received.Single(e => e.Name == "auth").Attr("mechanism"));
    }

    [Fact]
    public void The_password_never_appears_in_logs_events_or_non_sensitive_sends()
    {
        foreach (var mechanisms in new[] { new[] { "SCRAM-SHA-1" }, new[] { "PLAIN" } })
        {
            var h = new SessionHarness();
            h.Server.Mechanisms = mechanisms;
            h.StartAndGoOnline();
            h.ServerSends("<presence from='alice@example.org/n1'><node xmlns='urn:edgevpn:xmpp:0' id='zz'/></presence>");
            h.Input(new XmppInput.Stop("test over"));
            string plainB64 = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0user\0" + FakeXmppServer.Password));
            foreach (var o in h.Outputs)
            {
                string text = o is XmppOutput.Send s && !s.Sensitive ? Encoding.UTF8.GetString(s.Bytes) : o.ToString()!;
                Assert.DoesNotContain(FakeXmppServer.Password, text);
                Assert.DoesNotContain(plainB64, text);
            }
            Assert.Contains(h.Outputs, o => o is XmppOutput.Send { Sensitive: true });
            Assert.DoesNotContain(FakeXmppServer.Password, h.Session.Config.ToString());
        }
    }

    [Fact]
    public void A_server_without_starttls_gets_no_credentials()
    {
        var h = new SessionHarness();
        h.Server.OfferStartTls = false;
        h.Input(new XmppInput.Start());
        Assert.DoesNotContain(h.Server.Received, e => e.Name == "auth");
        var offline = Assert.Single(h.Events.OfType<XmppOutput.Offline>());
        Assert.Contains("STARTTLS", offline.Reason);
        Assert.NotNull(offline.RetryAt);
        Assert.Equal(XmppState.Backoff, h.Session.State);
    }

    [Fact]
    public void A_server_that_cannot_prove_it_knows_the_password_is_refused()
    {
        var h = new SessionHarness();
        h.Server.ServerFinal = "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        h.Input(new XmppInput.Start());
        Assert.NotEqual(XmppState.Online, h.Session.State);
        Assert.Contains(h.Events.OfType<XmppOutput.Offline>(), o => o.Reason.Contains("signature", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Server.Received, e => e.Name == "iq");
    }

    [Fact]
    public void A_refused_password_stops_the_session_without_retrying()
    {
        var h = new SessionHarness();
        h.Server.SaslFailure = "not-authorized";
        h.Input(new XmppInput.Start());
        Assert.Equal(XmppState.Stopped, h.Session.State);
        Assert.Contains("not-authorized", Assert.Single(h.Events.OfType<XmppOutput.Stopped>()).Reason);
        Assert.Null(h.Session.PollTimeout());
    }

    [Fact]
    public void A_temporary_auth_failure_is_retried_after_back_off()
    {
        var h = new SessionHarness();
        h.Server.SaslFailure = "temporary-auth-failure";
        h.Input(new XmppInput.Start());
        Assert.Equal(XmppState.Backoff, h.Session.State);
        h.Server.SaslFailure = null;
        h.Advance();
        Assert.Equal(XmppState.Online, h.Session.State);
        Assert.Equal(2, h.Outputs.OfType<XmppOutput.Connect>().Count());
    }

    [Fact]
    public void Plaintext_after_proceed_is_refused_as_an_injection()
    {
        var h = new SessionHarness();
        h.Server.Override = e =>
        {
            if (!e.Is("starttls", XmppNs.Tls)) return false;
            h.Server.Push("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq type='result' id='x'/>");
            return true;
        };
        h.Input(new XmppInput.Start());
        Assert.DoesNotContain(h.Outputs, o => o is XmppOutput.StartTls);
        Assert.Contains(h.Events.OfType<XmppOutput.Offline>(), o => o.Reason.Contains("proceed", StringComparison.Ordinal));
    }

    [Fact]
    public void Presence_of_group_members_carries_their_node_ids_and_others_are_dropped_with_a_reason()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends(AlicePresence);
        var p = Assert.Single(h.Events.OfType<XmppOutput.PeerPresence>());
        Assert.Equal("alice@example.org/n1", p.From.ToString());
        Assert.Equal(NodeId.Parse("00000000000000000000000000000abc").Value, p.Node);
        Assert.True(p.Available);

        h.ServerSends("<presence from='eve@example.org/n9'><node xmlns='urn:edgevpn:xmpp:0' id='00000000000000000000000000000def' overlay='ov1'/></presence>");
        h.ServerSends("<presence from='mallory@evil.org/x'><node xmlns='urn:edgevpn:xmpp:0' id='00000000000000000000000000000def' overlay='ov1'/></presence>");
        h.ServerSends("<presence from='bob@example.org/n2'><node xmlns='urn:edgevpn:xmpp:0' id='xyz' overlay='ov1'/></presence>");
        h.ServerSends("<presence from='bob@example.org/n2'><node xmlns='urn:edgevpn:xmpp:0' id='00000000000000000000000000000def' overlay='ov2'/></presence>");
        Assert.Single(h.Events.OfType<XmppOutput.PeerPresence>());
        Assert.Contains(h.Logs, l => l.Contains("eve@example.org is not in group overlay1", StringComparison.Ordinal));
        Assert.Contains(h.Logs, l => l.Contains("mallory@evil.org", StringComparison.Ordinal));
        Assert.Contains(h.Logs, l => l.Contains("bad node id", StringComparison.Ordinal));
        Assert.Contains(h.Logs, l => l.Contains("overlay 'ov2'", StringComparison.Ordinal));

        h.ServerSends("<presence from='alice@example.org/n1' type='unavailable'/>");
        var gone = h.Events.OfType<XmppOutput.PeerPresence>().Last();
        Assert.False(gone.Available);
        Assert.Equal(XmppState.Online, h.Session.State);
    }

    [Fact]
    public void Signals_from_members_are_delivered_and_bad_ones_dropped_while_the_stream_goes_on()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends("<message from='alice@example.org/n1' type='headline'><signal xmlns='urn:edgevpn:xmpp:0'>{\"kind\":\"request\",\"a\":[1,2]}</signal></message>");
        h.ServerSends("<message from='alice@example.org/n1'><signal xmlns='urn:edgevpn:xmpp:0'>{not json</signal></message>");
        h.ServerSends("<message from='eve@example.org/n1'><signal xmlns='urn:edgevpn:xmpp:0'>{}</signal></message>");
        h.ServerSends("<message from='alice@example.org/n1'><body>hello</body></message>");
        h.ServerSends("<message from='alice@example.org/n1'><signal xmlns='urn:edgevpn:xmpp:0'>" + new string('[', 40) + new string(']', 40) + "</signal></message>");
        var s = Assert.Single(h.Events.OfType<XmppOutput.Signal>());
        Assert.Equal("{\"kind\":\"request\",\"a\":[1,2]}", s.Json);
        Assert.Contains(h.Logs, l => l.Contains("not JSON", StringComparison.Ordinal));
        Assert.Contains(h.Logs, l => l.Contains("eve@example.org is not in group", StringComparison.Ordinal));
        Assert.Contains(h.Logs, l => l.Contains("depth", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(XmppState.Online, h.Session.State);
    }

    [Fact]
    public void A_sent_signal_reaches_the_server_as_a_headline_in_our_namespace_with_the_json_intact()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        const string Json = "{\"msg\":\"<a&b> 'q' \\\"x\\\" é\"}";
        h.Input(new XmppInput.SendSignal(Jid.Parse("alice@example.org/n1").Value, Json));
        var m = h.Server.Received.Last();
        Assert.True(m.Is("message", XmppNs.Client));
        Assert.Equal("headline", m.Attr("type"));
        Assert.Equal("alice@example.org/n1", m.Attr("to"));
        Assert.Equal(Json, m.Child("signal", XmppNs.EdgeVpn)!.Text);

        int before = h.Server.Received.Count;
        h.Input(new XmppInput.SendSignal(Jid.Parse("alice@example.org/n1").Value, "not json"));
        h.Input(new XmppInput.SendSignal(Jid.Parse("alice@example.org/n1").Value, "\"" + new string('x', 20_000) + "\""));
        Assert.Equal(before, h.Server.Received.Count);
        Assert.Contains(h.Logs, l => l.Contains("exceeds", StringComparison.Ordinal));
    }

    [Fact]
    public void A_signal_while_offline_is_dropped_with_a_reason()
    {
        var h = new SessionHarness();
        h.Input(new XmppInput.SendSignal(Jid.Parse("alice@example.org/n1").Value, "{}"));
        Assert.Contains(h.Logs, l => l.Contains("not online", StringComparison.Ordinal));
    }

    [Fact]
    public void Roster_pushes_update_membership_and_a_removed_member_goes_unavailable()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends(AlicePresence);
        h.ServerSends("<iq type='set' id='push1'><query xmlns='jabber:iq:roster'><item jid='alice@example.org' subscription='remove'/><item jid='eve@example.org' subscription='both'><group>overlay1</group></item></query></iq>");
        var ack = h.Server.Received.Last();
        Assert.Equal("result", ack.Attr("type"));
        Assert.Equal("push1", ack.Attr("id"));
        var gone = h.Events.OfType<XmppOutput.PeerPresence>().Last();
        Assert.False(gone.Available);
        Assert.Equal("alice@example.org/n1", gone.From.ToString());
        var roster = h.Events.OfType<XmppOutput.Roster>().Last();
        Assert.Equal(["bob@example.org", "eve@example.org"], roster.Items.Select(i => i.Jid.ToString()));
        h.ServerSends("<presence from='eve@example.org/n9'><node xmlns='urn:edgevpn:xmpp:0' id='00000000000000000000000000000def' overlay='ov1'/></presence>");
        Assert.True(h.Events.OfType<XmppOutput.PeerPresence>().Last().Available);
        // A push claiming to come from someone else is refused.
        h.ServerSends("<iq type='set' id='push2' from='eve@example.org/n9'><query xmlns='jabber:iq:roster'><item jid='mallory@evil.org'><group>overlay1</group></item></query></iq>");
        Assert.Equal("error", h.Server.Received.Last().Attr("type"));
        Assert.DoesNotContain(h.Session.Roster, i => i.Jid.Domain == "evil.org");
    }

    [Fact]
    public void Unknown_iq_requests_get_service_unavailable_and_pings_get_a_result()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends("<iq type='get' id='v1' from='example.org'><query xmlns='jabber:iq:version'/></iq>");
        var reply = h.Server.Received.Last();
        Assert.Equal("error", reply.Attr("type"));
        Assert.NotNull(reply.Child("error", XmppNs.Client)!.Child("service-unavailable", XmppNs.Stanzas));
        h.ServerSends("<iq type='get' id='p1' from='example.org'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal("result", h.Server.Received.Last().Attr("type"));
    }

    [Fact]
    public void An_oversized_stanza_ends_the_connection_with_policy_violation_and_a_reconnect_follows()
    {
        var h = new SessionHarness(c => c with { Limits = new XmlLimits(StanzaBytesMax: 4096), SignalBytesMax = 2048 });
        h.StartAndGoOnline();
        h.ServerSends("<message from='alice@example.org/n1'><body>" + new string('x', 5000) + "</body></message>");
        var offline = Assert.Single(h.Events.OfType<XmppOutput.Offline>());
        Assert.Contains("larger than 4096", offline.Reason);
        Assert.Contains(h.Outputs.OfType<XmppOutput.Send>(), s => Encoding.UTF8.GetString(s.Bytes).Contains("<policy-violation", StringComparison.Ordinal));
        Assert.Equal(XmppState.Backoff, h.Session.State);
        h.Advance();
        Assert.True(h.Now >= offline.RetryAt!.Value);
        Assert.Equal(XmppState.Online, h.Session.State);
        Assert.Equal(2, h.Events.OfType<XmppOutput.Online>().Count());
    }

    [Fact]
    public void Malformed_xml_ends_the_connection_with_not_well_formed()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends("<message><!-- comment --></message>");
        Assert.Contains("restricted-xml", Assert.Single(h.Events.OfType<XmppOutput.Offline>()).Reason);
        h.Advance();
        h.ServerSends("<a></b>");
        Assert.Contains("not-well-formed", h.Events.OfType<XmppOutput.Offline>().Last().Reason);
    }

    [Fact]
    public void Inputs_about_an_older_connection_are_ignored()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.Input(new XmppInput.TransportFailed(h.Session.Connection + 1, "stale"));
        h.Input(new XmppInput.Received(h.Session.Connection - 1, Encoding.UTF8.GetBytes("<garbage")));
        Assert.Equal(XmppState.Online, h.Session.State);
        h.Input(new XmppInput.TransportFailed(h.Session.Connection, "reset by peer"));
        Assert.Equal(XmppState.Backoff, h.Session.State);
    }

    [Fact]
    public void An_unanswered_ping_ends_the_connection()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.Advance();   // ping due: answered
        Assert.Equal(XmppState.Online, h.Session.State);
        h.Server.AnswerPings = false;
        h.Advance();   // ping due: not answered
        h.Advance();   // ping timeout
        Assert.Contains("ping", Assert.Single(h.Events.OfType<XmppOutput.Offline>()).Reason);
    }

    [Fact]
    public void A_server_that_stalls_the_negotiation_is_dropped_at_the_deadline()
    {
        var h = new SessionHarness();
        h.Server.Override = e => e.Name == "iq";   // never answers bind
        h.Input(new XmppInput.Start());
        Assert.Equal(XmppState.Binding, h.Session.State);
        h.Advance();
        Assert.Equal(TimeSpan.FromSeconds(30), h.Now - Instant.Zero);
        Assert.Contains("not online within 30 s", Assert.Single(h.Events.OfType<XmppOutput.Offline>()).Reason);
    }

    [Fact]
    public void Reconnect_delays_grow_jittered_within_bounds_and_give_up_after_the_attempts_allowed()
    {
        var delays = ReconnectDelays(seed: 7, attempts: 12);
        Assert.Equal(11, delays.Count);
        for (int i = 0; i < delays.Count; i++)
        {
            double nominal = Math.Min(Math.Pow(2, i), 60);
            Assert.InRange(delays[i].TotalSeconds, nominal * 0.8 - 1e-6, nominal * 1.2 + 1e-6);
        }
        Assert.Equal(delays, ReconnectDelays(seed: 7, attempts: 12));
        Assert.NotEqual(delays, ReconnectDelays(seed: 8, attempts: 12));
    }

    private static List<TimeSpan> ReconnectDelays(ulong seed, int attempts)
    {
        var h = new SessionHarness(c => c with { Seed = seed, ReconnectAttemptsMax = attempts }) { ServerReachable = false };
        h.Input(new XmppInput.Start());
        var delays = new List<TimeSpan>();
        while (h.Session.State == XmppState.Backoff)
        {
            var before = h.Now;
            h.Advance();
            delays.Add(h.Now - before);
        }
        Assert.Equal(XmppState.Stopped, h.Session.State);
        Assert.Contains($"gave up after {attempts}", h.Events.OfType<XmppOutput.Stopped>().Single().Reason);
        return delays;
    }

    [Fact]
    public void A_conflict_stream_error_stops_the_session_for_good_so_two_clients_on_one_address_do_not_kick_each_other_forever()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends(XmppStanzas.StreamError("conflict") + XmppStanzas.StreamClose);
        Assert.Equal(XmppState.Stopped, h.Session.State);
        Assert.Null(h.Session.PollTimeout());
        Assert.Contains("conflict", Assert.Single(h.Events.OfType<XmppOutput.Stopped>()).Reason);
        Assert.Null(Assert.Single(h.Events.OfType<XmppOutput.Offline>()).RetryAt);
        var error = Assert.Single(h.Outputs.OfType<XmppOutput.Log>(), l => l.Level == XmppLogLevel.Error);
        Assert.Contains("another client logged in as", error.Text);
        Assert.Contains(h.Outputs, o => o is XmppOutput.Close);
    }

    [Fact]
    public void Any_other_stream_error_reconnects_after_back_off()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.ServerSends(XmppStanzas.StreamError("system-shutdown") + XmppStanzas.StreamClose);
        Assert.Equal(XmppState.Backoff, h.Session.State);
        Assert.NotNull(Assert.Single(h.Events.OfType<XmppOutput.Offline>()).RetryAt);
        h.Advance();
        Assert.Equal(XmppState.Online, h.Session.State);
    }

    [Fact]
    public void Stop_says_goodbye_and_leaves_no_timer()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        h.Input(new XmppInput.Stop("shutdown"));
        Assert.Equal("unavailable", h.Server.Received.Last().Attr("type"));
        Assert.Equal(XmppState.Stopped, h.Session.State);
        Assert.Null(h.Session.PollTimeout());
        Assert.Contains(h.Outputs, o => o is XmppOutput.Close);
    }

    [Fact]
    public void Random_bytes_from_the_server_never_throw_and_keep_the_invariants()
    {
        Check(Bytes(300), bytes =>
        {
            var h = new SessionHarness();
            h.StartAndGoOnline();
            h.Input(new XmppInput.Received(h.Session.Connection, bytes));
            h.Session.CheckInvariants();
            Assert.True(h.Session.State is XmppState.Online or XmppState.Backoff);
            return true;
        }, maxTest: 300);
    }

    [Fact]
    public void Random_well_formed_stanzas_from_the_server_never_throw_and_keep_the_invariants()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var h = new SessionHarness();
            h.StartAndGoOnline();
            for (int i = 0; i < 5; i++)
            {
                var e = XmlGen.Element(rng, 0);
                var stanza = new XmlElement(new[] { "iq", "presence", "message", "x" }[rng.NextInt(4)], XmppNs.Client);
                foreach (var a in e.Attributes) stanza.With(a.Key, a.Value);
                if (rng.NextInt(2) == 0) stanza.With("from", new[] { "alice@example.org/n1", "bob@example.org", "eve@example.org/1", "@@", "" }[rng.NextInt(5)]);
                if (rng.NextInt(2) == 0) stanza.With("type", new[] { "get", "set", "result", "error", "unavailable", "headline" }[rng.NextInt(6)]);
                if (rng.NextInt(2) == 0) stanza.Add(new XmlElement(new[] { "node", "signal", "query", "ping" }[rng.NextInt(4)], new[] { XmppNs.EdgeVpn, XmppNs.Roster, XmppNs.Ping }[rng.NextInt(3)])
                    .With("id", rng.NextInt(2) == 0 ? "0000000000000000000000000000000" + rng.NextInt(10) : XmlGen.Text(rng)).WithText(XmlGen.Text(rng)));
                foreach (var c in e.Children) stanza.Add(c);
                h.ServerSends(XmppStanzas.InStream(stanza));
            }
            h.Session.CheckInvariants();
            return true;
        }, maxTest: 200);
    }

    [Fact]
    public void Random_bytes_at_any_point_of_the_negotiation_never_throw_and_keep_the_invariants()
    {
        const string Specials = "<>/='\"&;: x";
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var h = new SessionHarness();
            int answerBeforeFuzz = rng.NextInt(8), seen = 0;
            byte[] junk = new byte[rng.NextInt(200)];
            for (int i = 0; i < junk.Length; i++) junk[i] = rng.NextInt(3) == 0 ? (byte)Specials[rng.NextInt(Specials.Length)] : (byte)rng.NextInt(256);
            h.Server.Override = e =>
            {
                if (seen++ != answerBeforeFuzz) return false;
                h.Server.Push(rng.NextInt(2) == 0 ? Encoding.Latin1.GetString(junk) : XmppStanzas.InStream(XmlGen.Element(rng, 0)));
                return true;
            };
            h.Input(new XmppInput.Start());
            h.Session.CheckInvariants();
            if (h.Session.PollTimeout() is not null) h.Advance();
            h.Session.CheckInvariants();
            return true;
        }, maxTest: 300);
    }

    [Fact]
    public void A_signal_to_a_hand_built_bad_address_is_refused_with_a_reason()
    {
        var h = new SessionHarness();
        h.StartAndGoOnline();
        int before = h.Server.Received.Count;
        h.Input(new XmppInput.SendSignal(new Jid("a b", "example.org", "\u0001"), "{}"));
        Assert.Equal(before, h.Server.Received.Count);
        Assert.Contains(h.Logs, l => l.Contains("bad address", StringComparison.Ordinal));
    }
}
