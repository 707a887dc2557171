// Which nomination the controlled agent follows when the network delivers them out of order.
// The controlling agent nominates again only after a nominating check failed, so the latest
// nomination is the one it means; a copy of an earlier one that arrives later (duplicated, or
// delayed by seconds) must not move the controlled agent back. Nominations carry a NOMINATION
// number (draft-thatcher-ice-renomination) and the highest wins; from a peer that sends no number
// (libnice), an earlier nominating request seen again is recognised by its transaction id.
// The requests here are written by hand as the controlling agent would send them, from its second
// interface (10.0.1.1) or its first (10.0.0.1), so the order is the test's, not the network's.
using System.Net;
using System.Text;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Stun;
using Xunit;
using static EdgeVpn.Tests.Ice.IceNetwork;

namespace EdgeVpn.Tests.Ice;

public class IceNominationOrderTests
{
    private static readonly IPEndPoint First = Ep("10.0.0.1:5000"), Second = Ep("10.0.1.1:5000"), BBase = Ep("10.0.0.2:6000");

    /// <summary>A controlling, with two interfaces, and B controlled, connected, every pair checked.</summary>
    private static IceNetwork Connected()
    {
        var net = Pair(FastConfig(IceRole.Controlling), ["10.0.0.1:5000", "10.0.1.1:5000"], FastConfig(IceRole.Controlled), ["10.0.0.2:6000"]);
        net.Start();
        net.RunFor(TimeSpan.FromSeconds(5), () => net.BothConnected);
        Assert.True(net.BothConnected);
        net.RunFor(TimeSpan.FromSeconds(1));
        return net;
    }

    /// <summary>A nominating check from A's interface to B, with its own transaction id.</summary>
    private static byte[] Nominate(IceNetwork net, ulong transaction, uint? number)
    {
        var attributes = new List<StunAttribute>
        {
            new Username($"{net.B.Agent.LocalUfrag}:{net.A.Agent.LocalUfrag}"),
            new Priority(IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 0)),
            new IceControlling(net.A.Agent.TieBreaker),
            UseCandidate.Instance,
        };
        if (number is { } n) attributes.Add(new Nomination(n));
        var m = new StunMessage(StunClass.Request, StunMethod.Binding, new StunTransactionId(transaction), attributes);
        return m.Encode(Encoding.ASCII.GetBytes(net.B.Agent.LocalPassword), fingerprint: true);
    }

    private static void Deliver(IceNetwork net, IPEndPoint from, byte[] request)
    {
        net.Inject(net.B, new IceInput.Datagram(BBase, from, request));
        net.RunFor(TimeSpan.FromMilliseconds(300));   // B's triggered check on the pair, if it needs one
    }

    private static IPEndPoint? BFollows(IceNetwork net) => net.B.Agent.SelectedPair?.Remote.Address;

    [Fact]
    public void Without_numbers_a_copy_of_an_earlier_nomination_seen_again_does_not_move_the_controlled_agent_back()
    {
        var net = Connected();
        var earlier = Nominate(net, 1001, number: null);
        Deliver(net, Second, earlier);
        Assert.Equal(Second, BFollows(net));
        Deliver(net, First, Nominate(net, 1002, number: null));
        Assert.Equal(First, BFollows(net));

        Deliver(net, Second, earlier);   // the network's duplicate of the first, after the second

        Assert.Equal(First, BFollows(net));
    }

    [Fact]
    public void Without_numbers_the_latest_nomination_repeated_still_stands()
    {
        var net = Connected();
        Deliver(net, Second, Nominate(net, 1001, number: null));
        var latest = Nominate(net, 1002, number: null);
        Deliver(net, First, latest);
        Deliver(net, First, latest);
        Assert.Equal(First, BFollows(net));
        Deliver(net, Second, Nominate(net, 1003, number: null));   // a new nomination still moves it
        Assert.Equal(Second, BFollows(net));
    }

    [Fact]
    public void With_numbers_a_lower_numbered_nomination_arriving_first_time_after_a_higher_one_moves_nothing()
    {
        var net = Connected();
        Deliver(net, Second, Nominate(net, 1001, number: 50));
        Assert.Equal(Second, BFollows(net));
        Deliver(net, First, Nominate(net, 1002, number: 52));
        Assert.Equal(First, BFollows(net));

        // Number 51 was sent between them, and the network held every copy of it until now.
        Deliver(net, Second, Nominate(net, 1003, number: 51));

        Assert.Equal(First, BFollows(net));
        Deliver(net, Second, Nominate(net, 1004, number: 53));
        Assert.Equal(Second, BFollows(net));
    }

    [Fact]
    public void The_controlling_agent_numbers_its_nominating_checks_and_only_those()
    {
        var net = Connected();
        var requests = net.TransmitLog
            .Where(l => l.Split(' ')[1] == "A")
            .Select(l => StunMessage.Parse(Convert.FromHexString(l[(l.LastIndexOf(' ') + 1)..])))
            .Where(r => r.Ok && r.Value.Class == StunClass.Request && r.Value.Method == StunMethod.Binding && r.Value.Has<IceControlling>())
            .Select(r => r.Value).ToList();
        var nominating = requests.Where(m => m.Has<UseCandidate>()).ToList();
        Assert.NotEmpty(nominating);
        Assert.All(nominating, m => Assert.True(m.Get<Nomination>()?.Value >= 1));
        Assert.All(requests.Where(m => !m.Has<UseCandidate>()), m => Assert.Null(m.Get<Nomination>()));
        // Retransmissions repeat their transaction's number; a new nominating transaction has a higher one.
        var firstNumberOf = nominating.GroupBy(m => m.TransactionId).Select(g => g.First().Get<Nomination>()!.Value).ToList();
        Assert.Equal(firstNumberOf.OrderBy(n => n), firstNumberOf);
        Assert.Equal(firstNumberOf.Count, firstNumberOf.Distinct().Count());
    }
}
