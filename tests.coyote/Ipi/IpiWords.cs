using Multikernel.Impl.Ipi;

namespace Multikernel.Coyote.Ipi;

/// <summary>Each scheduling point as the specification's reference design writes the step (model/Ipi/Designs/RingDesign.cs).</summary>
public static class IpiWords
{
    public static string Line(MkIpiStep step, uint arg) => step switch
    {
        MkIpiStep.Create => "mk_instance_ipi_create()",
        MkIpiStep.Lookup => "ipi = rcu_dereference(mk_instance_ipi_map[instance_id])",
        MkIpiStep.ReadLock => "rcu_read_lock()",
        MkIpiStep.Recheck => "if (rcu_dereference(mk_instance_ipi_map[instance_id]) != ipi) return -ENODEV",
        MkIpiStep.FullCheck => $"head {arg}: if (head - smp_load_acquire(&ring->tail) >= MK_IPI_RING) return -ENOSPC",
        MkIpiStep.ReadHead => "head = READ_ONCE(ring->head)",
        MkIpiStep.Claim => $"cmpxchg(&ring->head, {arg}, {arg + 1})",
        MkIpiStep.Fill => $"slot = &ring->slots[{arg} & (MK_IPI_RING - 1)]; slot->seq, sender_cpu, type, data_size = …; memcpy(slot->buffer, …)",
        MkIpiStep.Publish => $"smp_store_release(&ring->slots[{arg} & (MK_IPI_RING - 1)].state, MK_SLOT_READY)",
        MkIpiStep.RaiseIpi => "__apic_send_IPI(cpu, MULTIKERNEL_VECTOR) unless pending",
        MkIpiStep.ReadUnlock => "rcu_read_unlock(); return",
        MkIpiStep.Interrupt => "multikernel_interrupt_handler(): clear the pending bit; irq_work_queue(&ring->work)",
        MkIpiStep.DrainOwner => "mk_ring_drain(): take the drain (one CPU at a time)",
        MkIpiStep.DrainSlot => $"t = {arg}: if (smp_load_acquire(&ring->slots[t & (MK_IPI_RING - 1)].state) == MK_SLOT_READY) copy = *slot",
        MkIpiStep.FreeSlot => $"slot->state = MK_SLOT_FREE; smp_store_release(&ring->tail, {arg + 1})",
        MkIpiStep.Dispatch => $"position {arg}: list_for_each_entry_rcu(h, &mk_handlers) if (h->ipi_type == copy.type)",
        MkIpiStep.Callback => $"handler {arg}->callback(&copy, ctx)",
        MkIpiStep.DrainEnd => $"mk_ring_drain() ends at tail {arg}",
        MkIpiStep.RepairSlots => $"the ring was written out of protocol: slots of the lost positions {arg}.. = MK_SLOT_FREE",
        MkIpiStep.RepairHead => $"cmpxchg(&ring->head, head, {arg}): the lost positions are dropped",
        MkIpiStep.Register => "multikernel_register_handler(): list_add_tail_rcu()",
        MkIpiStep.Unlink => $"multikernel_unregister_handler({arg}): mutex_lock(); list_del_rcu(&handler->list); mutex_unlock()",
        MkIpiStep.Membarrier => "membarrier (every CPU passes a full barrier)",
        MkIpiStep.IrqWorkSync => "irq_work_sync(&ring->work)",
        MkIpiStep.Unpublish => "rcu_assign_pointer(mk_instance_ipi_map[id], NULL)",
        MkIpiStep.SynchronizeRcu => "synchronize_rcu()",
        MkIpiStep.WaitDrain => "wait for the drain to stop; mark the ring dead",
        MkIpiStep.Free => "multikernel_free_ipi_buffer(…)",
        _ => step.ToString(),
    };
}
