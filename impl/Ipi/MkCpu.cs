namespace Multikernel.Impl.Ipi;

/// <summary>
/// The receiving instance's CPU: a thread that sleeps until MULTIKERNEL_VECTOR is
/// raised, then runs the interrupt entry. It polls the ring for a while before sleeping,
/// as a CPU in a poll-idle loop would, so a busy ring is drained without IPIs at all.
/// </summary>
internal sealed class MkCpu : IDisposable
{
    // Busy-poll (as NAPI does) for a few hundred microseconds before sleeping: the pause
    // instructions keep the core's sibling and the senders' cache lines undisturbed.
    private const int PollsBeforeSleep = 2000, PollPause = 20;

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

    /// <summary>
    /// Asleep with no IPI pending and no wake-up queued: only a sender's IPI (or disposal) wakes it, so
    /// with no sender running, what is left in the ring stays there.
    /// </summary>
    public bool Asleep => Volatile.Read(ref _sleeping) != 0 && Volatile.Read(ref _area.Irq.IpiPending) == 0 && _wake.CurrentCount == 0;

    /// <summary>Called after the pending bit went 0 → 1: wake the CPU if it sleeps.</summary>
    public void Kick()
    {
        // Pairs with the full fence between "_sleeping = 1" and re-reading the pending bit.
        if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
    }

    /// <summary>Stops the CPU thread and waits for it (unless called from it), then frees the wake-up semaphore.</summary>
    public void Dispose()
    {
        _stop = true;
        _wake.Release();
        if (Thread.CurrentThread == _thread) return; // the thread sees _stop and leaves; it still needs _wake
        _thread.Join();
        _wake.Dispose();
    }

    /// <summary>
    /// Awake, the CPU keeps its pending bit set and polls the ring, so senders need not raise
    /// IPIs; before sleeping it clears the bit, runs a process-wide barrier and looks at the ring
    /// once more: either it sees a sender's slot, or that sender sees the bit clear and raises
    /// the IPI. The barrier's cost is paid once per sleep, not per message.
    /// </summary>
    private void Run()
    {
        int idle = 0;
        Volatile.Write(ref _area.Irq.IpiPending, 1);
        while (!_stop)
        {
            if (idle == 0 || _area.HasWork())
            {
                try { _interrupt(_area); }
                catch (Exception e) { Fault ??= e; }
                idle = 1;
                continue;
            }
            if (++idle < PollsBeforeSleep) { Thread.SpinWait(PollPause); continue; }
            // Clear the pending bit, then a process-wide barrier: any sender that still reads it set
            // has published before that barrier, so the look at the ring below sees its slot.
            Volatile.Write(ref _area.Irq.IpiPending, 0);
            Interlocked.MemoryBarrierProcessWide();
            if (_area.HasWork()) { Volatile.Write(ref _area.Irq.IpiPending, 1); idle = 0; continue; }
            Interlocked.Exchange(ref _sleeping, 1); // full fence before re-reading the pending bit
            if (Volatile.Read(ref _area.Irq.IpiPending) == 0 && !_stop) _wake.Wait();
            Volatile.Write(ref _sleeping, 0);
            Volatile.Write(ref _area.Irq.IpiPending, 1); // awake: polling again
            idle = 0; // a wake-up always runs the interrupt entry (a damaged ring is repaired there)
        }
    }
}
