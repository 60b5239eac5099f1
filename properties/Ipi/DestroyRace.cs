using Multikernel.Impl.Ipi;

namespace Multikernel.Properties.Ipi;

/// <summary>
/// A destroyed instance's memory is not written after it is freed: DestroyInstance must not
/// return while a sender is still inside SendIpiData on the instance (synchronize_rcu()).
/// A sender is held right after its claim (the OnClaimed fault-injection point); another CPU
/// destroys the instance. A correct destroy waits for the sender, so it is still running when
/// <see cref="Patience"/> has passed and the sender is let go; one that does not wait returns
/// while the sender is held, and its freed region then goes to the next instance.
/// </summary>
public static class DestroyRace
{
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(200);

    /// <summary>Null when destroy waited for the sender; otherwise what happened.</summary>
    public static string? Run(MkIpiDefects defects = MkIpiDefects.None)
    {
        using var ipi = new MkIpi(4, cpuThreads: false, defects);
        ipi.CreateInstance(0);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        ipi.OnClaimed = _ => { inside.Set(); release.Wait(TimeSpan.FromSeconds(5)); };
        int rc = 1;
        var sender = new Thread(() => rc = ipi.SendIpiData(0, [1, 2, 3], 1));
        sender.Start();
        inside.Wait();
        ipi.OnClaimed = null;
        var destroyer = new Thread(() => ipi.DestroyInstance(0));
        destroyer.Start();
        bool returnedEarly = destroyer.Join(Patience);
        release.Set();
        sender.Join();
        destroyer.Join();
        if (returnedEarly) return "DestroyInstance returned while a sender was still inside SendIpiData on the instance";
        return rc == 0 ? null : $"the held sender's SendIpiData returned {rc}";
    }
}
