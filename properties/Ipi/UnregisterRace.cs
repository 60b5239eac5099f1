using Multikernel.Impl.Ipi;

namespace Multikernel.Properties.Ipi;

/// <summary>
/// After UnregisterHandler returns, the handler's callback never runs again (irq_work_sync).
/// The receiving CPU is inside a drain, in the callback of handler A, when another CPU
/// unregisters handler B, which the drain will call next for the same message. A waits
/// until the unregister returns or <see cref="Patience"/> passes. A correct unregister
/// waits for the drain, so A's patience runs out first and B runs before the return; an
/// unregister that does not wait returns at once, and B then runs after it.
/// </summary>
public static class UnregisterRace
{
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(250);

    /// <summary>Null when the callback never ran after the unregister returned; otherwise what happened.</summary>
    public static string? Run(MkIpiDefects defects = MkIpiDefects.None)
    {
        using var ipi = new MkIpi(4, cpuThreads: false, defects);
        ipi.CreateInstance(0);
        using var inA = new ManualResetEventSlim();
        using var returned = new ManualResetEventSlim();
        bool late = false;
        ipi.RegisterHandler((in MkIpiMessage _, object? __) => { inA.Set(); returned.Wait(Patience); }, null, 1);
        int b = ipi.RegisterHandler((in MkIpiMessage _, object? __) => late |= returned.IsSet, null, 1);
        ipi.SendIpiData(0, [1, 2, 3], 1);

        var cpu = new Thread(() => ipi.HandleInterrupt(0));
        cpu.Start();
        inA.Wait();
        int rc = ipi.UnregisterHandler(b);
        returned.Set();
        cpu.Join();
        if (rc != 0) return $"UnregisterHandler returned {rc}";
        return late ? "handler B's callback ran after UnregisterHandler(B) had returned" : null;
    }
}
