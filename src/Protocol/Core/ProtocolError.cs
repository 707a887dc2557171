// A protocol error: an input the machine's transition table does not allow in the current
// state, or malformed data from a peer. Reported as an output so the host can log and count it;
// the machine stays in a known state. (h11's LocalProtocolError, without the exception.)
namespace EdgeVpn.Protocol.Core;

public sealed record ProtocolError(string Machine, string State, string Input, string Reason)
{
    public override string ToString() => $"{Machine}: {Input} not allowed in {State}: {Reason}";
}
