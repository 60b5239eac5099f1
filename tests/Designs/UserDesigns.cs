using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;

namespace Multikernel.Tests.Designs;

/// <summary>
/// The README's example of a design of your own, in an assembly of your own: the reference
/// ring initialised lazily by the first sender. It owns a shared variable, adds a step in
/// front of the send path, and reuses the ring's building blocks. Two senders can both see
/// the ring uninitialised; the second resets head under the first one's claim.
/// </summary>
public sealed class LazyInitRing : RingDesign
{
    public LazyInitRing() : base("my-lazy-init") { }

    public override string Summary => "example: the ring is initialised by the first sender (if (!ring->ready) { head = tail = 0; ready = 1; })";
    public override IReadOnlyList<string> SharedNames => ["ring_ready"];
    public override IReadOnlyList<string> LocalNames => ["saw_unready"];

    private const string Check = "if (!READ_ONCE(ring->ready))";
    private const string InitLine = "ring->head = ring->tail = 0; WRITE_ONCE(ring->ready, 1);";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program => [(Check, CheckReady), (InitLine, InitRing), .. base.Program];

    private static bool CheckReady(ref IpiState s, int cpu, IpiKernel k)
    {
        k.Local(ref s, cpu, 0) = (byte)(k.Shared(ref s, 0) == 0 ? 1 : 0);
        return true;
    }

    private static bool InitRing(ref IpiState s, int cpu, IpiKernel k)
    {
        if (k.Local(ref s, cpu, 0) != 0) { s.Head = s.Tail = 0; k.Shared(ref s, 0) = 1; }
        return true;
    }
}

/// <summary>A variant that drains the slot at the raw tail counter: no mask. Uses the bounds-checked accessor.</summary>
public sealed class UnmaskedDrain : RingDesign
{
    public UnmaskedDrain() : base("my-unmasked-drain") { }

    public override string Summary => "example: the drain indexes the ring with the raw tail (a counter the other kernel can write)";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        if (s.Targets != 0) { DispatchStep(ref s, k); return; }
        s.RingWork = 2;
        ref var slot = ref k.Slot(ref s, s.Tail); // no & (MK_IPI_RING - 1)
        if (slot.State != Model.Ipi.IpiConstants.SlotReady) { s.RingWork = 0; s.Copy = default; return; }
        s.Copy = slot;
        slot.State = Model.Ipi.IpiConstants.SlotFree;
        s.Tail++;
    }
}

/// <summary>A variant that indexes the model's slot array directly, past its end: the step throws.</summary>
public sealed class WildIndex : RingDesign
{
    public WildIndex() : base("my-wild-index") { }

    public override string Summary => "example: the drain reads slots[tail * 8] without any accessor";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        if (s.Targets == 0 && s.Tail > 0) { _ = s.Slots[s.Tail * 8].State; }
        base.RunWork(ref s, work, k);
    }
}

/// <summary>
/// A variant that silently does nothing useful: the drain drops every message's handlers,
/// unregister never gets past irq_work_sync, destroy never frees. Every safety invariant
/// holds on it, vacuously; the sometimes-properties are what catch it.
/// </summary>
public sealed class Silent : RingDesign
{
    public Silent() : base("my-silent") { }

    public override string Summary => "example: delivery, unregister and destroy silently disabled";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        base.RunWork(ref s, work, k);
        s.Targets = 0; // the handler walk forgets to pick anyone
    }

    public override bool UnregisterEnabled(in IpiState s, IpiKernel k) => s.UnregisterPc == 0;
    public override bool DestroyEnabled(in IpiState s, IpiKernel k) => s.DestroyPc == 0;
}

/// <summary>
/// A design that is edited between writing a trace and replaying it: with <see cref="Fixed"/>
/// set it gains the full check, so the old trace no longer describes it.
/// </summary>
public sealed class Editable : RingDesign
{
    private static volatile bool s_fixed;

    /// <summary>The design as edited: it has the full check.</summary>
    public static bool Fixed { get => s_fixed; set => s_fixed = value; }

    public Editable() : base("my-editable") { }

    public override string Summary => "example: a design edited after its trace was written";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        Fixed ? base.Program : [.. base.Program.Select(p => p.Line == Claim ? (Claim, (SendStep)ClaimUnchecked) : p)];

    private static bool ClaimUnchecked(ref IpiState s, int cpu, IpiKernel k)
    {
        s.Senders[cpu].Slot = s.Head;
        s.Head++;
        return true;
    }
}

/// <summary>
/// A uffd design on which no register mode is ever accepted: every safety invariant holds on it,
/// vacuously, and only the sometimes-properties (a missing, minor or WP fault reaches
/// handle_userfault()) say that nothing was checked.
/// </summary>
public sealed class NoRegisterUffd : Model.Uffd.UffdDesign
{
    public NoRegisterUffd() : base("my-no-register", "example: vma_can_userfault() refuses everything",
        Model.Uffd.UffdDesigns.MainlineVmUffdMinor, minorOnShmem: true, wpOnFileBacked: true) { }

    public override bool VmaCanUserfault(Model.Uffd.MemType type, ulong vmFlags) => false;
}

/// <summary>
/// The reference, except that the last send step returns true after k.Return(): a finished CPU would
/// run on into the first step of its next message with the position it has not claimed, and a last
/// message's CPU would wrap round. The step contract names it at the step where it happens.
/// </summary>
public sealed class RunsOnAfterReturn : RingDesign
{
    public RunsOnAfterReturn() : base("my-runs-on-after-return") { }

    public override string Summary => "example: the IPI step returns true after k.Return() (a step contract broken)";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [.. base.Program.Select(p => p.Line == Ipi ? (Ipi, (SendStep)IpiThenOn) : p)];

    private static bool IpiThenOn(ref IpiState s, int cpu, IpiKernel k)
    {
        IpiKernel.RaiseIpi(ref s);
        k.Return(ref s, cpu, 0);
        return true; // wrong: the CPU has returned
    }
}

/// <summary>A variant that keeps a flag in a shared variable it never declared.</summary>
public sealed class UndeclaredShared : RingDesign
{
    public UndeclaredShared() : base("my-undeclared-shared") { }

    public override string Summary => "example: the claim writes shared variable 0 without declaring it in SharedNames";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [.. base.Program.Select(p => p.Line == Claim ? (Claim, (SendStep)ClaimAndMark) : p)];

    private bool ClaimAndMark(ref IpiState s, int cpu, IpiKernel k)
    {
        k.Shared(ref s, 0) = 1;
        return ClaimStep(ref s, cpu, k);
    }
}

/// <summary>The same flag written into the design bytes directly, round the accessor: the contract still sees it.</summary>
public sealed class UndeclaredRawWrite : RingDesign
{
    public UndeclaredRawWrite() : base("my-undeclared-raw-write") { }

    public override string Summary => "example: the claim writes IpiState.Vars[0] directly, declaring nothing";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [.. base.Program.Select(p => p.Line == Claim ? (Claim, (SendStep)ClaimAndMark) : p)];

    private bool ClaimAndMark(ref IpiState s, int cpu, IpiKernel k)
    {
        s.Vars[0] = 1;
        return ClaimStep(ref s, cpu, k);
    }
}

/// <summary>
/// The reference's drain, except that a message no linked handler would take is discarded in the slot
/// with k.Drop() instead of copied with k.TakeCopy() and dispatched to nobody: it does what the reference
/// does, so it gets the reference's verdict. With <see cref="Always"/> it drops every message, owed or not.
/// </summary>
public class DropsUnhandled : RingDesign
{
    public DropsUnhandled() : this("my-drops-unhandled") { }
    protected DropsUnhandled(string name) : base(name) { }

    public override string Summary => "example: the drain frees a message no handler would take with k.Drop()";
    protected virtual bool Always => false;

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        int slot = s.Tail & (k.Bounds.Ring - 1);
        if (s.Targets == 0 && s.Slots[slot].State == Model.Ipi.IpiConstants.SlotReady && (Always || !Wanted(s, k, s.Slots[slot].Type)))
        {
            k.Drop(ref s, slot);
            s.Slots[slot].State = Model.Ipi.IpiConstants.SlotFree;
            s.Tail++;
            s.RingWork = 2;
            return;
        }
        base.RunWork(ref s, work, k);
    }

    private static bool Wanted(in IpiState s, IpiKernel k, ulong type)
    {
        for (int h = 0; h < k.Bounds.Handlers; h++)
            if ((s.Handlers[h].Flags & MkIpiHandler.Linked) != 0 && IpiBounds.HandlerType(h) == type) return true;
        return false;
    }
}

/// <summary><see cref="DropsUnhandled"/> that drops every message, owed to a handler or not: a silent drop.</summary>
public sealed class DropsEverything : DropsUnhandled
{
    public DropsEverything() : base("my-drops-everything") { }
    public override string Summary => "example: the drain frees every message with k.Drop()";
    protected override bool Always => true;
}

/// <summary>The reference without the full check, its fill written by hand without k.Complete(): no-overwrite must still be judged.</summary>
public sealed class FillWithoutComplete : RingDesign
{
    public FillWithoutComplete() : base("my-fill-without-complete", Defect.NoFullCheck) { }

    public override string Summary => "example: no full check, and a fill that never calls k.Complete()";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [.. base.Program.Select(p => p.Line == Fill ? (Fill, (SendStep)FillOnly) : p)];

    private bool FillOnly(ref IpiState s, int cpu, IpiKernel k)
    {
        int slot = SlotIndex(k.Bounds, s.Senders[cpu].Slot);
        k.WriteHeader(ref s, cpu, slot);
        k.CopyPayload(ref s, cpu, slot);
        return true;
    }
}

/// <summary>
/// A variant that declares itself the encoded ring ([ProofEncoded]) but publishes before it fills: the
/// ring proofs hold of its index arithmetic, and say nothing of its order, so it is not "proved".
/// </summary>
[Multikernel.Model.Checking.ProofEncoded]
public sealed class ClaimsEncoded : RingDesign
{
    public ClaimsEncoded() : base("my-claims-encoded") { }

    public override string Summary => "example: declares [ProofEncoded], but its send path publishes before it fills";

    protected override IReadOnlyList<(string Line, SendStep Run)> Program
    {
        get
        {
            var p = base.Program.ToArray();
            int fill = Array.FindIndex(p, x => x.Line == Fill), publish = Array.FindIndex(p, x => x.Line == Publish);
            (p[fill], p[publish]) = (p[publish], p[fill]);
            return p;
        }
    }
}

/// <summary>A variant whose drain wipes the recorded violations: the step contract refuses it.</summary>
public sealed class ForgetsViolations : RingDesign
{
    public ForgetsViolations() : base("my-forgets-violations", Defect.NoFullCheck) { }

    public override string Summary => "example: no full check, and the drain clears IpiState.Broken";

    public override void RunWork(ref IpiState s, int work, IpiKernel k)
    {
        base.RunWork(ref s, work, k);
        s.Broken = 0; // hides no-overwrite from every property
    }
}
