// The adapter from ICE's IDatagramPath to DTLS's IDatagramTransport: a path that pushes gets the
// receiver handed over (no thread); a path that only offers its Received channel is drained by
// the adapter's own reader thread, in order; sends the path refuses are counted; Dispose stops
// delivery.
using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeVpn.RealNode.Ice;
using EdgeVpn.RealNode.Link;
using Xunit;

namespace EdgeVpn.Tests.RealLink;

public sealed class PathDatagramTransportTests
{
    private sealed class ChannelPath(bool pushes) : IDatagramPath
    {
        public Channel<byte[]> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        public Action<byte[]>? Pushed { get; private set; }
        public List<byte[]> Sent { get; } = [];
        public bool Up { get; set; } = true;
        public int DatagramBytesMax => 1200;
        public bool IsUp => Up;
        public ChannelReader<byte[]> Received => Channel.Reader;
        public long ReceiveDropped => 0;
        public bool Send(ReadOnlySpan<byte> datagram)
        {
            if (!Up) return false;
            Sent.Add(datagram.ToArray());
            return true;
        }
        public bool TryDeliverTo(Action<byte[]> receiver)
        {
            if (!pushes) return false;
            Pushed = receiver;
            return true;
        }
    }

    [Fact]
    public void A_path_that_only_offers_its_channel_is_drained_in_order_by_the_reader_thread()
    {
        var path = new ChannelPath(pushes: false);
        using var transport = new PathDatagramTransport(path, "t");
        var got = new BlockingCollection<byte[]>();
        transport.SetReceiver(d => got.Add(d.ToArray()));
        for (byte i = 1; i <= 100; i++) path.Channel.Writer.TryWrite([20, i]);
        for (byte i = 1; i <= 100; i++)
        {
            Assert.True(got.TryTake(out var d, TimeSpan.FromSeconds(30)));
            Assert.Equal(new byte[] { 20, i }, d);
        }
    }

    [Fact]
    public void A_pushing_path_gets_the_receiver_and_delivery_stops_at_dispose()
    {
        var path = new ChannelPath(pushes: true);
        var transport = new PathDatagramTransport(path, "t");
        var got = new List<byte[]>();
        transport.SetReceiver(d => got.Add(d.ToArray()));
        path.Pushed!([21, 1]);
        transport.Dispose();
        path.Pushed!([21, 2]);
        Assert.Equal([[21, 1]], got);
        Assert.Throws<InvalidOperationException>(() => transport.SetReceiver(_ => { }));
    }

    [Fact]
    public void Sends_the_path_refuses_are_counted()
    {
        var path = new ChannelPath(pushes: true) { Up = false };
        using var transport = new PathDatagramTransport(path, "t");
        transport.Send([22, 0]);
        path.Up = true;
        transport.Send([22, 1]);
        Assert.Equal(1, transport.SendsRefused);
        Assert.Equal([[22, 1]], path.Sent);
    }
}
