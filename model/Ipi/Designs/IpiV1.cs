using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// RFC v1 as posted (seed 001, Sept 2025): multikernel_send_ipi_data(int cpu, …)
/// writes mk_shared_mem->cpu_data[cpu] with no memset and no check that the slot
/// was consumed; any CPU receives into its own cpu_data[smp_processor_id()]; handlers
/// have no type, so every handler is queued for every IPI on every CPU, through its one
/// irq_work and one saved_data; the receiver does not check data_size.
/// </summary>
public sealed class IpiV1 : IrqWorkDesign
{
    public override string Name => "ipi-v1";
    public override string Summary => "RFC v1 (seed 001): one mk_ipi_data per CPU, every handler gets every IPI (handler-type: not applicable, v1 handlers have no type)";
    public override bool HasInstances => false;
    public override bool HandlerTypes => false;
    /// <summary>v1 addresses CPUs: every CPU of the receiving kernel has its own cpu_data[cpu] slot.</summary>
    public override int Receivers(IpiBounds b) => b.Receivers;
    public override int Slots(IpiBounds b) => Receivers(b);

    public override IReadOnlyList<string> SendSteps =>
    [
        "target = &mk_shared_mem->cpu_data[cpu]; target->data_size = data_size; target->sender_cpu = smp_processor_id(); target->type = type",
        "memcpy(target->buffer, data, data_size)",
        "__apic_send_IPI(cpu, MULTIKERNEL_VECTOR); return 0",
    ];

    public override void SendIpiData(ref IpiState s, int cpu, IpiKernel k)
    {
        ref var c = ref s.Senders[cpu];
        int target = k.Target(s, cpu);
        switch (c.Pc)
        {
            case 0:
                if (k.RejectOversize(ref s, cpu)) return;
                k.WriteHeader(ref s, cpu, target);
                break;
            case 1:
                k.CopyPayload(ref s, cpu, target);
                k.Complete(ref s, cpu, target);
                break;
            case 2:
                IpiKernel.RaiseIpi(ref s, target);
                k.Return(ref s, cpu, 0);
                return;
        }
        c.Pc++;
    }

    public override string InterruptLine => "multikernel_interrupt_handler(): data = &mk_shared_mem->cpu_data[current_cpu]; for each handler: handler->saved_data = data; irq_work_queue(&handler->work)";
    protected override bool Matches(int h, in MkIpiData data) => true;

    private const string Send = "001 multikernel_send_ipi_data()";
    private const string Overwrite = "target = &mk_shared_mem->cpu_data[cpu]; target->data_size = data_size; … memcpy(target->buffer, data, data_size); (nothing checks that the receiver has read the slot)";

    public override IReadOnlyList<Finding> Findings { get; } =
    [
        new(IpiInvariants.Name(IpiInvariant.NoOverwrite), Send, Overwrite, Consequence.LostData,
            "A second send to the same CPU rewrites cpu_data[cpu] before the receiver's callbacks have read it; the first send returned 0 and its message is gone."),
        new(IpiInvariants.Name(IpiInvariant.Delivered), Send, Overwrite, Consequence.LostData,
            "A message whose send returned 0 never reaches a registered handler: its slot was rewritten first (or, with several receiving CPUs, its handler's one irq_work was redirected to another CPU's slot)."),
        new(IpiInvariants.Name(IpiInvariant.NoCoalescedWork), "001 multikernel_interrupt_handler()",
            "handler->saved_data = data; irq_work_queue(&handler->work); (one irq_work and one saved_data per handler, for every CPU)", Consequence.LostData,
            "IPIs on two CPUs before a handler's work has run: the second sets saved_data = &cpu_data[second CPU] and irq_work_queue() returns false (still pending), so the one callback reads the second CPU's slot and the first CPU's message, whole in its own slot, never reaches the handler. The same happens when the second dispatch comes after the run cleared PENDING but before handler_work() loaded saved_data (then both callbacks read the second slot)."),
        new(IpiInvariants.Name(IpiInvariant.Intact), "001 handler_work()",
            "handler->callback(handler->saved_data, handler->context); (saved_data points into shared memory)", Consequence.LostData,
            "The callback runs later, in irq_work, on the slot itself; a send to that CPU in between rewrites header and buffer under it, so it reads a torn or newer message as if it were the one dispatched."),
        new(IpiInvariants.Name(IpiInvariant.NoDuplicate), "001 multikernel_interrupt_handler()",
            "data = &mk_shared_mem->cpu_data[current_cpu]; … handler->saved_data = data; (the slot is never marked consumed)", Consequence.LostData,
            "Every IPI dispatches whatever the slot holds: when a send overwrites a slot whose IPI is still pending, that IPI and the new send's own IPI both dispatch the newer message, and each handler runs twice for it (the older message is lost)."),
        new(IpiInvariants.Name(IpiInvariant.SizeChecked), "001 multikernel_interrupt_handler()",
            "data = &mk_shared_mem->cpu_data[current_cpu]; … handler->saved_data = data; (data_size is never checked)", Consequence.SpecOnly,
            "Whatever data_size a peer writes reaches every callback. The series' own consumer, mk_receive_pfn(), checks data_size == sizeof(unsigned long) and is safe; a callback that trusts data_size reads past the slot.", IpiPreconditions.HostilePeer),
    ];
}
