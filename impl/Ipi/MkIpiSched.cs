using System.Diagnostics;

namespace Multikernel.Impl.Ipi;

/// <summary>
/// The shared-memory accesses of <see cref="MkIpi"/>, named as the specification names its steps.
/// A systematic test (tests.coyote) interleaves the CPUs at each of them.
/// </summary>
public enum MkIpiStep : byte
{
    Create, Lookup, ReadLock, Recheck, ReadHead, FullCheck, Claim, Fill, Publish, RaiseIpi, ReadUnlock,
    Interrupt, DrainOwner, DrainSlot, FreeSlot, Dispatch, Callback, DrainEnd, RepairSlots, RepairHead,
    Register, Unlink, Membarrier, IrqWorkSync,
    Unpublish, SynchronizeRcu, WaitDrain, Free,
}

/// <summary>
/// Scheduling points for the systematic tests. <see cref="At"/> is compiled only where MK_COYOTE is
/// defined (tests.coyote compiles these sources with it); everywhere else the compiler drops every
/// call and its arguments, so the ported code has no test-only branch. The partial method's body is
/// the test build's.
/// </summary>
internal static partial class MkIpiSched
{
    /// <summary>The calling CPU is about to make access <paramref name="step"/> (<paramref name="arg"/>: a ring position or handle).</summary>
    [Conditional("MK_COYOTE")]
    public static void At(MkIpiStep step, uint arg = 0) => Point(step, arg);

    static partial void Point(MkIpiStep step, uint arg);
}
