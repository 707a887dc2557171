// An in-memory link transport for tests and single-machine demos: every node attached to one
// LoopbackLinkNetwork can open links to every other. It keeps the transport's contract
// (ILinkTransport) exactly, including the certificate check: a link comes up only when each end
// was given the other's LocalFingerprint, else both ends get TransportDown("fingerprint
// mismatch …"), as DTLS would refuse. Frames are handed over in order, without loss or delay;
// Cut(a, b) silences a pair (both directions) to exercise dead-link detection.
// Thread-safe: one lock over the whole network (tests run a handful of nodes).
using EdgeVpn.Protocol.Links;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.RealNode.Host;

public sealed class LoopbackLinkNetwork
{
    private readonly object _gate = new();
    private readonly Dictionary<NodeId, Transport> _nodes = new();
    private readonly HashSet<(NodeId, NodeId)> _cut = new();

    public ILinkTransport Attach(NodeId node, ILinkEvents events, string fingerprint)
    {
        lock (_gate)
        {
            var t = new Transport(this, node, events, fingerprint);
            _nodes[node] = t;
            return t;
        }
    }

    /// <summary>Silences (or restores) everything between a and b.</summary>
    public void Cut(NodeId a, NodeId b, bool cut = true)
    {
        lock (_gate)
        {
            if (cut) { _cut.Add((a, b)); _cut.Add((b, a)); }
            else { _cut.Remove((a, b)); _cut.Remove((b, a)); }
        }
    }

    private sealed class End(NodeId peer)
    {
        public NodeId Peer { get; } = peer;
        public string? RemoteFingerprint { get; set; }
        public bool Up { get; set; }
        public long BytesIn, BytesOut, FramesIn, FramesOut;
    }

    private sealed class Transport(LoopbackLinkNetwork net, NodeId self, ILinkEvents events, string fingerprint) : ILinkTransport
    {
        private readonly Dictionary<LinkId, End> _ends = new();

        public string LocalFingerprint { get; } = fingerprint;

        public void Prepare(LinkId link, NodeId peer, IceRole role)
        {
            lock (net._gate) _ends[link] = new End(peer);
            events.Report(new LinkEvent.EndpointPrepared(link, $"loopback:{self}"));
        }

        public void Connect(LinkId link, NodeId peer, IceRole role, string remoteEndpoint, string remoteFingerprint)
        {
            lock (net._gate)
            {
                if (!_ends.TryGetValue(link, out var mine)) return;
                mine.RemoteFingerprint = remoteFingerprint;
                if (!net._nodes.TryGetValue(peer, out var other) || !other._ends.TryGetValue(link, out var theirs) || theirs.RemoteFingerprint is null)
                    return;   // the other end connects later and completes the pair
                if (mine.RemoteFingerprint != other.LocalFingerprint || theirs.RemoteFingerprint != LocalFingerprint)
                {
                    string reason = "fingerprint mismatch: the peer's certificate is not the one announced over signaling";
                    _ends.Remove(link);
                    other._ends.Remove(link);
                    events.Report(new LinkEvent.TransportDown(link, reason));
                    other.Events.Report(new LinkEvent.TransportDown(link, reason));
                    return;
                }
                if (net._cut.Contains((self, peer))) return;   // checks never succeed through a cut: both ends time out
                mine.Up = theirs.Up = true;
                events.Report(new LinkEvent.TransportUp(link));
                other.Events.Report(new LinkEvent.TransportUp(link));
            }
        }

        public ILinkEvents Events => events;

        public void Send(LinkId link, byte[] frame) => Carry(link, frame);

        public void SendKeepAlive(LinkId link) => Carry(link, null);

        private void Carry(LinkId link, byte[]? frame)
        {
            lock (net._gate)
            {
                if (!_ends.TryGetValue(link, out var mine) || !mine.Up) return;
                if (net._cut.Contains((self, mine.Peer))) return;
                if (!net._nodes.TryGetValue(mine.Peer, out var other) || !other._ends.TryGetValue(link, out var theirs) || !theirs.Up) return;
                int bytes = frame?.Length ?? 0;
                mine.BytesOut += bytes; mine.FramesOut += frame is null ? 0 : 1;
                theirs.BytesIn += bytes; theirs.FramesIn += frame is null ? 0 : 1;
                other.Events.Report(frame is null ? new LinkEvent.KeepAlive(link) : new LinkEvent.Frame(link, (byte[])frame.Clone()));
            }
        }

        public void Close(LinkId link)
        {
            lock (net._gate)
            {
                if (!_ends.Remove(link, out var mine)) return;
                if (net._nodes.TryGetValue(mine.Peer, out var other) && other._ends.Remove(link, out var theirs) && theirs.Up)
                    other.Events.Report(new LinkEvent.TransportDown(link, "closed by the peer"));
            }
        }

        public LinkTransportStats Stats(LinkId link)
        {
            lock (net._gate)
                return _ends.TryGetValue(link, out var e)
                    ? new LinkTransportStats(e.Up ? LinkPathKind.Loopback : LinkPathKind.Unknown, e.Up ? 0.0 : null, e.BytesIn, e.BytesOut, e.FramesIn, e.FramesOut)
                    : default;
        }

        public void Dispose()
        {
            lock (net._gate)
            {
                foreach (var link in _ends.Keys.ToList()) Close(link);
                net._nodes.Remove(self);
            }
        }
    }
}
