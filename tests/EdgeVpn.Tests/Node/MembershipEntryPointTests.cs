// EdgeNode.HandleMembership is the simulator's allocation-free way in for lookup hops; it must be
// the very same transition as Handle(now, new NodeInput.Membership(from, message)).
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Membership;
using EdgeVpn.Protocol.Node;
using EdgeVpn.Protocol.Ring;
using EdgeVpn.Protocol.Topology;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace EdgeVpn.Tests.Node;

public sealed class MembershipEntryPointTests
{
    private static EdgeNode NewNode(NodeId id, ulong seed) =>
        new(id, new EdgeNodeConfig { Topology = new TopologyConfig { Membership = MembershipMode.Lookup } }, new DeterministicRandom(seed), "sha-256 00");

    private static string Describe(NodeOutput o) => o switch
    {
        NodeOutput.SendMembership s => $"send {s.To} via={s.ViaSignaling} {Convert.ToHexString(MembershipCodec.Encode(s.Message))}",
        _ => o.ToString(),
    };

    private static List<string> Drain(EdgeNode node)
    {
        var outputs = new List<string>();
        while (node.TryPollOutput(out var o)) outputs.Add(Describe(o));
        outputs.Add($"timeout {node.PollTimeout()}");
        return outputs;
    }

    [Fact]
    public void HandleMembership_gives_the_same_outputs_as_Handle_with_a_membership_input()
    {
        PropertyCheck.Run(Prop.ForAll(Arb.From(Gen.Choose(1, int.MaxValue)), seed =>
        {
            var random = new DeterministicRandom((ulong)seed);
            var self = new NodeId(random.NextUInt64(), random.NextUInt64());
            var viaHandle = NewNode(self, 7);
            var viaEntry = NewNode(self, 7);
            var now = Instant.Zero;
            viaHandle.Handle(now, new NodeInput.Bootstrap(null));
            viaEntry.Handle(now, new NodeInput.Bootstrap(null));
            if (string.Join("\n", Drain(viaHandle)) != string.Join("\n", Drain(viaEntry))) return false;
            for (int step = 0; step < 30; step++)
            {
                now += TimeSpan.FromMilliseconds(1 + random.NextInt(2000));
                var from = new NodeId(random.NextUInt64(), random.NextUInt64());
                var key = new UInt128(random.NextUInt64(), random.NextUInt64());
                MembershipMessage message = random.NextInt(3) switch
                {
                    0 => new MembershipMessage.FindSuccessor(random.NextUInt64(), from, key, (byte)random.NextInt(10), ForJoin: random.NextInt(2) == 0),
                    1 => new MembershipMessage.Stabilize(random.NextUInt64()),
                    _ => new MembershipMessage.StabilizeReply(0, random.NextUInt64(), from, [new NodeId(random.NextUInt64(), random.NextUInt64())]),
                };
                viaHandle.Handle(now, new NodeInput.Membership(from, message));
                viaEntry.HandleMembership(now, from, message);
                if (string.Join("\n", Drain(viaHandle)) != string.Join("\n", Drain(viaEntry))) return false;
            }
            return true;
        }));
    }
}
