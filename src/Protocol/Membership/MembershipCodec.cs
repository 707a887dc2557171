// Encoding and parsing of MembershipMessage (layout in MembershipMessage.cs). Parse never throws:
// every read is preceded by a length check through a cursor that records the first problem.
using System.Buffers.Binary;
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;
using static EdgeVpn.Protocol.Membership.MembershipMessage;

namespace EdgeVpn.Protocol.Membership;

public static class MembershipCodec
{
    private enum Kind : byte { FindSuccessor = 1, FoundOwner = 2, FindFailed = 3, Stabilize = 4, StabilizeReply = 5, Leaving = 6 }

    public static byte[] Encode(MembershipMessage message)
    {
        var buffer = new byte[EncodedLengthMax];
        int n = Encode(buffer, message);
        return buffer[..n];
    }

    /// <summary>Encodes into dest (at least EncodedLengthMax bytes); returns the bytes written.</summary>
    public static int Encode(Span<byte> dest, MembershipMessage message)
    {
        var w = new Writer(dest);
        w.Byte(MembershipMessage.Version);
        switch (message)
        {
            case FindSuccessor f:
                w.Byte((byte)Kind.FindSuccessor); w.U64(f.RequestId); w.Id(f.Origin); w.Id(new NodeId(f.Key));
                w.Byte(f.Hops); w.Byte((byte)((f.ForJoin ? 1 : 0) | (f.Introduce ? 2 : 0) | (f.Nearest ? 4 : 0)));
                break;
            case FoundOwner o:
                w.Byte((byte)Kind.FoundOwner); w.U64(o.RequestId); w.Id(o.Owner); w.Byte(o.Hops);
                w.RingState(o.KeyPredecessor, o.KeySuccessors);
                break;
            case FindFailed x:
                w.Byte((byte)Kind.FindFailed); w.U64(x.RequestId); w.Byte(x.Hops); w.Byte((byte)x.Reason);
                break;
            case Stabilize s:
                w.Byte((byte)Kind.Stabilize); w.U64(s.Nonce);
                break;
            case StabilizeReply r:
                w.Byte((byte)Kind.StabilizeReply); w.U64(r.Nonce); w.U64(r.Spacing);
                w.RingState(r.Predecessor, r.Successors);
                break;
            case Leaving l:
                w.Byte((byte)Kind.Leaving);
                w.RingState(l.Predecessor, l.Successors);
                break;
            default:
                throw new ArgumentException($"unknown membership message {message.GetType().Name}", nameof(message));
        }
        return w.Position;
    }

    public static ParseResult<MembershipMessage> Parse(ReadOnlySpan<byte> bytes)
    {
        var r = new Reader(bytes);
        byte version = r.Byte();
        if (r.Error is null && version != MembershipMessage.Version) return Fail($"membership version {version} is not {MembershipMessage.Version}");
        byte kind = r.Byte();
        MembershipMessage? m = null;
        switch ((Kind)kind)
        {
            case Kind.FindSuccessor:
            {
                ulong id = r.U64(); var origin = r.Id(); var key = r.Id(); byte hops = r.Byte(); byte flags = r.Byte();
                if (r.Error is null && flags > 7) return Fail($"find-successor flags 0x{flags:x2} use bits other than 0 to 2");
                m = new FindSuccessor(id, origin, key.Value, hops, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0);
                break;
            }
            case Kind.FoundOwner:
            {
                ulong id = r.U64(); var owner = r.Id(); byte hops = r.Byte();
                var (pred, succ) = r.RingState();
                m = new FoundOwner(id, owner, hops, pred, succ);
                break;
            }
            case Kind.FindFailed:
            {
                ulong id = r.U64(); byte hops = r.Byte(); byte reason = r.Byte();
                if (r.Error is null && !Enum.IsDefined((FindFailure)reason)) return Fail($"find-failed reason {reason} is unknown");
                m = new FindFailed(id, hops, (FindFailure)reason);
                break;
            }
            case Kind.Stabilize:
                m = new Stabilize(r.U64());
                break;
            case Kind.StabilizeReply:
            {
                ulong nonce = r.U64(); ulong spacing = r.U64();
                var (pred, succ) = r.RingState();
                m = new StabilizeReply(nonce, spacing, pred, succ);
                break;
            }
            case Kind.Leaving:
            {
                var (pred, succ) = r.RingState();
                m = new Leaving(pred, succ);
                break;
            }
            default:
                if (r.Error is null) return Fail($"membership message type {kind} is unknown");
                break;
        }
        if (r.Error is { } e) return Fail(e);
        if (r.Position != bytes.Length) return Fail($"membership message has {bytes.Length - r.Position} trailing bytes");
        return m!;
    }

    private static ParseResult<MembershipMessage> Fail(string error) => ParseResult<MembershipMessage>.Fail(error);

    private ref struct Writer(Span<byte> dest)
    {
        private readonly Span<byte> _d = dest;
        public int Position;

        public void Byte(byte b) => _d[Position++] = b;
        public void U64(ulong v) { BinaryPrimitives.WriteUInt64BigEndian(_d[Position..], v); Position += 8; }
        public void Id(NodeId id) { U64(id.Upper); U64(id.Lower); }

        public void RingState(NodeId? predecessor, NodeId[] successors)
        {
            if (successors.Length > SuccessorsOnWireMax) throw new ArgumentException($"more than {SuccessorsOnWireMax} successors", nameof(successors));
            Byte(predecessor is null ? (byte)0 : (byte)1);
            if (predecessor is { } p) Id(p);
            Byte((byte)successors.Length);
            foreach (var s in successors) Id(s);
        }
    }

    // Reads past the end return zeros and record an error; callers check Error before using values.
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _s = bytes;
        public int Position;
        public string? Error;

        private bool Need(int n, string what)
        {
            if (Error is not null) return false;
            if (_s.Length - Position >= n) return true;
            Error = $"membership message truncated: {what} needs {n} bytes at offset {Position}, {_s.Length - Position} left";
            return false;
        }

        public byte Byte() => Need(1, "a byte") ? _s[Position++] : (byte)0;

        public ulong U64()
        {
            if (!Need(8, "a 64-bit field")) return 0;
            ulong v = BinaryPrimitives.ReadUInt64BigEndian(_s[Position..]);
            Position += 8;
            return v;
        }

        public NodeId Id() => Need(16, "a node id") ? new NodeId(U64(), U64()) : NodeId.Zero;

        public (NodeId? Predecessor, NodeId[] Successors) RingState()
        {
            byte has = Byte();
            if (Error is null && has > 1) Error = $"predecessor presence byte {has} is not 0 or 1";
            NodeId? pred = has == 1 ? Id() : null;
            byte count = Byte();
            if (Error is null && count > SuccessorsOnWireMax) Error = $"successor count {count} is above {SuccessorsOnWireMax}";
            if (Error is not null || !Need(16 * count, "the successor list")) return (null, []);
            var successors = new NodeId[count];
            for (int i = 0; i < count; i++) successors[i] = Id();
            return (pred, successors);
        }
    }
}
