using static Multikernel.Impl.Balloon.BalloonConstants;

namespace Multikernel.Impl.Balloon;

/// <summary>Deliberate defects of the implementation, for the honesty checks (the model's <c>BalloonDesign.Defect</c> at this layer).</summary>
[Flags]
public enum BalloonImplDefects
{
    None = 0,
    /// <summary>The PFN goes through a u32 on its way to the command.</summary>
    TruncatePfn = 1,
    /// <summary>On RESET the driver keeps its pages.</summary>
    KeepOnReset = 2,
    /// <summary>A GET_TARGET answer is stored in a u32 without a check.</summary>
    TruncateTarget = 4,
}

/// <summary>
/// The reference balloon driver as kernel code (mainline drivers/misc/vmw_balloon.c's shape):
/// one work function that resets when the host asked for it (pop every page without telling
/// the host, START, GUEST_ID), reads the target, and inflates or deflates toward it, in batches
/// of up to <see cref="BalloonConstants.BatchMaxPages"/> pages (BATCHED_LOCK / UNLOCK with the
/// batch page) or one page per LOCK / UNLOCK. Refused pages are kept aside (at most
/// <see cref="MaxRefused"/>) and released when the inflation cycle ends. A PFN or a target that
/// does not fit the command is refused, never truncated. No allocation after construction.
/// </summary>
public sealed class VmBalloon
{
    public const int MaxRefused = 16; // VMW_BALLOON_MAX_REFUSED

    private readonly IHypervisorPort _port;
    private readonly GuestMemory _mem;
    private readonly BalloonImplDefects _defects;
    private readonly ulong[] _pages;     // the ballooned PFNs, a stack
    private readonly ulong[] _refused = new ulong[MaxRefused];
    private readonly ulong[] _batch;     // the PFNs of the batch being sent (the batch page holds them too)
    private int _refusedCount;

    public VmBalloon(IHypervisorPort port, GuestMemory mem, bool batching = true, int batchPages = BatchMaxPages, BalloonImplDefects defects = BalloonImplDefects.None)
    {
        _port = port;
        _mem = mem;
        _defects = defects;
        Batching = batching;
        BatchPages = batching ? Math.Clamp(batchPages, 1, BatchMaxPages) : 1;
        _pages = new ulong[mem.Frames];
        _batch = new ulong[BatchPages];
        ResetRequired = true; // the first work item starts the protocol
    }

    public bool Batching { get; }
    public int BatchPages { get; }
    /// <summary>b->size: pages in the balloon.</summary>
    public uint Size { get; private set; }
    /// <summary>b->target: the host's last target that fits 32 bits.</summary>
    public uint Target { get; private set; }
    public bool ResetRequired { get; private set; }
    public uint Capabilities { get; private set; }
    public long CommandsSent { get; private set; }
    public int RefusedPending => _refusedCount;
    /// <summary>Pages the host refused (or that the command could not carry), all told.</summary>
    public long Refusals { get; private set; }

    private bool Has(BalloonImplDefects d) => (_defects & d) != 0;

    /// <summary>The ballooned PFNs, in the order they were locked.</summary>
    public ReadOnlySpan<ulong> Pages => _pages.AsSpan(0, (int)Size);

    private uint Cmd(uint cmd, ulong arg1, ulong arg2, out ulong result)
    {
        CommandsSent++;
        BalloonSched.At(work: false, cmd);
        uint status = _port.Command(cmd, arg1, arg2, out result);
        if (status == ErrorReset) ResetRequired = true;
        return status;
    }

    /// <summary>vmballoon_work(): the reset if required, the target, then one step toward it.</summary>
    public void Work()
    {
        BalloonSched.At(work: true);
        if (ResetRequired) Reset();
        if (ResetRequired) return;
        GetTarget();
        if (ResetRequired) return;
        if (Size < Target) Inflate();
        else if (Size > Target) Deflate();
    }

    /// <summary>vmballoon_reset(): pop every page without telling the host (it has forgotten them), START, then GUEST_ID (its failure only logged, as mainline; a RESET answer makes a reset required again through Cmd()).</summary>
    private void Reset()
    {
        if (!Has(BalloonImplDefects.KeepOnReset))
        {
            for (int i = 0; i < Size; i++) _mem.Free(_pages[i]);
            Size = 0;
        }
        ReleaseRefused();
        ResetRequired = false;
        uint status = Cmd(CmdStart, CapBasicCmds | CapBatchedCmds, 0, out ulong caps);
        if (status == SuccessWithCapabilities) Capabilities = (uint)caps;
        else if (status == Success) Capabilities = CapBasicCmds;
        else { ResetRequired = true; return; }
        Cmd(CmdGuestId, GuestIdLinux, 0, out _);
    }

    /// <summary>vmballoon_send_get_target(): a target that does not fit 32 bits is refused; the last one stays.</summary>
    private void GetTarget()
    {
        if (Cmd(CmdGetTarget, (ulong)_mem.Frames, 0, out ulong target) != Success) return;
        if (Fits32(target) || Has(BalloonImplDefects.TruncateTarget)) Target = (uint)target;
    }

    private bool CanBatch => Batching && (Capabilities & CapBatchedCmds) != 0;

    /// <summary>The PFN as the command carries it: whole (52 bits in a batch entry), or refused when it does not fit LOCK's 32 bits.</summary>
    private bool Sendable(ulong pfn) => CanBatch ? pfn <= BatchMaxPfn : Fits32(pfn) || Has(BalloonImplDefects.TruncatePfn);

    private ulong Wire(ulong pfn) => Has(BalloonImplDefects.TruncatePfn) ? (uint)pfn : pfn;

    private void Inflate()
    {
        while (Size < Target && !ResetRequired)
        {
            int n = 0;
            int want = (int)Math.Min((uint)BatchPages, Target - Size);
            while (n < want && _refusedCount < MaxRefused && _mem.TryAlloc(out ulong pfn))
            {
                if (!Sendable(pfn)) { KeepRefused(pfn); continue; }
                _batch[n++] = pfn;
            }
            if (n == 0) break; // out of pages, or too many refused: take a breather
            LockOp(n, lockIt: true);
        }
        ReleaseRefused();
    }

    private void Deflate()
    {
        while (Size > Target && !ResetRequired)
        {
            int n = (int)Math.Min((uint)BatchPages, Size - Target);
            for (int i = 0; i < n; i++) _batch[i] = _pages[Size - 1 - i];
            if (!LockOp(n, lockIt: false)) break;
        }
    }

    /// <summary>vmballoon_lock() / vmballoon_unlock(): one batched command, or one command per page; per-page statuses.</summary>
    private bool LockOp(int n, bool lockIt)
    {
        bool progress = false;
        if (CanBatch)
        {
            var page = _mem.BatchPage;
            for (int i = 0; i < n; i++) page[i] = BatchEntry(Wire(_batch[i]), 0);
            uint batch = Cmd(lockIt ? CmdBatchedLock : CmdBatchedUnlock, _mem.BatchPfn, (ulong)n, out _);
            for (int i = 0; i < n; i++)
                progress |= Done(_batch[i], batch != Success ? batch : BatchStatus(page[i]), lockIt);
            return progress;
        }
        for (int i = 0; i < n; i++)
        {
            // After a RESET the host refuses everything but START: the rest of the batch fails unsent.
            uint status = ResetRequired ? ErrorReset : Cmd(lockIt ? CmdLock : CmdUnlock, Wire(_batch[i]), 0, out _);
            progress |= Done(_batch[i], status, lockIt);
        }
        return progress;
    }

    /// <summary>One page's answer: it joins or leaves the balloon, or is kept aside (refused) or kept (unlock failed).</summary>
    private bool Done(ulong pfn, uint status, bool lockIt)
    {
        if (lockIt)
        {
            if (status == Success) { _pages[Size++] = pfn; return true; }
            if (ResetRequired) _mem.Free(pfn); else KeepRefused(pfn);
            return false;
        }
        if (status != Success) return false;
        // The page leaves the stack: it is at the top (deflate takes from the top).
        int at = Array.LastIndexOf(_pages, pfn, (int)Size - 1);
        _pages[at] = _pages[Size - 1];
        Size--;
        _mem.Free(pfn);
        return true;
    }

    private void KeepRefused(ulong pfn)
    {
        Refusals++;
        if (_refusedCount == MaxRefused) { _mem.Free(pfn); return; }
        _refused[_refusedCount++] = pfn;
    }

    /// <summary>End of the inflation cycle: the refused pages go back to the guest.</summary>
    private void ReleaseRefused()
    {
        for (int i = 0; i < _refusedCount; i++) _mem.Free(_refused[i]);
        _refusedCount = 0;
    }
}
