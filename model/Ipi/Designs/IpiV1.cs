namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// RFC v1 as posted (seed 001, Sept 2025): multikernel_send_ipi_data(int cpu, …)
/// writes mk_shared_mem->cpu_data[cpu] with no memset and no check that the slot
/// was consumed; handlers have no type, so every handler is queued for every IPI;
/// the receiver does not check data_size.
/// </summary>
public sealed class IpiV1 : IrqWorkDesign
{
    public override string Name => "ipi-v1";
    public override string Summary => "RFC v1 (seed 001): one mk_ipi_data per CPU, every handler gets every IPI";
    public override bool HasInstances => false;

    public override IReadOnlyList<string> SendSteps =>
    [
        "target->data_size = data_size; target->sender_cpu = smp_processor_id(); target->type = type",
        "memcpy(target->buffer, data, data_size)",
        "__apic_send_IPI(cpu, MULTIKERNEL_VECTOR); return 0",
    ];

    public override void SendIpiData(ref IpiState s, int cpu, IpiKernel k)
    {
        ref var c = ref s.Senders[cpu];
        switch (c.Pc)
        {
            case 0:
                if (k.RejectOversize(ref s, cpu)) return;
                k.WriteHeader(ref s, cpu, 0);
                break;
            case 1:
                k.CopyPayload(ref s, cpu, 0);
                k.Complete(ref s, cpu, 0);
                break;
            case 2:
                IpiKernel.RaiseIpi(ref s);
                k.Return(ref s, cpu, 0);
                return;
        }
        c.Pc++;
    }

    public override string InterruptLine => "multikernel_interrupt_handler(): for each handler: handler->saved_data = data; irq_work_queue()";
    protected override bool Matches(int h, in MkIpiData data) => true;

    public override string? Cites(IpiInvariant invariant) => invariant switch
    {
        IpiInvariant.NoOverwrite or IpiInvariant.Delivered => "001 multikernel_send_ipi_data(): target = &mk_shared_mem->cpu_data[cpu]; target->data_size = data_size; (no check that the slot was consumed)",
        IpiInvariant.NoCoalescedWork => "001 multikernel_interrupt_handler(): handler->saved_data = data; irq_work_queue(&handler->work);",
        IpiInvariant.HandlerType => "001 multikernel_interrupt_handler(): for (handler = mk_handlers; handler; handler = handler->next) (no type filter)",
        IpiInvariant.Intact => "001 handler_work(): handler->callback(handler->saved_data, handler->context); (a pointer into shared memory)",
        _ => null,
    };
}
