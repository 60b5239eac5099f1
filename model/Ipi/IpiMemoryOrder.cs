using Multikernel.Model.Memory;

namespace Multikernel.Model.Ipi;

/// <summary>The memory model an IPI exploration assumes (bound memory-model; sc unless asked).</summary>
public enum IpiMemoryModel : byte
{
    /// <summary>Sequential consistency: every step is atomic and seen by every CPU at once (IpiSpec itself).</summary>
    Sc,
    /// <summary>x86-64: a FIFO store buffer per CPU, forwarding to its own loads, drained by fences and atomic RMWs.</summary>
    Tso,
    /// <summary>An operational approximation of the Linux kernel memory model for the ring's shapes (IpiWeakSpec).</summary>
    Lkmm,
}

/// <summary>
/// How one step of a design orders its accesses to the mailbox's shared memory (the slots, the ring's head
/// and tail), in the kernel's words: <see cref="Ordering.Plain"/> (C accesses, memcpy), <see cref="Ordering.Once"/>
/// (READ_ONCE / WRITE_ONCE), <see cref="Ordering.Acquire"/> (smp_load_acquire), <see cref="Ordering.Release"/>
/// (smp_store_release), <see cref="Ordering.Full"/> (smp_mb(), or a fully ordered RMW: cmpxchg, xchg), with
/// smp_wmb() before the step's stores and smp_rmb() after its first load. Only the weak-memory models read it;
/// under sc every step is atomic. A step that raises the IPI is fenced by the architecture whatever it declares
/// (IpiWeakSpec: x2apic_send_IPI()'s weak_wrmsr_fence() before the ICR write, the GIC driver's barrier in gic_ipi_send_mask() before the SGI write).
/// </summary>
/// <param name="Loads">The step's loads: Acquire (or Full) makes them read memory as it is; Plain / Once may read a slot's older contents.</param>
/// <param name="Stores">The step's stores to slots: Release orders them after the CPU's earlier stores; Full is an atomic RMW (its stores visible at once, the CPU's earlier stores first).</param>
/// <param name="IndexStore">The step's store to the ring's head or tail, if any.</param>
/// <param name="Wmb">smp_wmb() before the step's stores.</param>
/// <param name="Rmb">smp_rmb() after the step's first load.</param>
public readonly record struct StepOrder(Ordering Loads = Ordering.Plain, Ordering Stores = Ordering.Plain, Ordering IndexStore = Ordering.Plain, bool Wmb = false, bool Rmb = false)
{
    /// <summary>Plain C loads and stores, no barrier: what the seeds' steps do.</summary>
    public static StepOrder Plain => default;

    /// <summary>Whether the CPU's earlier stores become visible before this step (smp_mb(), a fully ordered RMW).</summary>
    public bool FenceBefore => Loads == Ordering.Full || Stores == Ordering.Full || IndexStore == Ordering.Full;
    /// <summary>Whether the step's loads read memory as it is (acquire, smp_rmb() after the first load, a fence).</summary>
    public bool FreshLoads => Loads is Ordering.Acquire or Ordering.Full || Rmb || FenceBefore;
    /// <summary>Whether the step's stores go to memory at once (an atomic RMW: its store is never buffered).</summary>
    public bool Atomic => Stores == Ordering.Full || IndexStore == Ordering.Full;
}
