using Microsoft.Coyote.Runtime;
using Multikernel.Coyote.Ipi;
using Multikernel.Coyote.Systematic;

namespace Multikernel.Impl.Ipi;

/// <summary>
/// The test build's scheduling point: record the step in the specification's words, check the ghost
/// facts that only the step order shows (a write into a freed region), and let Coyote pick who runs
/// next. A CPU that waits for another (synchronize_rcu, irq_work_sync, the drain's owner) yields.
/// </summary>
internal static partial class MkIpiSched
{
    static partial void Point(MkIpiStep step, uint arg)
    {
        Steps.Record(IpiWords.Line(step, arg));
        if (step is MkIpiStep.Fill or MkIpiStep.Publish && IpiGhost.Current.Freed)
            Steps.Check(false, $"no-use-after-free: {Steps.Cpu} writes ring position {arg} into the IPI area after destroy freed it");
        if (step == MkIpiStep.Free) IpiGhost.Current.Freed = true;
        if (step is MkIpiStep.SynchronizeRcu or MkIpiStep.WaitDrain or MkIpiStep.IrqWorkSync) SchedulingPoint.Yield();
        else SchedulingPoint.Interleave();
    }
}
