namespace Multikernel.Impl.Ipi;

/// <summary>
/// The receiving instance's CPU: a thread that sleeps until MULTIKERNEL_VECTOR is
/// raised, then runs the interrupt entry. It spins briefly before sleeping, as a
/// CPU in a poll-idle loop would, so a busy ring is drained without a wake-up.
/// </summary>
internal sealed class MkCpu
{
    private const int SpinsBeforeSleep = 200;

    private readonly MkIpiArea _area;
    private readonly Action<MkIpiArea> _interrupt;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private int _sleeping;
    private volatile bool _stop;

    public MkCpu(MkIpiArea area, Action<MkIpiArea> interrupt)
    {
        _area = area;
        _interrupt = interrupt;
        _thread = new Thread(Run) { IsBackground = true, Name = $"mk-instance-{area.Id}-cpu" };
    }

    /// <summary>An unhandled exception from a callback; the CPU keeps running (a real one would oops).</summary>
    public Exception? Fault { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>Called after the pending bit went 0 → 1: wake the CPU if it sleeps.</summary>
    public void Kick()
    {
        // Pairs with the full fence between "_sleeping = 1" and re-reading the pending bit.
        if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
    }

    public void Stop()
    {
        _stop = true;
        _wake.Release();
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private void Run()
    {
        var spin = new SpinWait();
        while (!_stop)
        {
            if (Interlocked.Exchange(ref _area.IpiPending, 0) != 0)
            {
                try { _interrupt(_area); }
                catch (Exception e) { Fault ??= e; }
                spin.Reset();
                continue;
            }
            if (spin.Count < SpinsBeforeSleep) { spin.SpinOnce(sleep1Threshold: -1); continue; }
            Interlocked.Exchange(ref _sleeping, 1); // full fence before re-reading the pending bit
            if (Volatile.Read(ref _area.IpiPending) == 0 && !_stop) _wake.Wait();
            Volatile.Write(ref _sleeping, 0);
            spin.Reset();
        }
    }
}
