using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Multikernel.Impl.Kernel;

namespace Multikernel.Impl.Ipi;

/// <summary>
/// The multikernel IPI mechanism of the reference design, as one would port it:
/// per-instance shared regions holding a ring of mk_ipi_data slots, a lock-free
/// multi-producer send path (claim with cmpxchg, fill, publish with a release store),
/// and a single consumer per instance, its CPU, that drains the ring into a private
/// copy and calls the handlers registered for the message's 64-bit type.
/// Return values are 0 or a negative errno, as in the kernel.
/// </summary>
public sealed class MkIpi : IDisposable
{
    public const int MaxDataSize = IpiConstants.MkMaxDataSize;
    public const int MaxInstances = IpiConstants.MkMaxInstances;
    public const ulong PfnIpiType = IpiConstants.MkPfnIpiType;

    private const uint SlotFree = IpiConstants.SlotFree, SlotReady = IpiConstants.SlotReady;
    /// <summary>The receiver publishes its tail every TailBatch + 1 slots within a pass, and at its end.</summary>
    private const uint TailBatch = 7;

    private readonly MkIpiArea?[] _areas = new MkIpiArea?[MaxInstances]; // mk_instance_ipi_map[]
    // Freed regions are reused by the next instance, as the kernel reuses freed memory: what
    // the read side and synchronize_rcu() protect is exactly this reuse.
    private readonly System.Collections.Concurrent.ConcurrentBag<byte[]> _freeRegions = [];
    private readonly int _ringSize;
    private readonly bool _cpuThreads;
    private readonly MkIpiDefects _defects;

    // The handler list: an array replaced whole under the mutex and read without locks
    // (list_add_tail_rcu / list_del_rcu). Registration order is dispatch order.
    private readonly Lock _handlersMutex = new();
    private Handler[] _handlers = [];
    private int _nextHandle;

    private sealed class Handler(int handle, MkIpiCallback callback, object? ctx, ulong type)
    {
        public readonly int Handle = handle;
        public readonly MkIpiCallback Callback = callback;
        public readonly object? Ctx = ctx;
        public readonly ulong Type = type;
    }

    [ThreadStatic] private static int t_cpu;

    /// <summary>smp_processor_id() of the calling thread, written into sender_cpu (0 until the thread is bound).</summary>
    public static int SmpProcessorId => t_cpu;

    /// <summary>Pins the calling thread to CPU <paramref name="cpu"/> (as sched_setaffinity would): its sends carry that sender_cpu.</summary>
    public static void BindThreadToCpu(int cpu) => t_cpu = cpu;

    /// <param name="ringSize">Slots per instance ring: a power of two, at most MK_IPI_RING (64).</param>
    /// <param name="cpuThreads">Give each instance a CPU thread that takes its interrupts; otherwise
    /// the caller delivers them with <see cref="HandleInterrupt"/> (deterministic, for tests).</param>
    /// <param name="defects">Deliberate defects, for the honesty checks; <see cref="MkIpiDefects.None"/> in production.</param>
    public MkIpi(int ringSize = IpiConstants.MkIpiRingMax, bool cpuThreads = false, MkIpiDefects defects = MkIpiDefects.None)
    {
        if (ringSize < 1 || ringSize > IpiConstants.MkIpiRingMax || (ringSize & (ringSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringSize), ringSize, $"a power of two in 1..{IpiConstants.MkIpiRingMax}");
        _ringSize = ringSize;
        _cpuThreads = cpuThreads;
        _defects = defects;
    }

    public int RingSize => _ringSize;

    private bool Has(MkIpiDefects f) => (_defects & f) != 0;

    // ---- instances ---------------------------------------------------------------

    /// <summary>mk_instance_ipi_create(): a zeroed region for the instance; -EEXIST if it has one.</summary>
    public int CreateInstance(int instanceId)
    {
        if ((uint)instanceId >= MaxInstances) return -Errno.EINVAL;
        MkIpiSched.At(MkIpiStep.Create);
        if (Volatile.Read(ref _areas[instanceId]) != null) return -Errno.EEXIST;
        _freeRegions.TryTake(out var region);
        var area = new MkIpiArea(instanceId, _ringSize, region);
        if (Interlocked.CompareExchange(ref _areas[instanceId], area, null) != null)
        {
            if (region != null) _freeRegions.Add(region);
            return -Errno.EEXIST;
        }
        if (_cpuThreads)
        {
            area.Cpu = new MkCpu(area, a => Drain(a));
            area.Cpu.Start();
        }
        return 0;
    }

    /// <summary>
    /// mk_instance_ipi_destroy(): unpublish the area, wait for senders that may still hold
    /// it (synchronize_rcu), stop its CPU, then free it. Messages not yet drained are discarded.
    /// </summary>
    public int DestroyInstance(int instanceId)
    {
        if ((uint)instanceId >= MaxInstances) return -Errno.EINVAL;
        MkIpiSched.At(MkIpiStep.Unpublish);
        var area = Interlocked.Exchange(ref _areas[instanceId], null);
        if (area == null) return -Errno.ENODEV;
        // synchronize_rcu(): a process-wide barrier orders the senders' plain announcements,
        // then wait for those inside. Later senders see the area gone.
        Interlocked.MemoryBarrierProcessWide();
        var spin = new SpinWait();
        MkIpiSched.At(MkIpiStep.SynchronizeRcu);
        while (!Has(MkIpiDefects.NoRcuWait) && area.AnySender()) { spin.SpinOnce(); MkIpiSched.At(MkIpiStep.SynchronizeRcu); }
        area.Cpu?.Dispose();
        spin.Reset();
        MkIpiSched.At(MkIpiStep.WaitDrain);
        while (Interlocked.CompareExchange(ref area.Recv.DrainOwner, MkIpiArea.Dead, 0) != 0) { spin.SpinOnce(); MkIpiSched.At(MkIpiStep.WaitDrain); }
        MkIpiSched.At(MkIpiStep.Free);
        Array.Clear(area.Region);
        _freeRegions.Add(area.Region); // multikernel_free_ipi_buffer()
        return 0;
    }

    /// <summary>The instance's shared region, as the other kernel maps it; empty when there is no instance.</summary>
    public Span<byte> SharedMemory(int instanceId) => Lookup(instanceId) is { } a ? a.Region : [];

    /// <summary>mk_instance_ipi_get(): the area of a valid instance id, or null.</summary>
    private MkIpiArea? Lookup(int instanceId) =>
        (uint)instanceId < MaxInstances ? Volatile.Read(ref _areas[instanceId]) : null;

    /// <summary>The receiver's counters; all zero when there is no instance.</summary>
    public MkIpiStats Stats(int instanceId) =>
        Lookup(instanceId) is { } a
            ? new MkIpiStats(Volatile.Read(ref a.Recv.Delivered), Volatile.Read(ref a.Recv.Dropped), Volatile.Read(ref a.Recv.Resets))
            : default;

    /// <summary>
    /// The instance's CPU thread sleeps with no IPI pending (false without a CPU thread): once no sender
    /// runs, nothing more is drained. A stress run waits for this, not for a clock, before counting losses.
    /// </summary>
    public bool CpuAsleep(int instanceId) => Lookup(instanceId)?.Cpu?.Asleep ?? false;

    /// <summary>An exception a callback threw on the instance's CPU thread, if any.</summary>
    public Exception? CpuFault(int instanceId) =>
        Lookup(instanceId)?.Cpu?.Fault;

    // ---- handlers ----------------------------------------------------------------

    /// <summary>multikernel_register_handler(): a handle (> 0), or -EINVAL without a callback.</summary>
    public int RegisterHandler(MkIpiCallback callback, object? ctx, ulong ipiType)
    {
        if (callback == null) return -Errno.EINVAL;
        MkIpiSched.At(MkIpiStep.Register);
        lock (_handlersMutex)
        {
            var h = new Handler(++_nextHandle, callback, ctx, ipiType);
            var next = new Handler[_handlers.Length + 1];
            _handlers.CopyTo(next, 0);
            next[^1] = h;
            Volatile.Write(ref _handlers, next);
            return h.Handle;
        }
    }

    /// <summary>
    /// multikernel_unregister_handler(): unlink, then wait for every drain that may have
    /// seen the handler (irq_work_sync). After it returns the callback never runs again.
    /// -EINVAL for an unknown handle; -EDEADLK when called from a callback on a CPU whose
    /// drain it would have to wait for.
    /// </summary>
    public int UnregisterHandler(int handle)
    {
        MkIpiSched.At(MkIpiStep.Unlink, (uint)handle);
        lock (_handlersMutex)
        {
            int at = Array.FindIndex(_handlers, h => h.Handle == handle);
            if (at < 0) return -Errno.EINVAL;
            if (!Has(MkIpiDefects.UnregisterNoWait) && DrainingOnThisThread()) return -Errno.EDEADLK;
            var next = new Handler[_handlers.Length - 1];
            Array.Copy(_handlers, 0, next, 0, at);
            Array.Copy(_handlers, at + 1, next, at, next.Length - at);
            Volatile.Write(ref _handlers, next);
        }
        // membarrier(): every CPU passes a full barrier, so a drain pass either shows up in
        // DrainGen below or reads the new list. The drain's fast path then needs no fence.
        MkIpiSched.At(MkIpiStep.Membarrier);
        Interlocked.MemoryBarrierProcessWide();
        if (!Has(MkIpiDefects.UnregisterNoWait)) IrqWorkSync();
        return 0;
    }

    private bool DrainingOnThisThread()
    {
        int me = Environment.CurrentManagedThreadId;
        foreach (var a in _areas) if (a != null && Volatile.Read(ref a.Recv.DrainOwner) == me) return true;
        return false;
    }

    /// <summary>Wait until every drain pass that was running has finished (the new list is seen by later ones).</summary>
    private void IrqWorkSync()
    {
        foreach (var a in _areas)
        {
            if (a == null) continue;
            MkIpiSched.At(MkIpiStep.IrqWorkSync);
            int gen = Volatile.Read(ref a.Recv.DrainGen);
            if ((gen & 1) == 0) continue;
            var spin = new SpinWait();
            while (Volatile.Read(ref a.Recv.DrainGen) == gen) { spin.SpinOnce(); MkIpiSched.At(MkIpiStep.IrqWorkSync); }
        }
    }

    // ---- send --------------------------------------------------------------------

    /// <summary>
    /// multikernel_send_ipi_data(): 0 once the message is published and the IPI raised;
    /// -EINVAL for a bad instance id or more than MK_MAX_DATA_SIZE bytes, -ENODEV when
    /// the instance has no IPI area, -ENOSPC when its ring is full.
    /// </summary>
    public int SendIpiData(int instanceId, ReadOnlySpan<byte> data, ulong type)
    {
        if ((uint)instanceId >= MaxInstances) return -Errno.EINVAL;
        if (data.Length > MaxDataSize) return -Errno.EINVAL;
        MkIpiSched.At(MkIpiStep.Lookup);
        var area = Volatile.Read(ref _areas[instanceId]);
        if (area == null) return -Errno.ENODEV;

        // rcu_read_lock(): announce ourselves, then re-check that the area is still published,
        // so that destroy either sees us or we see it gone (its membarrier orders our plain store).
        int slot = MkIpiArea.MySlot();
        MkIpiSched.At(MkIpiStep.ReadLock);
        area.ReadLock(slot);
        MkIpiSched.At(MkIpiStep.Recheck);
        int rc = Volatile.Read(ref _areas[instanceId]) == area ? Publish(area, data, type) : -Errno.ENODEV;
        // Raise the IPI unless it is already pending (or the CPU is polling): a CPU clears the bit
        // and runs a process-wide barrier before it sleeps, so if we still read it set, that CPU
        // looks at the ring after our publish. Raised on -ENOSPC too: a full (or damaged) ring needs its CPU.
        if (rc is 0 or -Errno.ENOSPC) RaiseIpi(area);
        MkIpiSched.At(MkIpiStep.ReadUnlock);
        area.ReadUnlock(slot); // rcu_read_unlock()
        return rc;
    }

    private int Publish(MkIpiArea area, ReadOnlySpan<byte> data, ulong type)
    {
        ref uint head = ref area.Head;
        MkIpiSched.At(MkIpiStep.ReadHead);
        uint pos = Volatile.Read(ref head);
        while (true)
        {
            if (!Has(MkIpiDefects.NoFullCheck) && pos - Volatile.Read(ref area.Send.CachedTail) >= area.RingSize)
            {
                // The cached tail is never ahead of the real one, so "full" may be stale: look again.
                MkIpiSched.At(MkIpiStep.FullCheck, pos);
                uint consumed = Volatile.Read(ref area.Tail); // smp_load_acquire: the slot's last reader is done
                Volatile.Write(ref area.Send.CachedTail, consumed);
                if (pos - consumed >= area.RingSize) return -Errno.ENOSPC;
            }
            MkIpiSched.At(MkIpiStep.Claim, pos);
            uint seen = Interlocked.CompareExchange(ref head, pos + 1, pos); // cmpxchg(&ring->head, pos, pos + 1)
            if (seen == pos) break;
            pos = seen; // another sender claimed it: try the next position
        }

        int slot = MkIpiLayout.SlotOffset(Has(MkIpiDefects.NoIndexMask) ? pos : pos & area.Mask);
        ref uint state = ref area.Word(slot + MkIpiLayout.SlotState);
        if (Has(MkIpiDefects.PublishBeforeCopy)) { MkIpiSched.At(MkIpiStep.Publish, pos); Volatile.Write(ref state, SlotReady); }
        MkIpiSched.At(MkIpiStep.Fill, pos);
        var bytes = area.Region.AsSpan(slot, MkIpiLayout.SlotSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[MkIpiLayout.SlotSeq..], pos);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[MkIpiLayout.SlotSenderCpu..], SmpProcessorId);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[MkIpiLayout.SlotDataSize..], (uint)data.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[MkIpiLayout.SlotType..], type);
        data.CopyTo(bytes[MkIpiLayout.SlotBuffer..]);
        MkIpiSched.At(MkIpiStep.Publish, pos);
        Volatile.Write(ref state, SlotReady); // smp_store_release(&slot->state, READY): header and payload first
        return 0;
    }

    /// <summary>__apic_send_IPI(cpu, MULTIKERNEL_VECTOR): IPIs raised before the CPU takes one coalesce.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RaiseIpi(MkIpiArea area)
    {
        MkIpiSched.At(MkIpiStep.RaiseIpi);
        if (Volatile.Read(ref area.Irq.IpiPending) == 0 && Interlocked.Exchange(ref area.Irq.IpiPending, 1) == 0) area.Cpu?.Kick();
    }

    /// <summary>mk_send_pfn(): the PFN as 8 bytes of type MK_PFN_IPI_TYPE.</summary>
    public int SendPfn(int instanceId, ulong pfn)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, pfn);
        return SendIpiData(instanceId, bytes, PfnIpiType);
    }

    /// <summary>mk_receive_pfn(): the PFN a message carries; -EINVAL unless it is exactly one of mk_send_pfn's.</summary>
    public static int ReceivePfn(in MkIpiMessage data, out ulong pfn)
    {
        pfn = 0;
        if (data.Type != PfnIpiType || data.Data.Length != sizeof(ulong)) return -Errno.EINVAL;
        pfn = BinaryPrimitives.ReadUInt64LittleEndian(data.Data);
        return 0;
    }

    // ---- receive -----------------------------------------------------------------

    /// <summary>
    /// The MULTIKERNEL_VECTOR entry on the instance's CPU, for callers that deliver
    /// interrupts themselves: takes the pending IPI and drains the ring, calling handlers.
    /// Returns the messages this call dispatched, or -ENODEV when there is no instance.
    /// </summary>
    public int HandleInterrupt(int instanceId)
    {
        if ((uint)instanceId >= MaxInstances) return -Errno.EINVAL;
        var area = Volatile.Read(ref _areas[instanceId]);
        if (area == null) return -Errno.ENODEV;
        MkIpiSched.At(MkIpiStep.Interrupt);
        Interlocked.Exchange(ref area.Irq.IpiPending, 0);
        return Drain(area);
    }

    /// <summary>irq_work_queue + the work itself: one CPU drains at a time; a drain requested meanwhile is served by it.</summary>
    private int Drain(MkIpiArea area)
    {
        Volatile.Write(ref area.Recv.WorkPending, 1);
        int me = Environment.CurrentManagedThreadId, taken = 0;
        while (true)
        {
            MkIpiSched.At(MkIpiStep.DrainOwner);
            int owner = Interlocked.CompareExchange(ref area.Recv.DrainOwner, me, 0);
            if (owner == MkIpiArea.Dead) return -Errno.ENODEV;
            if (owner != 0) return taken; // the running drain sees WorkPending
            try
            {
                while (Interlocked.Exchange(ref area.Recv.WorkPending, 0) != 0) taken += DrainRing(area);
            }
            finally { Volatile.Write(ref area.Recv.DrainOwner, 0); }
            if (Volatile.Read(ref area.Recv.WorkPending) == 0) return taken;
        }
    }

    /// <summary>mk_ring_drain(): take each published slot in order, validate it, free it, dispatch the copy.</summary>
    private int DrainRing(MkIpiArea area)
    {
        // Odd while a pass runs. Only the owner writes it; UnregisterHandler's process-wide
        // barrier orders this store before the pass's reads of the handler list.
        Volatile.Write(ref area.Recv.DrainGen, area.Recv.DrainGen + 1);
        int dispatched = 0;
        try
        {
            uint tail = area.Recv.ConsumerTail;
            while (true)
            {
                int slot = MkIpiLayout.SlotOffset(Has(MkIpiDefects.NoIndexMask) ? tail : tail & area.Mask);
                ref uint state = ref area.Word(slot + MkIpiLayout.SlotState);
                MkIpiSched.At(MkIpiStep.DrainSlot, tail);
                if (Volatile.Read(ref state) != SlotReady) // smp_load_acquire
                {
                    if (!Has(MkIpiDefects.NoRingRepair)) RepairIfDamaged(area, tail, ref state, Has(MkIpiDefects.RepairKeepsSlots));
                    break;
                }
                var bytes = area.Region.AsSpan(slot, MkIpiLayout.SlotSize);
                uint seq = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MkIpiLayout.SlotSeq..]);
                int sender = BinaryPrimitives.ReadInt32LittleEndian(bytes[MkIpiLayout.SlotSenderCpu..]);
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MkIpiLayout.SlotDataSize..]);
                ulong type = BinaryPrimitives.ReadUInt64LittleEndian(bytes[MkIpiLayout.SlotType..]);
                bool valid = seq == tail && size <= MaxDataSize;
                if (valid) bytes.Slice(MkIpiLayout.SlotBuffer, (int)size).CopyTo(area.Copy);

                MkIpiSched.At(MkIpiStep.FreeSlot, tail);
                Volatile.Write(ref state, SlotFree);
                area.Recv.ConsumerTail = ++tail;
                // smp_store_release(&ring->tail): the slots before it may be claimed again. Published
                // every few slots and when the pass ends, to move the line senders read less often.
                if ((tail & TailBatch) == 0) Volatile.Write(ref area.Tail, tail);
                if (!valid) { Volatile.Write(ref area.Recv.Dropped, area.Recv.Dropped + 1); continue; }

                Volatile.Write(ref area.Recv.Delivered, area.Recv.Delivered + 1);
                dispatched++;
                var message = new MkIpiMessage(sender, type, area.Copy.AsSpan(0, (int)size));
                MkIpiSched.At(MkIpiStep.Dispatch, tail - 1);
                var handlers = Volatile.Read(ref _handlers); // the list as it is now, per message
                foreach (var h in handlers)
                    if (h.Type == type)
                    {
                        MkIpiSched.At(MkIpiStep.Callback, (uint)h.Handle);
                        h.Callback(message, h.Ctx);
                    }
            }
        }
        finally
        {
            MkIpiSched.At(MkIpiStep.DrainEnd, area.Recv.ConsumerTail);
            Volatile.Write(ref area.Tail, area.Recv.ConsumerTail); // also repairs a tail the peer wrote
            Volatile.Write(ref area.Recv.DrainGen, area.Recv.DrainGen + 1);
        }
        return dispatched;
    }

    /// <summary>
    /// The slot at tail is not published. Either a sender is still filling it, or the other
    /// kernel wrote the region: head is further than any claim can reach, or positions are
    /// claimed that no sender is filling. In the second case the claimed positions are lost:
    /// count them as dropped and move head back to tail. Only done when no sender is inside
    /// SendIpiData, so a real claim is never undone; and only when a pass stops at the same
    /// tail twice, so the common case (a sender mid-fill) costs one comparison.
    /// </summary>
    private static void RepairIfDamaged(MkIpiArea area, uint tail, ref uint state, bool keepSlots)
    {
        ref var r = ref area.Recv;
        if (r.StallTail != tail || r.Stalls == 0)
        {
            // First stop at this tail: most likely the ring is empty or a sender is between claim
            // and publish. Not even head is read, so the senders keep their line.
            r.StallTail = tail;
            r.Stalls = 1;
            return;
        }
        uint head = Volatile.Read(ref area.Head);
        uint used = head - tail;
        if (used == 0) return;
        Interlocked.MemoryBarrierProcessWide(); // orders the senders' plain announcements (rare: a second stall)
        if (area.AnySender()) return; // a sender is filling it; it raises an IPI when done
        if (used <= area.RingSize && Volatile.Read(ref state) == SlotReady) return; // published meanwhile
        // Free the lost positions' slots before head moves back: a slot one of them published would
        // still read READY when its position is claimed again, and the drain would take it before the
        // new sender's copy (a stale or torn message, and the new one lost). A sender that claims
        // meanwhile gets a position past them (used < ring) or -ENOSPC, and fails the cmpxchg below.
        uint lost = Math.Min(used, area.RingSize);
        MkIpiSched.At(MkIpiStep.RepairSlots, tail);
        for (uint p = tail; !keepSlots && p != tail + lost; p++)
            Volatile.Write(ref area.Word(MkIpiLayout.SlotOffset(p & area.Mask) + MkIpiLayout.SlotState), SlotFree);
        MkIpiSched.At(MkIpiStep.RepairHead, tail);
        if (Interlocked.CompareExchange(ref area.Head, tail, head) != head) return; // a new claim: not quiescent
        r.Stalls = 0;
        Volatile.Write(ref r.Dropped, r.Dropped + lost);
        Volatile.Write(ref r.Resets, r.Resets + 1);
    }

    public void Dispose()
    {
        for (int i = 0; i < MaxInstances; i++)
            if (Volatile.Read(ref _areas[i]) != null) DestroyInstance(i);
    }
}
