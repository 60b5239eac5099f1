using Multikernel.Impl.Kernel;
using static Multikernel.Impl.Uffd.UffdConstants;

namespace Multikernel.Impl.Uffd;

/// <summary>
/// One mm with userfaultfd, as mainline has it (the reference design): a sorted array of
/// VMAs that register / unregister split and merge, the contexts, and the fault dispatcher.
/// The fault path allocates nothing: a binary search for the VMA, then the page's state.
/// VM_UFFD_MINOR is a bit of its own; minor mode works on hugetlbfs and shmem; WP on all.
/// </summary>
public sealed class MmStruct
{
    public const int MaxVmas = 64, MaxContexts = 4;
    public const ulong VmUffdMinor = VmUffdMinorMainline;
    /// <summary>__VM_UFFD_FLAGS.</summary>
    public const ulong VmUffdFlags = VmUffdMissing | VmUffdWp | VmUffdMinor;
    public const ulong AllModes = UffdioRegisterModeMissing | UffdioRegisterModeWp | UffdioRegisterModeMinor;
    public const byte PteNone = 0, PtePresent = 1, PteUffdWp = 2;

    private readonly Vma[] _vmas = new Vma[MaxVmas];
    private int _count;
    private readonly byte[] _pte, _cached, _waiter; // per page; waiter: modes | ctx << 4
    private readonly byte[] _ctxState = new byte[MaxContexts + 1], _ctxFeatures = new byte[MaxContexts + 1];
    private readonly UffdImplDefects _defects;
    private const byte CtxNone = 0, CtxOpen = 1, CtxReady = 2, CtxReleased = 3;
    private const byte FSigbus = 1, FFork = 2, FRemap = 4;

    /// <summary>Maps the layout's VMAs one after the other from address 0; file-backed ones each get a file of their own.</summary>
    public MmStruct(ReadOnlySpan<(MemType Type, int Pages)> layout, UffdImplDefects defects = UffdImplDefects.None)
    {
        _defects = defects;
        ulong at = 0;
        int file = 0;
        foreach (var (type, pages) in layout)
        {
            if (type == MemType.None || pages <= 0 || _count == MaxVmas) throw new ArgumentException("layout: mapped types, positive sizes, at most 64 VMAs");
            var v = new Vma { Start = at, End = at + (ulong)pages * PageSize, Type = type, Mapping = MemTypes.IsAnon(type) ? 0 : ++file, VmFlags = MemTypes.MmapFlags(type) };
            at = v.End;
            _vmas[_count++] = v;
        }
        Merge(); // adjacent anonymous mappings with the same flags are one VMA, as mmap() leaves them
        Pages = (int)(at / PageSize);
        _pte = new byte[Pages];
        _cached = new byte[Pages];
        _waiter = new byte[Pages];
    }

    public int Pages { get; }
    public ReadOnlySpan<Vma> Vmas => _vmas.AsSpan(0, _count);
    public byte Pte(int page) => _pte[page];
    public bool Cached(int page) => _cached[page] != 0;
    /// <summary>The context a fault at <paramref name="page"/> waits on, or 0.</summary>
    public int WaiterCtx(int page) => _waiter[page] >> 4;

    /// <summary>Puts a page in the page cache (another process wrote the file): its next fault is a minor fault. Not on a private hugetlbfs mapping, whose file nobody else maps.</summary>
    public void PopulatePageCache(int page)
    {
        var t = VmaAt((ulong)page * PageSize)?.Type ?? MemType.None;
        if (MemTypes.HasPageCache(t) && t != MemType.HugetlbPrivate) _cached[page] = 1;
    }

    private bool Has(UffdImplDefects f) => (_defects & f) != 0;

    // ---- VMA list -----------------------------------------------------------------

    /// <summary>find_vma(): the VMA holding <paramref name="addr"/>, by binary search; null in a hole.</summary>
    public Vma? VmaAt(ulong addr)
    {
        int i = IndexAt(addr);
        return i >= 0 ? _vmas[i] : null;
    }

    private int IndexAt(ulong addr)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (addr < _vmas[mid].Start) hi = mid - 1;
            else if (addr >= _vmas[mid].End) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    /// <summary>split_vma(): makes <paramref name="addr"/> a VMA boundary.</summary>
    private void SplitAt(ulong addr)
    {
        int i = IndexAt(addr);
        if (i < 0 || _vmas[i].Start == addr) return;
        if (_count == MaxVmas) throw new InvalidOperationException("VMA table full");
        Array.Copy(_vmas, i + 1, _vmas, i + 2, _count - i - 1);
        _vmas[i + 1] = _vmas[i] with { Start = addr };
        _vmas[i].End = addr;
        _count++;
    }

    private static bool Mergeable(in Vma a, in Vma b) =>
        a.End == b.Start && a.Type == b.Type && a.Mapping == b.Mapping && a.VmFlags == b.VmFlags && a.Ctx == b.Ctx;

    /// <summary>vma_merge(): joins neighbours that are the same mapping with the same flags and context.</summary>
    private void Merge()
    {
        int w = 0;
        for (int r = 0; r < _count; r++)
        {
            if (w > 0 && Mergeable(_vmas[w - 1], _vmas[r])) _vmas[w - 1].End = _vmas[r].End;
            else _vmas[w++] = _vmas[r];
        }
        _count = w;
    }

    // ---- the userfaultfd ----------------------------------------------------------

    /// <summary>userfaultfd(2): a new context, or -ENOMEM when the table is full.</summary>
    public int UserfaultfdCreate()
    {
        for (int c = 1; c <= MaxContexts; c++)
            if (_ctxState[c] == CtxNone) { _ctxState[c] = CtxOpen; return c; }
        return -Errno.ENOMEM;
    }

    private bool Ready(int ctx) => (uint)ctx - 1 < MaxContexts && _ctxState[ctx] == CtxReady;

    public static ulong SupportedFeatures =>
        UffdFeaturePagefaultFlagWp | UffdFeatureEventFork | UffdFeatureEventRemap | UffdFeatureEventRemove |
        UffdFeatureMissingHugetlbfs | UffdFeatureMissingShmem | UffdFeatureEventUnmap | UffdFeatureSigbus |
        UffdFeatureThreadId | UffdFeatureMinorHugetlbfs | UffdFeatureMinorShmem | UffdFeaturesLater;

    /// <summary>UFFDIO_API.</summary>
    public int Api(int ctx, ulong api, ulong features)
    {
        if ((uint)ctx - 1 >= MaxContexts || _ctxState[ctx] != CtxOpen) return -Errno.EINVAL;
        if (api != UffdApi || (features & ~SupportedFeatures) != 0) return -Errno.EINVAL;
        _ctxState[ctx] = CtxReady;
        _ctxFeatures[ctx] = (byte)(((features & UffdFeatureSigbus) != 0 ? FSigbus : 0) |
                                   ((features & UffdFeatureEventFork) != 0 ? FFork : 0) |
                                   ((features & UffdFeatureEventRemap) != 0 ? FRemap : 0));
        return 0;
    }

    /// <summary>vma_can_userfault(vma, vm_flags).</summary>
    public static bool VmaCanUserfault(MemType type, ulong vmFlags)
    {
        if ((vmFlags & VmUffdMinor) != 0 && !MemTypes.IsHugetlb(type) && !MemTypes.IsShmem(type)) return false;
        return type != MemType.None;
    }

    public static ulong VmFlagsOf(ulong mode) =>
        ((mode & UffdioRegisterModeMissing) != 0 ? VmUffdMissing : 0) |
        ((mode & UffdioRegisterModeWp) != 0 ? VmUffdWp : 0) |
        ((mode & UffdioRegisterModeMinor) != 0 ? VmUffdMinor : 0);

    /// <summary>The range checks of register and unregister; the index range of the VMAs it covers.</summary>
    private int CheckRange(ulong start, ulong len, out int first, out int last)
    {
        first = last = -1;
        if (len == 0 || (start & (PageSize - 1)) != 0 || (len & (PageSize - 1)) != 0) return -Errno.EINVAL;
        ulong end = start + len;
        if (end < start) return -Errno.EINVAL;
        for (int i = 0; i < _count; i++)
        {
            if (_vmas[i].End <= start || _vmas[i].Start >= end) continue;
            if (first < 0) first = i;
            last = i;
        }
        if (first < 0) return -Errno.EINVAL;
        if (end > _vmas[last].End && IndexAt(end - 1) < 0) return -Errno.EINVAL; // past the mapped area, which is the whole address space here (validate_range())
        ulong huge = PageSize * (ulong)HugePages;
        if (MemTypes.IsHugetlb(_vmas[first].Type) && start % huge != 0) return -Errno.EINVAL;
        return 0; // the end: register checks it at the VMA holding it, unregister where it splits one
    }

    /// <summary>UFFDIO_REGISTER.</summary>
    public int Register(int ctx, ulong start, ulong len, ulong mode)
    {
        if (!Ready(ctx)) return -Errno.EINVAL;
        if (mode == 0 || (mode & ~AllModes) != 0) return -Errno.EINVAL;
        int rc = CheckRange(start, len, out int first, out int last);
        if (rc != 0) return rc;
        ulong vmFlags = VmFlagsOf(mode);
        ulong end0 = start + len;
        for (int i = first; i <= last; i++)
        {
            if (!VmaCanUserfault(_vmas[i].Type, vmFlags)) return -Errno.EINVAL;
            if (MemTypes.IsHugetlb(_vmas[i].Type) && end0 > _vmas[i].Start && end0 <= _vmas[i].End && end0 % (PageSize * (ulong)HugePages) != 0) return -Errno.EINVAL;
            if (_vmas[i].Ctx != 0 && _vmas[i].Ctx != ctx) return -Errno.EBUSY;
        }
        ulong end = start + len;
        if (!Has(UffdImplDefects.NoSplit)) { SplitAt(start); SplitAt(end); }
        for (int i = 0; i < _count; i++)
        {
            ref var v = ref _vmas[i];
            if (v.End <= start || v.Start >= end) continue;
            if (v.Ctx == ctx && (v.VmFlags & vmFlags) == vmFlags) continue; // already registered with these modes: nothing to do
            v.VmFlags = (v.VmFlags & ~VmUffdFlags) | vmFlags;
            v.Ctx = ctx;
        }
        Merge();
        return 0;
    }

    /// <summary>UFFDIO_UNREGISTER: the context's VMAs in the range; their faults are woken.</summary>
    public int Unregister(int ctx, ulong start, ulong len)
    {
        if (!Ready(ctx)) return -Errno.EINVAL;
        int rc = CheckRange(start, len, out int first, out int last);
        if (rc != 0) return rc;
        for (int i = first; i <= last; i++) // vma_can_userfault(cur, cur->vm_flags)
            if (!VmaCanUserfault(_vmas[i].Type, _vmas[i].VmFlags) || (_vmas[i].Ctx != 0 && _vmas[i].Ctx != ctx)) return -Errno.EINVAL; // and registered through this userfaultfd
        ulong end = start + len;
        // Only the start is checked first: an end inside a huge page fails when its VMA is split (may_split()).
        bool endInHugePage = MemTypes.IsHugetlb(_vmas[last].Type) && end < _vmas[last].End && end % (PageSize * (ulong)HugePages) != 0;
        SplitAt(start);
        if (!endInHugePage) SplitAt(end);
        for (int i = 0; i < _count; i++)
        {
            ref var v = ref _vmas[i];
            if (v.End <= start || v.Start >= end || v.Ctx != ctx) continue;
            if (endInHugePage && v.Start < end && end < v.End)
            {
                // userfaultfd_clear_vma() reset the range's uffd-wp bits (the huge PTE holding the end) before the split was refused.
                ulong huge = PageSize * (ulong)HugePages;
                if ((v.VmFlags & VmUffdWp) != 0) ResetWp(Math.Max(v.Start, start) / huge * huge, (end + huge - 1) / huge * huge);
                Merge();
                return -Errno.EINVAL;
            }
            WakeRange(ctx, v.Start, v.End);
            if ((v.VmFlags & VmUffdWp) != 0) ResetWp(v.Start, v.End); // userfaultfd_clear_vma()
            v.VmFlags &= ~VmUffdFlags;
            v.Ctx = 0;
        }
        if (!Has(UffdImplDefects.NoMerge)) Merge();
        return 0;
    }

    /// <summary>userfaultfd_release(): every VMA of the context is unregistered, every queued fault woken.</summary>
    public void Release(int ctx)
    {
        if ((uint)ctx - 1 >= MaxContexts) return;
        for (int i = 0; i < _count; i++)
            if (_vmas[i].Ctx == ctx)
            {
                if ((_vmas[i].VmFlags & VmUffdWp) != 0) ResetWp(_vmas[i].Start, _vmas[i].End); // userfaultfd_clear_vma()
                _vmas[i].VmFlags &= ~VmUffdFlags;
                _vmas[i].Ctx = 0;
            }
        WakeRange(ctx, 0, (ulong)Pages * PageSize);
        _ctxState[ctx] = CtxReleased;
        Merge();
    }

    private void WakeRange(int ctx, ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += PageSize)
        {
            int p = (int)(a / PageSize);
            if (_waiter[p] >> 4 == ctx) _waiter[p] = 0;
        }
    }

    /// <summary>UFFDIO_WAKE of one page.</summary>
    public int Wake(int ctx, ulong addr)
    {
        if (!Ready(ctx)) return -Errno.EINVAL;
        int p = (int)(addr / PageSize);
        if ((uint)p < (uint)Pages && _waiter[p] >> 4 == ctx) _waiter[p] = 0;
        return 0;
    }

    // ---- the rest of the mm -------------------------------------------------------

    /// <summary>
    /// mlock2(MLOCK_ONFAULT) / munlock() over whole pages; -ENOMEM over a hole. Each VMA gets
    /// VM_LOCKED | VM_LOCKONFAULT (mlock2) or loses both (munlock), except a hugetlbfs VMA, which
    /// mlock_fixup() leaves alone. (mlock2 then populates a hugetlbfs range: not modelled, and
    /// the model-based test does not call it there.)
    /// </summary>
    public int Mlock(ulong start, ulong len, bool on, bool onFault = true)
    {
        ulong end = start + len;
        for (ulong a = start; a < end; a += PageSize) if (IndexAt(a) < 0) return -Errno.ENOMEM;
        SplitAt(start);
        SplitAt(end);
        for (int i = 0; i < _count; i++)
        {
            ref var v = ref _vmas[i];
            if (v.End <= start || v.Start >= end || MemTypes.IsHugetlb(v.Type)) continue;
            v.VmFlags = (v.VmFlags & ~(VmLocked | VmLockonfault)) | (on ? VmLocked | (onFault ? VmLockonfault : 0) : 0);
        }
        Merge();
        if (on && !onFault) // __mm_populate(): fault in what is not mapped (write on a private writable VMA)
            for (ulong a = start; a < end; a += PageSize)
                if (_pte[a / PageSize] == PteNone && VmaAt(a) is { } v && !MemTypes.IsHugetlb(v.Type))
                    HandleMmFault(a, write: (v.VmFlags & VmShared) == 0);
        return 0;
    }

    /// <summary>
    /// mremap() away and back, the same length: one VMA: mremap_userfaultfd_prep() drops the
    /// context unless the monitor asked for UFFD_EVENT_REMAP, and move_ptes() then clears the moved
    /// PTEs' uffd-wp bits. Several VMAs are moved one by one, and one with a context is refused
    /// (-EFAULT; the ones before it moved unchanged).
    /// </summary>
    public int Mremap(ulong start, ulong len)
    {
        ulong end = start + len;
        int at = IndexAt(start);
        if (at < 0) return -Errno.EFAULT; // vma_lookup()
        if (end > _vmas[at].End)
        {
            for (int i = at; i < _count && _vmas[i].Start < end; i++)
                if (_vmas[i].Ctx != 0) return -Errno.EFAULT;
            return 0;
        }
        SplitAt(start); // moving part of a VMA moves it as a VMA of its own
        SplitAt(end);
        for (int i = 0; i < _count; i++)
        {
            ref var v = ref _vmas[i];
            if (v.End <= start || v.Start >= end || v.Ctx == 0 || (_ctxFeatures[v.Ctx] & FRemap) != 0) continue;
            ResetWp(v.Start, v.End);
            v.VmFlags &= ~VmUffdFlags;
            v.Ctx = 0;
        }
        Merge();
        return 0;
    }

    /// <summary>The uffd-wp bit of every PTE in [start, end) cleared.</summary>
    private void ResetWp(ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += PageSize)
            if (_pte[a / PageSize] == PteUffdWp) _pte[a / PageSize] = PtePresent;
    }

    /// <summary>fork(): the child's VMAs as dup_mmap() and dup_userfaultfd() make them (its contexts keep the parent's numbers).</summary>
    public Vma[] ForkChildVmas()
    {
        var child = Vmas.ToArray();
        for (int i = 0; i < child.Length; i++)
        {
            ref var v = ref child[i];
            v.VmFlags &= ~(VmLocked | VmLockonfault);
            if (v.Ctx == 0 || (_ctxFeatures[v.Ctx] & FFork) == 0) { v.VmFlags &= ~VmUffdFlags; v.Ctx = 0; }
        }
        return child;
    }

    // ---- faults --------------------------------------------------------------------

    /// <summary>handle_mm_fault() down to the uffd hooks. Allocates nothing.</summary>
    public FaultResult HandleMmFault(ulong addr, bool write)
    {
        int i = IndexAt(addr);
        if (i < 0) return new FaultResult(FaultOutcome.Sigbus); // SIGSEGV in the kernel; not a uffd matter
        ref readonly var v = ref _vmas[i];
        int p = (int)(addr / PageSize);
        if (_waiter[p] != 0) return new FaultResult(FaultOutcome.Blocked, _waiter[p]);
        if (_pte[p] != PteNone)
        {
            if (write && _pte[p] == PteUffdWp && (v.VmFlags & VmUffdWp) != 0) return HandleUserfault(v, p, VmUffdWp, write);
            return new FaultResult(FaultOutcome.Normal);
        }
        bool cached = _cached[p] != 0;
        if (cached && (MemTypes.IsHugetlb(v.Type) || MemTypes.IsShmem(v.Type)) && (v.VmFlags & VmUffdMinor) != 0)
            return HandleUserfault(v, p, Has(UffdImplDefects.MinorAsMissing) ? VmUffdMissing : VmUffdMinor, write);
        if (!cached && (v.VmFlags & VmUffdMissing) != 0) return HandleUserfault(v, p, VmUffdMissing, write);
        ulong unit = UnitBytes(v), at = addr / unit * unit; // the whole huge page on hugetlbfs
        for (ulong a = at; a < at + unit; a += PageSize)
        {
            _pte[a / PageSize] = PtePresent;
            if (MemTypes.FaultFillsPageCache(v.Type)) _cached[a / PageSize] = 1;
        }
        return new FaultResult(FaultOutcome.Normal);
    }

    private FaultResult HandleUserfault(in Vma v, int p, ulong reason, bool write)
    {
        if (v.Ctx == 0 || !Ready(v.Ctx) || (_ctxFeatures[v.Ctx] & FSigbus) != 0) return new FaultResult(FaultOutcome.Sigbus, reason);
        ulong msg = (write ? UffdPagefaultFlagWrite : 0) |
                    ((reason & VmUffdWp) != 0 ? UffdPagefaultFlagWp : 0) |
                    ((reason & VmUffdMinor) != 0 ? UffdPagefaultFlagMinor : 0);
        ulong modes = ((reason & VmUffdMissing) != 0 ? UffdioRegisterModeMissing : 0) |
                      ((reason & VmUffdWp) != 0 ? UffdioRegisterModeWp : 0) |
                      ((reason & VmUffdMinor) != 0 ? UffdioRegisterModeMinor : 0);
        _waiter[p] = (byte)(modes | (ulong)v.Ctx << 4);
        return new FaultResult(FaultOutcome.Blocked, reason, msg);
    }

    /// <summary>What UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_CONTINUE ask mfill_atomic() to do.</summary>
    public enum Mfill : byte { Copy, Zeropage, Continue }

    /// <summary>validate_range(): page aligned, not empty, inside the address space (this mm's pages).</summary>
    private bool ValidRange(ulong start, ulong len) =>
        len != 0 && (start & (PageSize - 1)) == 0 && (len & (PageSize - 1)) == 0 &&
        start < (ulong)Pages * PageSize && len <= (ulong)Pages * PageSize - start;

    /// <summary>The pages a fault or an mfill unit covers at once: a huge page on hugetlbfs, else one.</summary>
    private static ulong UnitBytes(in Vma v) => (ulong)MemTypes.Unit(v.Type) * PageSize;

    /// <summary>
    /// UFFDIO_COPY / ZEROPAGE / CONTINUE of [dst, dst+len): -EINVAL before UFFDIO_API or for a bad
    /// range; -ENOENT unless one VMA with a context holds it; on hugetlbfs no ZEROPAGE and huge-page
    /// alignment (-EINVAL), elsewhere CONTINUE only on shmem (-EINVAL); then unit by unit, -EEXIST /
    /// -EFAULT stopping it. 0 when all was done, -EAGAIN for a part, the error for none; the faults of
    /// this context in what was done are woken.
    /// </summary>
    public int MfillAtomic(int ctx, ulong dst, ulong len, Mfill mode)
    {
        if (!Ready(ctx) || !ValidRange(dst, len)) return -Errno.EINVAL;
        int i = IndexAt(dst);
        if (i < 0 || _vmas[i].Ctx == 0 || dst + len > _vmas[i].End) return -Errno.ENOENT;
        ref readonly var v = ref _vmas[i];
        ulong unit = UnitBytes(v);
        if (MemTypes.IsHugetlb(v.Type) && (mode == Mfill.Zeropage || dst % unit != 0 || len % unit != 0)) return -Errno.EINVAL;
        if (!MemTypes.IsHugetlb(v.Type) && mode == Mfill.Continue && !MemTypes.IsShmem(v.Type)) return -Errno.EINVAL;
        ulong done = 0;
        int err = 0;
        for (ulong a = dst; a < dst + len; a += unit)
        {
            int p = (int)(a / PageSize);
            if (mode == Mfill.Continue && _cached[p] == 0) err = -Errno.EFAULT;
            else if (_pte[p] != PteNone) err = -Errno.EEXIST;
            else if (mode != Mfill.Continue && MemTypes.IsShared(v.Type) && _cached[p] != 0) err = -Errno.EEXIST; // the page cache insert fails
            if (err != 0) break;
            for (ulong b = a; b < a + unit; b += PageSize)
            {
                _pte[b / PageSize] = PtePresent;
                if (mode != Mfill.Continue && MemTypes.IsShared(v.Type)) _cached[b / PageSize] = 1;
            }
            done += unit;
        }
        if (done == 0) return err;
        WakeMapped(ctx, dst, dst + done);
        return done == len ? 0 : -Errno.EAGAIN;
    }

    /// <summary>wake_userfault() after a fill or an unprotect: the faults of ctx in [start, end) whose PTE is now mapped finish.</summary>
    private void WakeMapped(int ctx, ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += PageSize)
            if (_waiter[a / PageSize] >> 4 == ctx && _pte[a / PageSize] == PtePresent) _waiter[a / PageSize] = 0;
    }

    /// <summary>
    /// UFFDIO_WRITEPROTECT of [start, start+len): VMA by VMA, -ENOENT without VM_UFFD_WP, -EINVAL
    /// on hugetlbfs unless start and len are huge-page aligned; present PTEs get or lose the uffd-wp
    /// bit, none PTEs are left alone; unprotecting wakes this context's faults in the range.
    /// </summary>
    public int WriteProtect(int ctx, ulong start, ulong len, bool protect)
    {
        if (!Ready(ctx) || !ValidRange(start, len)) return -Errno.EINVAL;
        ulong end = start + len;
        for (int i = 0; i < _count; i++)
        {
            ref readonly var v = ref _vmas[i];
            if (v.End <= start || v.Start >= end) continue;
            if ((v.VmFlags & VmUffdWp) == 0) return -Errno.ENOENT;
            if (MemTypes.IsHugetlb(v.Type) && (start % UnitBytes(v) != 0 || len % UnitBytes(v) != 0)) return -Errno.EINVAL;
            for (ulong a = Math.Max(v.Start, start); a < Math.Min(v.End, end); a += PageSize)
                if (_pte[a / PageSize] != PteNone) _pte[a / PageSize] = protect ? PteUffdWp : PtePresent;
        }
        if (!protect) WakeMapped(ctx, start, end);
        return 0;
    }

    /// <summary>The invariant a VM_BUG_ON guards in the kernel: a context if and only if a uffd bit.</summary>
    public static bool CtxIffUffdBit(in Vma v) => (v.Ctx != 0) == ((v.VmFlags & VmUffdFlags) != 0);
}
