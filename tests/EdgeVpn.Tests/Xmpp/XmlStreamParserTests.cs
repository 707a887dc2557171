// The XMPP stream parser on examples (namespaces, entities, CDATA, keep-alives, every refusal
// and every bound) and on laws: any chunking of a stream gives the same events, and random or
// mutated bytes never make it throw, give at most one error, and nothing after the error.
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Xmpp;
using Xunit;
using static EdgeVpn.Tests.PropertyRunner;

namespace EdgeVpn.Tests.Xmpp;

public class XmlStreamParserTests
{
    internal const string Header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='example.org' id='s1'>";

    internal static List<XmlStreamEvent> Parse(string text, XmlLimits? limits = null)
    {
        var p = new XmlStreamParser(limits ?? XmlLimits.Default);
        p.Feed(Encoding.UTF8.GetBytes(text));
        return Drain(p);
    }

    internal static List<XmlStreamEvent> Drain(XmlStreamParser p)
    {
        var events = new List<XmlStreamEvent>();
        while (p.TryPollEvent(out var e)) events.Add(e);
        return events;
    }

    private static XmlStreamEvent.Error SingleError(List<XmlStreamEvent> events)
    {
        var errors = events.OfType<XmlStreamEvent.Error>().ToList();
        Assert.Single(errors);
        Assert.IsType<XmlStreamEvent.Error>(events[^1]);
        return errors[0];
    }

    [Fact]
    public void A_stream_header_stanzas_and_the_end_come_out_as_events_with_resolved_namespaces()
    {
        var events = Parse(Header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
            + " \n <message from='a@b/c' to='d@e'><body>hi</body></message></stream:stream>");
        Assert.Equal(4, events.Count);
        var header = Assert.IsType<XmlStreamEvent.Header>(events[0]).Stream;
        Assert.Equal("1.0", header.Attr("version"));
        var features = Assert.IsType<XmlStreamEvent.Stanza>(events[1]).Element;
        Assert.True(features.Is("features", XmppNs.Streams));
        var starttls = features.Child("starttls", XmppNs.Tls);
        Assert.NotNull(starttls);
        Assert.NotNull(starttls.Child("required", XmppNs.Tls));
        var message = Assert.IsType<XmlStreamEvent.Stanza>(events[2]).Element;
        Assert.True(message.Is("message", XmppNs.Client));
        Assert.Equal("hi", message.Child("body", XmppNs.Client)!.Text);
        Assert.IsType<XmlStreamEvent.End>(events[3]);
    }

    [Fact]
    public void Entities_character_references_and_cdata_are_decoded()
    {
        var events = Parse(Header + "<message a='x&amp;y&#x41;&#66;&lt;&quot;'><body>1 &lt; 2 &amp;&amp; &apos;&gt;&#233;<![CDATA[<raw&>]]></body></message>");
        var message = Assert.IsType<XmlStreamEvent.Stanza>(events[1]).Element;
        Assert.Equal("x&yAB<\"", message.Attr("a"));
        Assert.Equal("1 < 2 && '>é<raw&>", message.Child("body", XmppNs.Client)!.Text);
    }

    [Fact]
    public void Prefixed_namespaces_are_resolved_and_scoped_to_their_element()
    {
        var events = Parse(Header + "<iq xmlns:e='urn:x'><e:a><b/></e:a><c/></iq>");
        var iq = Assert.IsType<XmlStreamEvent.Stanza>(events[1]).Element;
        var a = iq.Child("a", "urn:x");
        Assert.NotNull(a);
        Assert.NotNull(a.Child("b", XmppNs.Client));
        Assert.NotNull(iq.Child("c", XmppNs.Client));
    }

    [Theory]
    [InlineData("<!-- hi --><a/>", "restricted-xml")]
    [InlineData("<?php x?>", "restricted-xml")]
    [InlineData("<!DOCTYPE x>", "restricted-xml")]
    [InlineData("<a>&nbsp;</a>", "restricted-xml")]
    [InlineData("<a>&amp</a>", "not-well-formed")]
    [InlineData("<a>&#0;</a>", "not-well-formed")]
    [InlineData("<a>&#xD800;</a>", "not-well-formed")]
    [InlineData("<a></b>", "not-well-formed")]
    [InlineData("<a x='1' x='2'/>", "not-well-formed")]
    [InlineData("<a x='1'y='2'/>", "not-well-formed")]
    [InlineData("<a x=1/>", "not-well-formed")]
    [InlineData("<a x='<'/>", "not-well-formed")]
    [InlineData("<p:a/>", "bad-namespace-prefix")]
    [InlineData("<a p:x='1'/>", "bad-namespace-prefix")]
    [InlineData("<a xmlns:xmlns='urn:x'/>", "bad-namespace-prefix")]
    [InlineData("text", "not-well-formed")]
    [InlineData("<![CDATA[x]]>", "not-well-formed")]
    [InlineData("<1a/>", "not-well-formed")]
    [InlineData("</a>", "not-well-formed")]
    public void Malformed_or_forbidden_xml_gives_one_error_naming_the_condition(string body, string condition)
    {
        var events = Parse(Header + body);
        Assert.Equal(condition, SingleError(events).Condition);
    }

    [Fact]
    public void A_root_other_than_stream_stream_is_refused()
    {
        Assert.Equal("invalid-namespace", SingleError(Parse("<stream xmlns='jabber:client'>")).Condition);
        Assert.Equal("not-well-formed", SingleError(Parse("hello<stream:stream>")).Condition);
    }

    [Fact]
    public void Invalid_utf8_and_control_characters_are_refused()
    {
        var p = new XmlStreamParser();
        p.Feed(Encoding.UTF8.GetBytes(Header + "<a>"));
        p.Feed([0xC3, 0x28]);
        p.Feed("</a>"u8);
        Assert.Equal("not-well-formed", SingleError(Drain(p)).Condition);
        Assert.Equal("not-well-formed", SingleError(Parse(Header + "<a>\u0001</a>")).Condition);
    }

    [Fact]
    public void A_stanza_over_the_byte_limit_is_refused_even_while_incomplete()
    {
        var limits = new XmlLimits(StanzaBytesMax: 1024);
        var ok = Parse(Header + "<a>" + new string('x', 1000) + "</a>", limits);
        Assert.IsType<XmlStreamEvent.Stanza>(ok[1]);

        var p = new XmlStreamParser(limits);
        p.Feed(Encoding.UTF8.GetBytes(Header + "<a>"));
        for (int i = 0; i < 20; i++) p.Feed(Encoding.UTF8.GetBytes(new string('x', 100)));   // never closed
        var error = SingleError(Drain(p));
        Assert.Equal("policy-violation", error.Condition);
        Assert.Contains("1024", error.Reason);
        Assert.True(p.BufferedBytes <= 2 * 1024);

        // Many small elements add up too.
        var many = Parse(Header + "<a>" + string.Concat(Enumerable.Repeat("<b/>", 300)) + "</a>", limits);
        Assert.Equal("policy-violation", SingleError(many).Condition);
        // And an endless start tag.
        var tag = Parse(Header + "<a x='" + new string('y', 2000), limits);
        Assert.Equal("policy-violation", SingleError(tag).Condition);
    }

    [Fact]
    public void Depth_attribute_and_header_bounds_are_enforced()
    {
        // The header itself has five attributes (two of them namespace declarations).
        var limits = new XmlLimits(DepthMax: 4, AttributesMax: 5, HeaderBytesMax: 300);
        Assert.IsType<XmlStreamEvent.Stanza>(Parse(Header + "<a><b><c><d/></c></b></a>", limits)[1]);
        Assert.Equal("policy-violation", SingleError(Parse(Header + "<a><b><c><d><e/></d></c></b></a>", limits)).Condition);
        Assert.IsType<XmlStreamEvent.Stanza>(Parse(Header + "<a x='1' y='2' z='3' v='4' u='5'/>", limits)[1]);
        Assert.Equal("policy-violation", SingleError(Parse(Header + "<a x='1' y='2' z='3' v='4' u='5' w='6'/>", limits)).Condition);
        Assert.Equal("policy-violation", SingleError(Parse("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' x='" + new string('a', 400), limits)).Condition);
    }

    [Fact]
    public void Whitespace_keepalives_between_stanzas_are_accepted_and_reset_starts_a_new_stream()
    {
        var p = new XmlStreamParser();
        p.Feed(Encoding.UTF8.GetBytes(Header + " \n\t <a/>  "));
        p.Feed(" "u8);
        var events = Drain(p);
        Assert.Equal(2, events.Count);
        p.Feed("<b"u8);
        Assert.Equal(2, p.Reset());
        p.Feed(Encoding.UTF8.GetBytes(Header + "<c/>"));
        events = Drain(p);
        Assert.IsType<XmlStreamEvent.Header>(events[0]);
        Assert.Equal("c", Assert.IsType<XmlStreamEvent.Stanza>(events[1]).Element.Name);
    }

    [Fact]
    public void Any_chunking_of_a_stream_gives_the_same_events()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            var stanzas = Enumerable.Range(0, 1 + rng.NextInt(5)).Select(_ => XmlGen.Element(rng, 0)).ToList();
            string text = Header + string.Concat(stanzas.Select(s => (rng.NextInt(3) == 0 ? " " : "") + XmppStanzas.InStream(s))) + "</stream:stream>";
            byte[] bytes = Encoding.UTF8.GetBytes(text);

            var whole = Parse(text);
            var p = new XmlStreamParser();
            for (int at = 0; at < bytes.Length;)
            {
                int n = 1 + rng.NextInt(Math.Min(40, bytes.Length - at));
                p.Feed(bytes.AsSpan(at, n));
                at += n;
            }
            var chunked = Drain(p);
            Assert.Equal(stanzas.Count + 2, whole.Count);
            Assert.Equal(Describe(whole), Describe(chunked));
            for (int i = 0; i < stanzas.Count; i++)
                Assert.Equal(XmppStanzas.InStream(stanzas[i]), XmppStanzas.InStream(((XmlStreamEvent.Stanza)whole[i + 1]).Element));
            return true;
        }, maxTest: 300);
    }

    [Fact]
    public void Random_bytes_never_throw_give_at_most_one_error_and_nothing_after_it()
    {
        Check(Bytes(300), bytes =>
        {
            foreach (var prefix in new[] { "", Header, Header + "<message><body>" })
            {
                var p = new XmlStreamParser(new XmlLimits(StanzaBytesMax: 256, DepthMax: 4, AttributesMax: 4, HeaderBytesMax: 512));
                p.Feed(Encoding.UTF8.GetBytes(prefix));
                for (int at = 0; at < bytes.Length; at += 7) p.Feed(bytes.AsSpan(at, Math.Min(7, bytes.Length - at)));
                var events = Drain(p);
                int errors = events.Count(e => e is XmlStreamEvent.Error);
                Assert.True(errors <= 1);
                if (errors == 1) Assert.IsType<XmlStreamEvent.Error>(events[^1]);
                Assert.True(p.BufferedBytes <= 512 + 7);
            }
            return true;
        }, maxTest: 2000);
    }

    [Fact]
    public void Mutated_valid_streams_never_throw()
    {
        Check(Seeds, seed =>
        {
            var rng = new DeterministicRandom(seed);
            byte[] bytes = Encoding.UTF8.GetBytes(Header + XmppStanzas.InStream(XmlGen.Element(rng, 0)) + "</stream:stream>");
            for (int k = 0; k < 1 + rng.NextInt(4); k++)
            {
                int i = rng.NextInt(bytes.Length);
                bytes[i] = rng.NextInt(2) == 0 ? (byte)rng.NextInt(256) : (byte)"<>/'\"&;:= x"[rng.NextInt(11)];
            }
            var p = new XmlStreamParser();
            p.Feed(bytes);
            var events = Drain(p);
            Assert.True(events.Count(e => e is XmlStreamEvent.Error) <= 1);
            return true;
        }, maxTest: 2000);
    }

    private static List<string> Describe(List<XmlStreamEvent> events) => events.Select(e => e switch
    {
        XmlStreamEvent.Stanza s => "stanza " + XmppStanzas.InStream(s.Element),
        XmlStreamEvent.Header h => "header " + h.Stream.ToXml(),
        _ => e.ToString()!,
    }).ToList();
}

/// <summary>Random element trees with names, namespaces, attributes and text that XML can carry.</summary>
internal static class XmlGen
{
    private static readonly string[] Names = ["message", "body", "x", "signal", "a-b", "q.r", "item_1"];
    private static readonly string[] Namespaces = [XmppNs.Client, XmppNs.Client, XmppNs.EdgeVpn, "urn:x:y"];

    public static XmlElement Element(DeterministicRandom rng, int depth)
    {
        var e = new XmlElement(Names[rng.NextInt(Names.Length)], depth == 0 ? XmppNs.Client : Namespaces[rng.NextInt(Namespaces.Length)]);
        int attributes = rng.NextInt(3);
        for (int i = 0; i < attributes; i++) e.With("a" + i, Text(rng));
        if (rng.NextInt(2) == 0) e.WithText(Text(rng));
        if (depth < 3)
            for (int i = rng.NextInt(3); i > 0; i--) e.Add(Element(rng, depth + 1));
        return e;
    }

    public static string Text(DeterministicRandom rng)
    {
        const string Alphabet = "ab <>&'\"\t\n\r;#x{}:é€😀";
        var sb = new StringBuilder();
        int n = rng.NextInt(12);
        for (int i = 0; i < n; i++)
        {
            // Index over code points so that the surrogate pair of the emoji stays whole.
            var runes = Alphabet.EnumerateRunes().ToArray();
            sb.Append(runes[rng.NextInt(runes.Length)].ToString());
        }
        return sb.ToString();
    }
}
