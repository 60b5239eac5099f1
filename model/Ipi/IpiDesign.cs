using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// A design of the multikernel IPI mechanism: the steps of each concurrent actor,
/// one step per shared-memory access where interleaving matters. To audit a design
/// of your own, derive from this class (or from <see cref="Designs.IrqWorkDesign"/>
/// for a design with per-handler irq_work, or <see cref="Designs.RingDesign"/> for a
/// ring), implement the steps with the <see cref="IpiKernel"/> operations, and pass
/// an instance to <see cref="IpiSpec"/> (or load your assembly with <c>--load</c>).
/// Each step method runs exactly one step of the actor, at its current program
/// counter, and must be deterministic. Slots are reached through
/// <see cref="IpiKernel.Slot"/>, which reports an index outside the ring; a step that
/// throws is reported as a counterexample.
/// </summary>
public abstract class IpiDesign : IDesign
{
    /// <summary>Short stable name: ipi-v1, ipi-v2, reference, …</summary>
    public abstract string Name { get; }
    /// <summary>One line: what the design is and where it comes from.</summary>
    public abstract string Summary { get; }
    /// <summary>
    /// The defects this design has as posted, each tied to the property its audit violates (none
    /// unless the design declares them). A trace's "from:" line cites the finding's seed function
    /// and line for its property.
    /// </summary>
    public virtual IReadOnlyList<Finding> Findings => [];

    /// <summary>Slots of the receiving CPU's mailbox in shared memory.</summary>
    public virtual int Slots(IpiBounds b) => 1;
    /// <summary>False for a design that addresses CPUs, not instances (no area lifecycle).</summary>
    public virtual bool HasInstances => true;
    /// <summary>How the 64-bit type argument is stored in the slot (the seeds keep an unsigned int).</summary>
    public virtual ulong StoredType(ulong type) => type;
    /// <summary>
    /// Receiving CPUs the design has among <see cref="IpiBounds.Receivers"/>: 1 unless the design
    /// lets several CPUs of the target receive into state they share (RFC v1: any CPU, one global
    /// handler list). A design with one receiving CPU per target (RFC v2's cpumask_first(), the
    /// reference's per-CPU rings, which share nothing but the handler list) keeps 1.
    /// </summary>
    public virtual int Receivers(IpiBounds b) => 1;
    /// <summary>
    /// Whether handlers are registered for a type. A design without (RFC v1) delivers every
    /// message to every handler: handler-type does not apply to it, and each message is owed to
    /// every registered handler instead of the one of its type, so declaring this cannot hide a
    /// handler that is skipped.
    /// </summary>
    public virtual bool HandlerTypes => true;

    // ---- variables a design owns --------------------------------------------------

    /// <summary>
    /// Names of the shared variables this design keeps, one byte each, reached with <see cref="IpiKernel.Shared"/>;
    /// rendered in traces. With <see cref="LocalNames"/> they size the design's part of the state: shared +
    /// senders × locals bytes, explored in the smallest state they fit (16 bytes in <see cref="IpiState"/> itself,
    /// else 64, 128 or 256), at most <see cref="IpiState.MaxDesignBytes"/>: more is refused with the counts (at load
    /// when no bounds fit, else when it is explored at bounds that do not), never truncated.
    /// </summary>
    public virtual IReadOnlyList<string> SharedNames => [];
    /// <summary>Names of the locals this design keeps on each sender CPU, one byte each, reached with <see cref="IpiKernel.Local"/>; rendered in traces.</summary>
    public virtual IReadOnlyList<string> LocalNames => [];
    /// <summary>
    /// False (the default): the locals are multikernel_send_ipi_data()'s automatic variables, and
    /// <see cref="IpiKernel.Return"/> zeroes them for the CPU's next send. True: they are per-CPU variables
    /// (DEFINE_PER_CPU) that keep their values from one send to the next.
    /// </summary>
    public virtual bool LocalsKeptAcrossSends => false;
    /// <summary>Sets the initial values of the design's own variables (with <see cref="IpiKernel.Shared"/> and <see cref="IpiKernel.Local"/>; the bounds are <c>k.Bounds</c>).</summary>
    public virtual void Init(ref IpiState s, IpiKernel k) { }

    // ---- presentation: what this design has, shown in traces ------------------------

    /// <summary>Adds the receiver's state this design has beyond the slots (a ring's head and tail, its work, a private copy).</summary>
    public virtual void RenderReceiver(in IpiState s, IpiKernel k, List<TraceVar> into) { }
    /// <summary>Adds the fields a handler has in this design beyond its type and link (an irq_work, saved_data).</summary>
    public virtual void RenderHandler(in MkIpiHandler h, List<(string, TraceValue)> fields) { }
    /// <summary>Adds what a sending CPU holds in this design (the position it claimed).</summary>
    public virtual void RenderSender(in SenderCpu c, List<(string, TraceValue)> fields) { }
    /// <summary>Whether a slot has a state word (FREE / CLAIMED / READY) worth showing.</summary>
    public virtual bool SlotHasState => false;

    // multikernel_send_ipi_data(), on sender CPU `cpu`, for its current message.
    /// <summary>The source line of each step, by program counter.</summary>
    public abstract IReadOnlyList<string> SendSteps { get; }
    public virtual bool SendBlocked(in IpiState s, int cpu, IpiKernel k) => false;
    public abstract void SendIpiData(ref IpiState s, int cpu, IpiKernel k);

    // The receiving CPU: the MULTIKERNEL_VECTOR handler and irq_work items.
    public abstract string InterruptLine { get; }
    public virtual bool InterruptEnabled(in IpiState s, IpiKernel k) => true;
    public abstract void Interrupt(ref IpiState s, IpiKernel k);
    /// <summary>Whether receiving CPU <paramref name="cpu"/> may take its pending interrupt (a design with several receivers overrides the two per-CPU methods).</summary>
    public virtual bool InterruptEnabled(in IpiState s, int cpu, IpiKernel k) => InterruptEnabled(s, k);
    /// <summary>The MULTIKERNEL_VECTOR handler on receiving CPU <paramref name="cpu"/>.</summary>
    public virtual void Interrupt(ref IpiState s, IpiKernel k, int cpu) => Interrupt(ref s, k);
    public abstract int WorkItems(IpiBounds b);
    public abstract bool WorkEnabled(in IpiState s, int work, IpiKernel k);
    public abstract string WorkLine(in IpiState s, int work);
    /// <summary>The receiving CPU work item <paramref name="work"/> runs on (for traces; 0 with one receiver).</summary>
    public virtual int WorkCpu(in IpiState s, int work) => 0;
    public abstract void RunWork(ref IpiState s, int work, IpiKernel k);

    // multikernel_unregister_handler(handler 0), from another CPU.
    public abstract IReadOnlyList<string> UnregisterSteps { get; }
    public abstract bool UnregisterEnabled(in IpiState s, IpiKernel k);
    public abstract void Unregister(ref IpiState s, IpiKernel k);

    // How each step orders its accesses to the mailbox (issue 21): read only under --memory-model tso or lkmm.
    /// <summary>How sender <paramref name="cpu"/>'s next step orders its accesses to the slots, head and tail. Default: plain C accesses, as the seeds write them.</summary>
    public virtual StepOrder SendOrder(in IpiState s, int cpu) => StepOrder.Plain;
    /// <summary>How work item <paramref name="work"/>'s next step orders its accesses. Default: plain C accesses.</summary>
    public virtual StepOrder WorkOrder(in IpiState s, int work) => StepOrder.Plain;
    /// <summary>
    /// Whether receiving CPU <paramref name="cpu"/> may read the mailbox with loads that can return old values (plain,
    /// READ_ONCE) before it next takes its interrupt. Under lkmm a CPU that cannot reads the mailbox next in its
    /// interrupt, or with an acquire, smp_rmb() or a fence, each of which sees memory as it is, so what it has not yet
    /// seen is forgotten (one state instead of many). Default: true, nothing is forgotten; a design whose work is queued
    /// only by its interrupt handler may say more.
    /// </summary>
    public virtual bool MayReadStale(in IpiState s, int cpu) => true;

    // Destroying the target instance, from another CPU.
    public virtual IReadOnlyList<string> DestroySteps => [];
    public virtual bool DestroyEnabled(in IpiState s, IpiKernel k) => false;
    public virtual void Destroy(ref IpiState s, IpiKernel k) { }

    public override string ToString() => Name;
}
