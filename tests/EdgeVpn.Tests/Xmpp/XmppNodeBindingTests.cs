// The binding between the XMPP session and the node, shared by the real node and --signaling xmpp:
// presence of our overlay builds the member set, a signal counts only from an address that
// announced a node id (and the id comes from that presence), a node's signal goes to the latest
// address of its target, and after a reconnect members not announced again are forgotten.
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Xmpp;
using Xunit;

namespace EdgeVpn.Tests.Xmpp;

public class XmppNodeBindingTests
{
    private static NodeId Id(int i) => new((ulong)i << 60, (ulong)i);
    private static Jid Address(int i, string resource = "edgevpn") => Jid.Parse($"n{i}@x.test/{resource}").Value;
    private static XmppOutput.PeerPresence Up(int i, string overlay = "ov", string resource = "edgevpn") => new(Address(i, resource), Id(i), overlay, true);
    private static XmppOutput.PeerPresence Down(int i) => new(Address(i), null, null, false);

    private static XmppNodeBinding Binding() => new(Id(1), "ov");

    [Fact]
    public void Presence_of_our_overlay_changes_the_member_set_and_another_overlay_s_does_not()
    {
        var b = Binding();
        Assert.True(b.OnPresence(Up(2), out _));
        Assert.False(b.OnPresence(Up(3, overlay: "other"), out _));
        Assert.False(b.OnPresence(Up(2), out _));   // the same again: nothing changed
        Assert.Equal([Id(1), Id(2)], b.Roster.Members().OrderBy(m => m).ToArray());
        Assert.True(b.OnPresence(Down(2), out _));
        Assert.Equal([Id(1)], b.Roster.Members().ToArray());
    }

    [Fact]
    public void A_signal_is_taken_only_from_an_address_that_announced_a_node_id_and_carries_that_id()
    {
        var b = Binding();
        string json = SignalCodec.Encode(new LinkRequest(new LinkId(7), LinkKind.Successor));
        Assert.Null(b.OnSignal(Address(2), json, out string? drop));
        Assert.Contains("no presence", drop);
        b.OnPresence(Up(2), out _);
        var input = Assert.IsType<NodeInput.Signal>(b.OnSignal(Address(2), json, out drop));
        Assert.Null(drop);
        Assert.Equal(Id(2), input.From);
        Assert.Equal(new LinkId(7), input.Message.Link);
        Assert.Null(b.OnSignal(Address(2), "{\"v\":1,\"t\":\"nonsense\"}", out drop));
        Assert.NotNull(drop);
    }

    [Fact]
    public void A_node_s_signal_goes_to_the_latest_address_of_its_target_as_codec_text()
    {
        var b = Binding();
        var signal = new LinkRequest(new LinkId(9), LinkKind.LongDistance);
        Assert.Null(b.ToSession(new NodeOutput.SendSignal(Id(2), signal), out string? drop));
        Assert.Contains("no online address", drop);
        b.OnPresence(Up(2, resource: "a"), out _);
        b.OnPresence(Up(2, resource: "b"), out _);
        var send = b.ToSession(new NodeOutput.SendSignal(Id(2), signal), out drop);
        Assert.NotNull(send);
        Assert.Equal(Address(2, "b"), send.To);
        Assert.Equal(SignalCodec.Encode(signal), send.Json);
        Assert.Null(b.ToSession(new NodeOutput.CloseTransport(new LinkId(9), Id(2)), out drop));
        Assert.Null(drop);
    }

    [Fact]
    public void After_a_reconnect_members_not_announced_again_are_forgotten_and_those_announced_stay()
    {
        var b = Binding();
        b.OnPresence(Up(2), out _);
        b.OnPresence(Up(3), out _);
        Assert.False(b.EndResync());   // no resync begun: nothing to forget
        b.BeginResync();
        b.OnPresence(Up(2), out _);
        Assert.Equal(3, b.Roster.Members().Count);   // nothing forgotten before the end
        Assert.True(b.EndResync());
        Assert.Equal([Id(1), Id(2)], b.Roster.Members().OrderBy(m => m).ToArray());
        Assert.False(b.EndResync());   // once only
    }

    [Fact]
    public void A_resync_after_a_first_login_with_nobody_known_changes_nothing()
    {
        var b = Binding();
        b.BeginResync();
        b.OnPresence(Up(2), out _);
        Assert.False(b.EndResync());
        Assert.Equal(2, b.Roster.Members().Count);
    }
}
