// The sans-IO contract every protocol machine follows (see ARCHITECTURE.md):
//   Handle(now, input)   never blocks, never reads a clock;
//   HandleTimeout(now)   extra or early calls are harmless;
//   PollTimeout()        the earliest timer it wants, or null;
//   TryPollOutput(out o) drain until false after EVERY Handle*;
//   CheckInvariants()    throws InvariantViolation when internal state is inconsistent
//                        (a bug in the machine, never a reaction to bad input).
// Bad input from peers is reported as an output (a protocol error), never thrown.
namespace EdgeVpn.Protocol.Core;

public interface IStateMachine<TInput, TOutput>
{
    void Handle(Instant now, TInput input);
    void HandleTimeout(Instant now);
    Instant? PollTimeout();
    bool TryPollOutput(out TOutput output);
    void CheckInvariants();
}

/// <summary>Thrown only by CheckInvariants: the machine's own state is inconsistent.</summary>
public sealed class InvariantViolation(string message) : Exception(message);
