// Two connected in-memory datagram transports (A <-> B), optionally lossy, reordering and
// duplicating, for tests and benchmarks. Faults are drawn from a seeded DeterministicRandom per
// direction, so one seed gives the same drop/reorder pattern for the same sequence of sends.
// Each end delivers on its own thread from a bounded queue (like a socket's receive buffer and
// receive thread): a full queue drops, and a receiver that sends back can never deadlock its
// sender. A datagram chosen to be reordered is held back and delivered right after the next one
// in the same direction (one held at most; a held datagram with no successor is lost, as on a
// real network). Dispose stops both threads.
using System.Collections.Concurrent;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.RealNode.Dtls;

public sealed record DatagramFaults(double LossProbability = 0, double ReorderProbability = 0, double DuplicateProbability = 0)
{
    public static readonly DatagramFaults None = new();
}

public sealed class DatagramPipe : IDisposable
{
    public const int QueueDatagramsMax = 4096;

    private readonly End _a, _b;
    public IDatagramTransport A => _a;
    public IDatagramTransport B => _b;

    public DatagramPipe(DatagramFaults faults, ulong seed, int datagramBytesMax = 1500)
    {
        var random = new DeterministicRandom(seed);
        _a = new End("a", datagramBytesMax, faults, random.Fork("a->b"));
        _b = new End("b", datagramBytesMax, faults, random.Fork("b->a"));
        _a.Peer = _b;
        _b.Peer = _a;
    }

    /// <summary>Datagrams dropped by the fault model or a full queue, both directions.</summary>
    public long Dropped => Interlocked.Read(ref _a.Dropped) + Interlocked.Read(ref _b.Dropped);

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private sealed class End(string name, int datagramBytesMax, DatagramFaults faults, DeterministicRandom random) : IDatagramTransport, IDisposable
    {
        private readonly Lock _gate = new();
        private readonly BlockingCollection<byte[]> _inbound = new(QueueDatagramsMax);
        private readonly CancellationTokenSource _stop = new();
        private Thread? _thread;
        private byte[]? _held;
        public End? Peer;
        public long Dropped;

        public int DatagramBytesMax => datagramBytesMax;

        public void SetReceiver(DatagramReceiver receiver)
        {
            if (_thread is not null) throw new InvalidOperationException("SetReceiver is called once");
            _thread = new Thread(() => Run(receiver)) { IsBackground = true, Name = "pipe-" + name };
            _thread.Start();
        }

        public void Send(ReadOnlySpan<byte> datagram)
        {
            if (datagram.Length > datagramBytesMax)
                throw new ArgumentException($"datagram of {datagram.Length} bytes exceeds the path's {datagramBytesMax}", nameof(datagram));
            byte[] copy = datagram.ToArray();
            byte[]? released;
            bool drop, duplicate, hold;
            lock (_gate)
            {
                drop = random.NextDouble() < faults.LossProbability;
                duplicate = random.NextDouble() < faults.DuplicateProbability;
                hold = !drop && _held is null && random.NextDouble() < faults.ReorderProbability;
                released = drop || hold ? null : _held;
                if (!drop && !hold) _held = null;
                if (hold) _held = copy;
            }
            if (drop) { Interlocked.Increment(ref Dropped); return; }
            if (hold) return;
            Peer!.Enqueue(copy);
            if (duplicate) Peer.Enqueue(copy);
            if (released is not null) Peer.Enqueue(released);
        }

        private void Enqueue(byte[] datagram)
        {
            try
            {
                if (!_inbound.TryAdd(datagram)) Interlocked.Increment(ref Peer!.Dropped);
            }
            catch (InvalidOperationException) { } // disposed: the datagram goes nowhere, like a closed socket
        }

        private void Run(DatagramReceiver receiver)
        {
            try
            {
                foreach (var datagram in _inbound.GetConsumingEnumerable(_stop.Token)) receiver(datagram);
            }
            catch (OperationCanceledException) { }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _inbound.CompleteAdding();
            if (_thread is not null && _thread != Thread.CurrentThread) _thread.Join();
        }
    }
}
