// Replays a node trace into a fresh EdgeNode (the same id, seed and fingerprint from the header,
// the configuration given) and returns what it output, one stable line per output
// (NodeTrace.Describe). A real run's observed outputs and the replay's are equal when the node
// is deterministic in its inputs, which is what the test of this file checks. Stops at the
// first malformed line with its number.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Node;

namespace EdgeVpn.RealNode.Host;

public static class NodeTraceReplay
{
    public sealed record Result(IReadOnlyList<string> Outputs, int Entries, string? Error);

    public static Result Run(TextReader reader, EdgeNodeConfig config)
    {
        var outputs = new List<string>();
        var header = NodeTrace.ParseHeader(reader.ReadLine());
        if (!header.Ok) return new Result(outputs, 0, "line 1: " + header.Error);
        var node = new EdgeNode(header.Value.Node, config, new DeterministicRandom(header.Value.Seed), header.Value.Fingerprint);
        long presenceVersion = 0;
        int lineNumber = 1, entries = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var parsed = NodeTrace.ParseLine(line, ref presenceVersion);
            if (!parsed.Ok) return new Result(outputs, entries, $"line {lineNumber}: {parsed.Error}");
            if (parsed.Value is not { } entry) continue;
            entries++;
            if (entry.Input is null) node.HandleTimeout(entry.At);
            else node.Handle(entry.At, entry.Input);
            while (node.TryPollOutput(out var o)) outputs.Add(NodeTrace.Describe(o));
            node.CheckInvariants();
        }
        return new Result(outputs, entries, null);
    }
}
