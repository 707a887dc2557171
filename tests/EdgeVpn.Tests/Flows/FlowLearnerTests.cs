// The flow learner's rules on small examples: learning, forwarding, flows and their removal,
// bounds, and errors for malformed frames.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Flows;
using EdgeVpn.Protocol.Frames;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;
using Xunit;

namespace EdgeVpn.Tests.Flows;

public class FlowLearnerTests
{
    internal static readonly MacAddress H1 = MacAddress.Parse("02:00:00:00:00:01").Value;
    internal static readonly MacAddress H2 = MacAddress.Parse("02:00:00:00:00:02").Value;
    internal static readonly MacAddress H3 = MacAddress.Parse("02:00:00:00:00:03").Value;
    private static readonly LinkId L1 = new(0x11), L2 = new(0x22);
    private static readonly NodeId R = new(0, 77);
    private static readonly FlowPort Local = FlowPort.Local;

    internal static byte[] Unicast(MacAddress src, MacAddress dst) => EthernetFrame.Build(dst, src, EthernetFrame.EtherTypeIpv4, [0x45, 0, 0, 0]);
    internal static byte[] ArpRequest(MacAddress src) => new ArpPacket(ArpOperation.Request, src, 1, MacAddress.Zero, 2).ToFrame();
    private static Instant S(double seconds) => Instant.FromSeconds(seconds);

    private static List<FlowOutput> Run(FlowLearner m, Instant now, FlowInput input)
    {
        m.Handle(now, input);
        m.CheckInvariants();
        var list = new List<FlowOutput>();
        while (m.TryPollOutput(out var o)) list.Add(o);
        return list;
    }

    private static List<FlowOutput> Timeout(FlowLearner m, Instant now)
    {
        m.HandleTimeout(now);
        m.CheckInvariants();
        var list = new List<FlowOutput>();
        while (m.TryPollOutput(out var o)) list.Add(o);
        return list;
    }

    /// <summary>A learner that knows H1 on the local port and H2 behind L1 (learned from a flood rooted at R).</summary>
    private static FlowLearner Learned(FlowConfig? config = null)
    {
        var m = new FlowLearner(config);
        Run(m, S(0), new FlowInput.FromLocal(ArpRequest(H1)));
        Run(m, S(0), new FlowInput.FloodDelivered(L1, R, ArpRequest(H2)));
        return m;
    }

    [Fact]
    public void Local_broadcast_is_handed_to_the_flood_and_teaches_its_source_as_local()
    {
        var m = new FlowLearner();
        var frame = ArpRequest(H1);
        var outs = Run(m, S(0), new FlowInput.FromLocal(frame));
        Assert.Equal(frame, Assert.IsType<FlowOutput.Broadcast>(Assert.Single(outs)).Frame.ToArray());
        Assert.True(m.TryGetMac(H1, out var port, out var root));
        Assert.Equal((Local, (NodeId?)null), (port, root));
    }

    [Fact]
    public void Flood_delivery_teaches_the_source_behind_the_ingress_link_with_its_root_and_delivers_locally()
    {
        var m = new FlowLearner();
        var frame = ArpRequest(H2);
        var outs = Run(m, S(0), new FlowInput.FloodDelivered(L1, R, frame));
        Assert.Equal(frame, Assert.IsType<FlowOutput.DeliverLocal>(Assert.Single(outs)).Frame.ToArray());
        Assert.True(m.TryGetMac(H2, out var port, out var root));
        Assert.Equal((FlowPort.Of(L1), (NodeId?)R), (port, root));
    }

    [Fact]
    public void Flood_delivery_of_local_origin_teaches_nothing()
    {
        var m = new FlowLearner();
        Assert.IsType<FlowOutput.DeliverLocal>(Assert.Single(Run(m, S(0), new FlowInput.FloodDelivered(null, R, ArpRequest(H2)))));
        Assert.Equal(0, m.MacCount);
    }

    [Fact]
    public void Local_unicast_to_a_mac_behind_a_link_is_sent_there_and_installs_a_flow()
    {
        var m = Learned();
        var frame = Unicast(H1, H2);
        var outs = Run(m, S(1), new FlowInput.FromLocal(frame));
        Assert.Equal(2, outs.Count);
        Assert.Equal(new FlowOutput.InstallFlow(Local, H1, H2, FlowPort.Of(L1), TimeSpan.FromSeconds(60)), outs[0]);
        var send = Assert.IsType<FlowOutput.SendToLink>(outs[1]);
        Assert.Equal(L1, send.Link);
        Assert.Equal(frame, send.Frame.ToArray());
        // The second frame uses the installed flow: no new install.
        Assert.IsType<FlowOutput.SendToLink>(Assert.Single(Run(m, S(2), new FlowInput.FromLocal(frame))));
    }

    [Fact]
    public void Unicast_from_a_link_to_a_local_mac_is_delivered_locally_with_a_flow_to_the_local_port()
    {
        var m = Learned();
        var outs = Run(m, S(1), new FlowInput.FromLink(L1, Unicast(H2, H1)));
        Assert.Equal(new FlowOutput.InstallFlow(FlowPort.Of(L1), H2, H1, Local, TimeSpan.FromSeconds(60)), outs[0]);
        Assert.IsType<FlowOutput.DeliverLocal>(outs[1]);
        Assert.Equal(2, outs.Count);
    }

    [Fact]
    public void Unicast_from_one_link_to_a_mac_behind_another_is_forwarded_with_a_flow()
    {
        var m = Learned();
        var outs = Run(m, S(1), new FlowInput.FromLink(L2, Unicast(H3, H2)));
        Assert.Equal(new FlowOutput.InstallFlow(FlowPort.Of(L2), H3, H2, FlowPort.Of(L1), TimeSpan.FromSeconds(60)), outs[0]);
        Assert.Equal(L1, Assert.IsType<FlowOutput.SendToLink>(outs[1]).Link);
        Assert.True(m.TryGetMac(H3, out var port, out _));
        Assert.Equal(FlowPort.Of(L2), port);
    }

    [Fact]
    public void Unicast_whose_destination_lies_behind_its_ingress_port_is_dropped_never_sent_back()
    {
        var m = Learned();
        var drop = Assert.IsType<FlowOutput.Dropped>(Assert.Single(Run(m, S(1), new FlowInput.FromLink(L1, Unicast(H3, H2)))));
        Assert.Equal(FlowDropReason.DestinationOnIngressPort, drop.Reason);
        Run(m, S(1), new FlowInput.FromLocal(ArpRequest(H3))); // H3 moves to the local port
        drop = Assert.IsType<FlowOutput.Dropped>(Assert.Single(Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H3)))));
        Assert.Equal(FlowDropReason.DestinationOnIngressPort, drop.Reason);
    }

    [Fact]
    public void Unknown_unicast_is_dropped_by_default()
    {
        var m = Learned();
        Assert.Equal(FlowDropReason.UnknownDestination, Assert.IsType<FlowOutput.Dropped>(Assert.Single(Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H3))))).Reason);
        Assert.Equal(FlowDropReason.UnknownDestination, Assert.IsType<FlowOutput.Dropped>(Assert.Single(Run(m, S(1), new FlowInput.FromLink(L1, Unicast(H2, H3))))).Reason);
    }

    [Fact]
    public void Unknown_unicast_under_flood_policy_is_flooded_from_the_local_port_and_delivered_locally_from_a_link()
    {
        var m = Learned(new FlowConfig { UnknownUnicast = UnknownUnicastPolicy.Flood });
        Assert.IsType<FlowOutput.Broadcast>(Assert.Single(Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H3)))));
        Assert.IsType<FlowOutput.DeliverLocal>(Assert.Single(Run(m, S(1), new FlowInput.FromLink(L1, Unicast(H2, H3)))));
    }

    [Fact]
    public void A_flooded_unicast_frame_for_a_mac_known_elsewhere_is_not_delivered_locally()
    {
        var m = Learned();
        var outs = Run(m, S(1), new FlowInput.FloodDelivered(L2, R, Unicast(H3, H2)));
        Assert.Equal(FlowDropReason.NotForThisNode, Assert.IsType<FlowOutput.Dropped>(Assert.Single(outs)).Reason);
    }

    [Fact]
    public void A_broadcast_arriving_as_unicast_on_a_link_is_dropped()
    {
        var m = new FlowLearner();
        Assert.Equal(FlowDropReason.BroadcastOnLink, Assert.IsType<FlowOutput.Dropped>(Assert.Single(Run(m, S(0), new FlowInput.FromLink(L1, ArpRequest(H2))))).Reason);
    }

    [Fact]
    public void A_flow_idle_for_its_timeout_is_removed_and_use_keeps_it_alive()
    {
        var m = Learned(new FlowConfig { MacAgeMax = TimeSpan.FromHours(1) });
        Run(m, S(10), new FlowInput.FromLocal(Unicast(H1, H2)));
        Assert.Equal(S(70), m.PollTimeout());
        Run(m, S(50), new FlowInput.FromLocal(Unicast(H1, H2)));
        Assert.Empty(Timeout(m, S(70)));           // early: used at 50
        Assert.Equal(S(110), m.PollTimeout());
        var removed = Assert.IsType<FlowOutput.RemoveFlow>(Assert.Single(Timeout(m, S(110))));
        Assert.Equal(new FlowOutput.RemoveFlow(Local, H1, H2, FlowPort.Of(L1), FlowRemoval.IdleTimeout), removed);
        Assert.Equal(0, m.FlowCount);
    }

    [Fact]
    public void A_learned_mac_ages_out_and_takes_its_flows_with_it()
    {
        var m = Learned(new FlowConfig { MacAgeMax = TimeSpan.FromSeconds(30), FlowIdleTimeout = TimeSpan.FromHours(1) });
        Run(m, S(20), new FlowInput.FromLocal(Unicast(H1, H2))); // refreshes H1, not H2
        Assert.Equal(S(30), m.PollTimeout());                     // H2 learned at 0
        var outs = Timeout(m, S(30));
        Assert.Equal(FlowRemoval.MacForgotten, Assert.IsType<FlowOutput.RemoveFlow>(Assert.Single(outs)).Reason);
        Assert.False(m.TryGetMac(H2, out _, out _));
        Assert.True(m.TryGetMac(H1, out _, out _));
        Assert.Empty(Timeout(m, S(49)));
        Timeout(m, S(50));
        Assert.Equal(0, m.MacCount);
        Assert.Null(m.PollTimeout());
    }

    [Fact]
    public void A_mac_seen_on_a_new_port_removes_the_flows_towards_it()
    {
        var m = Learned();
        Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H2)));
        var outs = Run(m, S(2), new FlowInput.FloodDelivered(L2, R, ArpRequest(H2)));
        Assert.Equal(new FlowOutput.RemoveFlow(Local, H1, H2, FlowPort.Of(L1), FlowRemoval.MacMoved), outs[0]);
        Assert.IsType<FlowOutput.DeliverLocal>(outs[1]);
        Assert.Equal(L2, Assert.IsType<FlowOutput.SendToLink>(Run(m, S(3), new FlowInput.FromLocal(Unicast(H1, H2)))[1]).Link);
    }

    [Fact]
    public void Removing_a_link_removes_every_flow_and_mac_through_it()
    {
        var m = Learned();
        Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H2)));   // local -> L1
        Run(m, S(1), new FlowInput.FromLink(L1, Unicast(H2, H1))); // L1 -> local
        Run(m, S(1), new FlowInput.FromLink(L2, Unicast(H3, H1))); // L2 -> local
        Assert.Equal(3, m.FlowCount);
        var outs = Run(m, S(2), new FlowInput.LinkRemoved(L1));
        Assert.Equal(2, outs.Count);
        Assert.All(outs, o => Assert.Equal(FlowRemoval.LinkRemoved, Assert.IsType<FlowOutput.RemoveFlow>(o).Reason));
        Assert.False(m.TryGetMac(H2, out _, out _));
        Assert.Equal(1, m.FlowCount);
        Assert.Equal(2, m.MacCount);
    }

    [Fact]
    public void Full_tables_evict_the_least_recently_used_entry()
    {
        var m = Learned(new FlowConfig { FlowsMax = 1, MacsMax = 3 });
        Run(m, S(1), new FlowInput.FromLocal(Unicast(H1, H2)));
        var outs = Run(m, S(2), new FlowInput.FromLink(L1, Unicast(H2, H1)));
        Assert.Equal(new FlowOutput.RemoveFlow(Local, H1, H2, FlowPort.Of(L1), FlowRemoval.Evicted), outs[0]);
        Assert.Equal(1, m.FlowCount);
        Run(m, S(3), new FlowInput.FromLink(L2, Unicast(H3, H1)));    // third MAC: fits
        var h4 = MacAddress.Parse("02:00:00:00:00:04").Value;
        Run(m, S(4), new FlowInput.FromLink(L2, Unicast(h4, H1)));    // fourth: evicts H1 (seen at 0)
        Assert.False(m.TryGetMac(H1, out _, out _));
        Assert.Equal(3, m.MacCount);
    }

    [Fact]
    public void Malformed_frames_become_errors()
    {
        var m = new FlowLearner(new FlowConfig { FrameLengthMax = 100 });
        var bad = new FlowInput[]
        {
            new FlowInput.FromLocal(new byte[13]),
            new FlowInput.FromLink(L1, new byte[101]),
            new FlowInput.FloodDelivered(L1, R, Unicast(MacAddress.Broadcast, H1)),
        };
        foreach (var input in bad) Assert.IsType<FlowOutput.Error>(Assert.Single(Run(m, S(0), input)));
        Assert.Equal(0, m.MacCount);
    }
}
