// Exponential back-off with a ceiling, shared by every machine that retries (link setups,
// XMPP reconnects): the delay after the f-th consecutive failure is min(first * 2^(f-1), max),
// computed without overflow. Jitter is the caller's (DeterministicRandom.Jitter), so that each
// caller draws from its own seeded stream.
namespace EdgeVpn.Protocol.Core;

public static class Backoff
{
    public static TimeSpan Exponential(int failures, TimeSpan first, TimeSpan max)
    {
        long ticks = first.Ticks;
        long ceiling = max.Ticks;
        for (int k = 1; k < failures && ticks > 0 && ticks < ceiling; k++) ticks = ticks > ceiling / 2 ? ceiling : ticks * 2;
        return TimeSpan.FromTicks(Math.Min(ticks, ceiling));
    }
}
