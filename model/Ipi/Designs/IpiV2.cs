using Multikernel.Model.Checking;

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
    public override string Summary => "RFC v2 (seed 000): per-instance area, memset + fill, handlers filtered by unsigned int type; one receiving CPU per instance (cpumask_first), so receivers= does not widen it";

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
            // cpu = cpumask_first(instance->cpus): every send to an instance targets one CPU's slot.
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

    public override bool DestroyEnabled(in IpiState s, IpiKernel k) => s.DestroyPc < 2;

    public override void Destroy(ref IpiState s, IpiKernel k)
    {
        s.Area = s.DestroyPc == 0 ? IpiState.AreaUnpublished : IpiState.AreaFreed;
        s.DestroyPc++;
    }

    private const string Send = "000 multikernel_send_ipi_data()";
    private const string Overwrite = "memset(target, 0, sizeof(*target)); target->data_size = data_size; … memcpy(target->buffer, data, data_size); (nothing checks that the receiver has read the slot)";

    // Every v2 finding needs an area that patch 13/16 never creates (mk_instance_ipi_create() has no caller).
    public override IReadOnlyList<Finding> Findings { get; } = NeedsArea(
    [
        new(IpiInvariants.Name(IpiInvariant.NoOverwrite), Send, Overwrite, Consequence.LostData,
            "A second send to the same instance memsets and refills cpu_data[cpu] before the receiver's callback has read it; the first send returned 0 and its message is gone."),
        new(IpiInvariants.Name(IpiInvariant.Delivered), Send, Overwrite, Consequence.LostData,
            "A message whose send returned 0 never reaches the handler of its type: its slot was rewritten first (or it had data_size 0, see no-silent-drop)."),
        new(IpiInvariants.Name(IpiInvariant.NoSilentDrop), "000 multikernel_interrupt_handler()",
            "if (data->data_size == 0 || data->data_size > MK_MAX_DATA_SIZE) { pr_debug(…); return; }", Consequence.LostData,
            "multikernel_send_ipi_data() accepts data_size 0 (it copies only if data_size > 0) and returns 0, but the receiver returns before the handler walk for data_size 0: a zero-length message (a doorbell) never runs its handler."),
        new(IpiInvariants.Name(IpiInvariant.HandlerType), "000 multikernel_send_ipi_data()",
            "int multikernel_send_ipi_data(…, unsigned long type) … target->type = type; (struct mk_ipi_data: unsigned int type)", Consequence.LostData,
            "The 64-bit type is truncated to 32 bits in the slot, and the receiver compares handler->ipi_type == data->type: a message of type 2^32 + t runs the handler registered for t.", IpiPreconditions.WideType),
        new(IpiInvariants.Name(IpiInvariant.Intact), "000 handler_work()",
            "handler->callback(handler->saved_data, handler->context); (saved_data points into shared memory)", Consequence.LostData,
            "The callback runs later, in irq_work, on the slot itself; a send to the instance in between memsets and refills it, so the callback reads zeroes, a torn header or a newer message as if it were the one dispatched."),
        new(IpiInvariants.Name(IpiInvariant.NoDuplicate), "000 multikernel_interrupt_handler()",
            "data = &mk_this_kernel_ipi_data->cpu_data[current_physical_id]; … handler->saved_data = data; (the slot is never marked consumed)", Consequence.LostData,
            "Every IPI dispatches whatever the slot holds: when a send overwrites the slot while the previous IPI is still pending, that IPI and the new send's own IPI both dispatch the newer message, and its handler runs twice (the older message is lost)."),
        new(IpiInvariants.Name(IpiInvariant.NoUseAfterFree), Send,
            "ipi_data = mk_instance_ipi_get(instance_id); … target = &ipi_data->shared_mem->cpu_data[cpu]; memset(target, …) (no reference held) vs mk_instance_ipi_destroy(): multikernel_free_ipi_buffer(…); kfree(ipi_data)",
            Consequence.Corruption,
            "The sender keeps ipi_data after dropping mk_ipi_map_lock; a destroy in between memunmaps the buffer, frees it back to the instance pool and kfrees ipi_data. The sender may re-read ipi_data->shared_mem from the freed ipi_data, and its memset and copy land in memory the pool may have handed out again (or fault, where memremap() had created a mapping).", IpiPreconditions.NoDestroyCaller),
        new(IpiInvariants.Name(IpiInvariant.SizeChecked), "000 handler_work()",
            "handler->callback(handler->saved_data, handler->context); (the data_size check, if (data->data_size == 0 || data->data_size > MK_MAX_DATA_SIZE), ran earlier, in the interrupt, on shared memory)", Consequence.SpecOnly,
            "A peer that rewrites data_size between the interrupt's check and the irq_work hands the callback a size beyond buffer[]. The series' own consumer, mk_receive_pfn(), checks data_size == sizeof(unsigned long) again and is safe; a callback that trusts data_size reads past the slot.", IpiPreconditions.HostilePeer),
    ]);

    private static Finding[] NeedsArea(Finding[] findings) =>
        [.. findings.Select(f => f with { Needs = [IpiPreconditions.NoCreateCaller, .. f.Needs] })];
}
