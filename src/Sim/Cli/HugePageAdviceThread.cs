// Runs the huge-page pass (HugePageAdvisor) on a thread of its own: at once, then every Interval
// until disposed. Why a thread: inside MADV_COLLAPSE the kernel copies the heap's pages into huge
// pages, and on the event loop's thread that stopped the simulation meanwhile (1.1 s of a 15.9 s
// run at 30k nodes, 21.2 s of 1,145.9 s at 1M). The loop is single-threaded and a 2-core machine's
// second core idles outside GC pauses, so the pass runs there, beside the loop.
// Contract: never throws (the pass itself never does); the pass never changes what the simulation
// computes, only how its memory is paged; BusyTime is the time spent inside passes, read after
// Dispose, which stops the thread and waits for a pass in progress to end.
using System.Diagnostics;

namespace EdgeVpn.Sim.Cli;

internal sealed class HugePageAdviceThread : IDisposable
{
    /// <summary>The heap grows and the GC remaps what it decommits: new ranges are marked this often.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly ManualResetEventSlim _stop = new(false);
    private readonly Stopwatch _busy = new();
    private readonly Thread _thread;
    private bool _disposed;

    public HugePageAdviceThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "edgevpn-huge-pages" };
        _thread.Start();
    }

    /// <summary>Time spent inside passes (off the loop's thread).</summary>
    public TimeSpan BusyTime => _busy.Elapsed;

    /// <summary>Whether the thread still runs (false once Dispose returned).</summary>
    public bool Running => _thread.IsAlive;

    private void Loop()
    {
        try
        {
            do
            {
                _busy.Start();
                HugePageAdvisor.Advise();
                _busy.Stop();
            }
            while (!_stop.Wait(Interval));
        }
        catch (Exception)
        {
            // The pass only changes how memory is paged: an unforeseen failure ends the passes, never the run.
            _busy.Stop();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }
}
