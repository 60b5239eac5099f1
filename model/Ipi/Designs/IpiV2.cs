namespace Multikernel.Model.Ipi.Designs;

/// <summary>
/// RFC v2 as posted (seed 000, Oct 2025): per-instance shared memory looked up with
/// mk_instance_ipi_get() and used without a reference; memset of the slot, then the
/// header, then the payload; the receiver drops data_size == 0; handlers filter on
/// an unsigned int ipi_type.
/// </summary>
public sealed class IpiV2 : IrqWorkDesign
{
    public override string Name => "ipi-v2";
    public override string Summary => "RFC v2 (seed 000): per-instance area, memset + fill, handlers filtered by unsigned int type";

    public override IReadOnlyList<string> SendSteps =>
    [
        "ipi_data = mk_instance_ipi_get(instance_id)",
        "memset(target, 0, sizeof(*target))",
        "target->data_size = data_size; target->sender_cpu = …; target->type = type",
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
                if (!IpiKernel.LookupArea(ref s, cpu)) { k.Return(ref s, cpu, -Kernel.Errno.ENODEV); return; }
                break;
            case 1: k.Memset(ref s, cpu, 0); break;
            case 2: k.WriteHeader(ref s, cpu, 0); break;
            case 3:
                k.CopyPayload(ref s, cpu, 0);
                k.Complete(ref s, cpu, 0);
                break;
            case 4:
                IpiKernel.RaiseIpi(ref s);
                k.Return(ref s, cpu, 0);
                return;
        }
        c.Pc++;
    }

    public override string InterruptLine => "multikernel_interrupt_handler(): if (data_size == 0 || > MK_MAX_DATA_SIZE) return; for matching handlers: saved_data = data; irq_work_queue()";
    protected override bool Valid(in MkIpiData data) => data.DataSize != 0 && data.DataSize <= IpiConstants.MkMaxDataSize;
    protected override bool Matches(int h, in MkIpiData data) => (uint)IpiBounds.HandlerType(h) == data.Type; // unsigned int ipi_type

    public override IReadOnlyList<string> DestroySteps =>
    [
        "mk_instance_ipi_destroy(): spin_lock(); mk_instance_ipi_map[id] = NULL; spin_unlock()",
        "multikernel_free_ipi_buffer(ipi_data->instance_pool, ipi_data->shared_mem, …)",
    ];

    public override bool DestroyEnabled(in IpiState s) => s.DestroyPc < 2;

    public override void Destroy(ref IpiState s, IpiKernel k)
    {
        s.Area = s.DestroyPc == 0 ? IpiState.AreaUnpublished : IpiState.AreaFreed;
        s.DestroyPc++;
    }

    public override string? Cites(IpiInvariant invariant) => invariant switch
    {
        IpiInvariant.NoOverwrite or IpiInvariant.Delivered => "000 multikernel_send_ipi_data(): memset(target, 0, sizeof(*target)); (no check that the slot was consumed)",
        IpiInvariant.NoCoalescedWork => "000 multikernel_interrupt_handler(): handler->saved_data = data; irq_work_queue(&handler->work);",
        IpiInvariant.NoSilentDrop => "000 multikernel_interrupt_handler(): if (data->data_size == 0 || …) return; vs send: if (data_size > MK_MAX_DATA_SIZE) return -EINVAL; … return 0;",
        IpiInvariant.HandlerType => "000 struct mk_ipi_data { … unsigned int type; } and multikernel_send_ipi_data(…, unsigned long type): target->type = type;",
        IpiInvariant.Intact => "000 handler_work(): handler->callback(handler->saved_data, …) reads shared memory that the next send memsets",
        IpiInvariant.NoUseAfterFree => "000 multikernel_send_ipi_data(): ipi_data = mk_instance_ipi_get(instance_id); (no reference held) vs mk_instance_ipi_destroy(): multikernel_free_ipi_buffer()",
        _ => null,
    };
}
