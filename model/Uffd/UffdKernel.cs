using System.Numerics;
using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;
using Multikernel.Model.Kernel;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>
/// fs/userfaultfd.c and the fault paths, on <see cref="UffdState"/>, as a design has them.
/// Every call returns what the kernel returns; the ghost checks (reason bits, registration,
/// message flags) are made where handle_userfault() is entered.
/// </summary>
public sealed class UffdKernel(UffdDesign design) : IReasonSource
{
    public UffdDesign Design => design;
    public ReasonSink Reasons { get; } = new();

    public enum FaultOutcome : byte { None, Normal, Blocked, Sigbus }

    public const ulong AllModes = UffdioRegisterModeMissing | UffdioRegisterModeWp | UffdioRegisterModeMinor;

    /// <summary>Records that <paramref name="i"/> broke here; the reason is formatted only when a trace is explained.</summary>
    private void Break(ref UffdState s, UffdInvariant i, [InterpolatedStringHandlerArgument("")] Reason why)
    {
        s.Broken |= (ushort)PropertyTable<UffdInvariant>.Bit(i);
        if (why.Text() is { } text) Reasons.Note((int)i, text);
    }

    private static string Hex(ulong v) => "0x" + v.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    // ---- ioctls on the userfaultfd ------------------------------------------------

    /// <summary>UFFDIO_API: once per context, with the right api number and known features.</summary>
    public int Api(ref UffdState s, int ctx, ulong api, ulong features)
    {
        ref var c = ref s.Ctxs[ctx - 1];
        if (c.State != UffdCtx.Open) return -Errno.EINVAL;
        if (api != UffdApi || (features & ~design.SupportedFeatures) != 0) return -Errno.EINVAL;
        c.State = UffdCtx.Ready;
        c.Features = (byte)(((features & UffdFeatureSigbus) != 0 ? UffdCtx.Sigbus : 0) |
                            ((features & UffdFeatureEventFork) != 0 ? UffdCtx.EventFork : 0) |
                            ((features & UffdFeatureEventRemap) != 0 ? UffdCtx.EventRemap : 0));
        return 0;
    }

    /// <summary>The range checks shared by register and unregister: page aligned, non-empty, mapped, huge-page aligned on hugetlbfs.</summary>
    private static int Range(in UffdState s, ulong start, ulong len, out int first, out int count)
    {
        first = count = 0;
        if (len == 0 || (start & (PageSize - 1)) != 0 || (len & (PageSize - 1)) != 0) return -Errno.EINVAL;
        ulong end = start + len;
        if (end < start || end > UffdBounds.Pages * PageSize) return -Errno.EINVAL; // validate_range(): the model's TASK_SIZE is its four pages
        first = (int)(start / PageSize);
        count = (int)(len / PageSize);
        bool any = false;
        for (int p = first; p < first + count; p++) any |= s.Pages[p].Type != MemType.None;
        // If the first VMA is hugetlbfs, start must be huge-page aligned; if the VMA holding
        // the end is, so must end be (userfaultfd_register() / _unregister()).
        if (MemTypes.IsHugetlb(s.Pages[first].Type) && first % HugePages != 0) return -Errno.EINVAL;
        // The end is not checked here: register checks it at the VMA holding it, in its walk, unregister
        // when it splits a VMA of the context there (found by `differ uffd`, issue 19).
        return any ? 0 : -Errno.EINVAL;
    }

    /// <summary>UFFDIO_REGISTER: the vm_flags of the mode on every VMA of the range, which must all accept them.</summary>
    public int Register(ref UffdState s, int ctx, ulong start, ulong len, ulong mode)
    {
        if (s.Ctxs[ctx - 1].State != UffdCtx.Ready) return -Errno.EINVAL;
        if (mode == 0 || (mode & ~AllModes) != 0) return -Errno.EINVAL;
        int rc = Range(s, start, len, out int first, out int count);
        if (rc != 0) return rc;
        ulong vmFlags = design.VmFlagsOf(mode);
        int last = first + count - 1;
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (pg.Type == MemType.None) continue;
            if (WalkBugOn(ref s, p, UffdState.BugRegister)) return 0; // seed line 208, before the checks of this VMA
            if (!design.VmaCanUserfault(pg.Type, vmFlags)) return -Errno.EINVAL;
            // The hugetlbfs VMA holding the end: the end must be huge-page aligned (before -EBUSY, on 6.18).
            // A hugetlbfs VMA of the model is one huge page: the last page's.
            if (MemTypes.IsHugetlb(pg.Type) && p / HugePages == last / HugePages && (last + 1) % HugePages != 0) return -Errno.EINVAL;
            if (pg.Ctx != 0 && pg.Ctx != ctx) return -Errno.EBUSY; // owned by a different userfaultfd
        }
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (pg.Type == MemType.None) continue;
            // "Nothing to do: this vma is already registered into this userfaultfd and with the
            // right tracking mode too": a VMA of this context with every bit asked for keeps its
            // other bits (found by `differ uffd`, issue 19: WP|MINOR, then WP, leaves `uw ui`).
            if (pg.Ctx == ctx && (pg.VmFlags & vmFlags) == vmFlags) continue;
            design.RegisterVma(ref pg, ctx, vmFlags, mode);
        }
        return 0;
    }

    /// <summary>UFFDIO_UNREGISTER: the context's VMAs in the range lose their uffd bits and context.</summary>
    public int Unregister(ref UffdState s, int ctx, ulong start, ulong len)
    {
        if (s.Ctxs[ctx - 1].State != UffdCtx.Ready) return -Errno.EINVAL;
        int rc = Range(s, start, len, out int first, out int count);
        if (rc != 0) return rc;
        int last = first + count - 1;
        bool endSplitsHugePage = MemTypes.IsHugetlb(s.Pages[last].Type) && (last + 1) % HugePages != 0;
        for (int p = first; p < first + count; p++)
        {
            var pg = s.Pages[p];
            if (pg.Type == MemType.None) continue;
            if (WalkBugOn(ref s, p, UffdState.BugUnregister)) return 0; // seed line 227
            // "Check not compatible vmas, not strictly required here": vma_can_userfault(cur, cur->vm_flags).
            if (!design.VmaCanUserfault(pg.Type, pg.VmFlags)) return -Errno.EINVAL;
            // "Prevent unregistering through a different userfaultfd than the one used for registration."
            if (design.UnregisterChecksOwner && pg.Ctx != 0 && pg.Ctx != ctx) return -Errno.EINVAL;
        }
        for (int p = first; p < first + count; p++)
        {
            if (s.Pages[p].Ctx != ctx) continue; // if (!vma->vm_userfaultfd_ctx.ctx) goto skip;
            // Clearing the VMA that holds an unaligned end splits it inside a huge page: hugetlbfs's
            // may_split() refuses (-EINVAL), the VMAs before it already cleared (found by `differ uffd`,
            // issue 19: an unregistered hugetlbfs VMA, unaligned end, is 0 on 6.18). A hugetlbfs VMA
            // of the model is one huge page, so it is the VMA of the last page's huge page.
            if (endSplitsHugePage && p / HugePages == last / HugePages)
            {
                // userfaultfd_clear_vma() resets the uffd-wp bits of the range before the split is
                // refused, the whole huge PTE holding the end (found by `differ uffd`, issue 19: a write
                // to that huge page after the -EINVAL is a normal fault on 6.18).
                ref var v = ref s.Pages[p];
                if ((v.VmFlags & VmUffdWp) != 0)
                    for (int q = p / HugePages * HugePages; q < (p / HugePages + 1) * HugePages; q++)
                        if (s.Pages[q].Pte == UffdPage.PteUffdWp) s.Pages[q].Pte = UffdPage.PtePresent;
                return -Errno.EINVAL;
            }
            Wake(ref s, p, ctx);                 // wake_userfault(vma->vm_userfaultfd_ctx.ctx, &range)
            design.UnregisterVma(ref s.Pages[p]);
        }
        return 0;
    }

    /// <summary>
    /// userfaultfd_release(): close of the last reference to the context, with UFFDIO_API or
    /// without. The mm is alive (mmget_not_zero()), so the walk visits every VMA of the mm, each
    /// through the BUG_ON first. Returns false when that BUG_ON fired: the kernel stopped there.
    /// </summary>
    public bool Release(ref UffdState s, int ctx)
    {
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            if (s.Pages[p].Type == MemType.None) continue;
            if (WalkBugOn(ref s, p, UffdState.BugRelease)) return false; // seed line 152
            if (s.Pages[p].Ctx == ctx) design.ReleaseVma(ref s.Pages[p]);
            Wake(ref s, p, ctx); // every fault queued on the context, wherever its VMA went
        }
        s.Ctxs[ctx - 1].State = UffdCtx.Released;
        return true;
    }

    /// <summary>
    /// The monitor closes the child's userfaultfd (read from UFFD_EVENT_FORK) while the child
    /// lives: userfaultfd_release() walks the child's mm, which a fork left inconsistent at page
    /// <see cref="UffdState.ChildBad"/> - 1, and its BUG_ON fires there.
    /// </summary>
    public static void ReleaseChild(ref UffdState s)
    {
        if (s.ChildBad == 0) return;
        s.Bug = UffdState.BugChildRelease;
        s.BugPage = (byte)(s.ChildBad - 1);
    }

    /// <summary>
    /// BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags &amp; __VM_UFFD_FLAGS)) of the
    /// release, register and unregister walks, on the VMA holding page p: true when it fires.
    /// </summary>
    private bool WalkBugOn(ref UffdState s, int p, byte walk)
    {
        var pg = s.Pages[p];
        if ((pg.Ctx != 0) == ((pg.VmFlags & design.VmUffdFlags) != 0)) return false;
        s.Bug = walk;
        s.BugPage = (byte)p;
        return true;
    }

    /// <summary>Wakes the fault waiting on <paramref name="ctx"/> at page p, if any: its thread retries the fault.</summary>
    private void Wake(ref UffdState s, int p, int ctx)
    {
        ref var pg = ref s.Pages[p];
        if (pg.Waiter != 0 && pg.WaiterCtx == ctx && design.WakesStrandedFaults) pg.Waiter = 0;
    }

    /// <summary>UFFDIO_WAKE of one page: the monitor wakes a fault queued on its context.</summary>
    public static int WakeIoctl(ref UffdState s, int ctx, int p)
    {
        if (s.Ctxs[ctx - 1].State != UffdCtx.Ready) return -Errno.EINVAL;
        ref var pg = ref s.Pages[p];
        if (pg.Waiter != 0 && pg.WaiterCtx == ctx) pg.Waiter = 0;
        return 0;
    }

    /// <summary>
    /// mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of the pages [first, first+count) elsewhere, the same
    /// length. One VMA holding them: mremap_userfaultfd_prep(). The pages stay where they are in the
    /// model: where a VMA lands does not matter here, its flags, context and PTEs do. Without
    /// UFFD_FEATURE_EVENT_REMAP the context is dropped, and move_ptes() clears the uffd-wp bit of
    /// every PTE it moves (vma_has_uffd_without_event_remap()). Several VMAs: the 6.18 kernel moves
    /// them one by one and refuses one with a userfaultfd context (-EFAULT; those before it stay
    /// moved, which changes nothing the model has); a design without <see cref="UffdDesign.MremapsSeveralVmas"/>
    /// refuses the range (-EFAULT: "can't remap across vm area boundaries"). Both found by `differ uffd` (issue 19).
    /// </summary>
    public int Mremap(ref UffdState s, int first, int count)
    {
        if (s.Pages[first].Type == MemType.None) return -Errno.EFAULT; // vma_lookup()
        for (int p = first; p < first + count; p++)
            if (MemTypes.IsHugetlb(s.Pages[p].Type) && !design.MremapsHugetlb) return -Errno.EINVAL; // vma_to_resize() before 5.16
        bool oneVma = true;
        for (int p = first + 1; p < first + count; p++) oneVma &= SameVma(s, p - 1, p);
        if (!oneVma)
        {
            if (!design.MremapsSeveralVmas) return -Errno.EFAULT;
            for (int p = first; p < first + count; p++)
                if (s.Pages[p].Type == MemType.None) continue;
                else if (s.Pages[p].Ctx != 0) return -Errno.EFAULT;
            return 0;
        }
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (pg.Ctx == 0) continue;
            design.MremapVma(ref pg, (s.Ctxs[pg.Ctx - 1].Features & UffdCtx.EventRemap) != 0);
        }
        return 0;
    }

    /// <summary>
    /// Whether pages a and b are in one VMA: the same mapping (anonymous memory, or the one file
    /// each of the two model VMAs maps) with the same flags and context, so vma_merge() joined them.
    /// </summary>
    public static bool SameVma(in UffdState s, int a, int b)
    {
        var x = s.Pages[a];
        var y = s.Pages[b];
        int fileA = MemTypes.IsAnon(x.Type) ? 0 : a / 2, fileB = MemTypes.IsAnon(y.Type) ? 0 : b / 2;
        return x.Type == y.Type && x.Type != MemType.None && fileA == fileB && x.VmFlags == y.VmFlags && x.Ctx == y.Ctx;
    }

    /// <summary>The UFFD_EVENT_REMAP messages a move of [first, first+count) sends (when it succeeds): the context of its VMA, if it asked for them.</summary>
    public static int RemapEventCtx(in UffdState s, int first, int count)
    {
        for (int p = first + 1; p < first + count; p++) if (!SameVma(s, p - 1, p)) return 0; // several VMAs: none with a context, or refused
        int c = s.Pages[first].Ctx;
        return c != 0 && (s.Ctxs[c - 1].Features & UffdCtx.EventRemap) != 0 ? c : 0;
    }

    /// <summary>
    /// fork(): the child's copy of each VMA, as dup_mmap() and dup_userfaultfd() make it, is
    /// judged on the spot (the child does nothing further in the model): mlock is not
    /// inherited; the child keeps a (new) context only with UFFD_FEATURE_EVENT_FORK.
    /// </summary>
    public void Fork(ref UffdState s)
    {
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var parent = s.Pages[p];
            if (parent.Type == MemType.None) continue;
            var (flags, keepsCtx) = design.ForkVma(parent, ChildKeepsCtx(s, p));
            if (keepsCtx != ((flags & design.VmUffdFlags) != 0))
            {
                Break(ref s, UffdInvariant.CtxIffUffdBit, $"the child's page {p} gets vm_flags {Hex(flags)} and {(keepsCtx ? "a context" : "no context")} (dup_userfaultfd(), then dup_mmap() clears VM_LOCKED | VM_LOCKONFAULT)");
                if (s.ChildBad == 0) s.ChildBad = (byte)(p + 1);
            }
            // A MISSING|MINOR child that loses only VM_UFFD_MINOR (v5) still has a context and a bit:
            // no BUG_ON, but its minor faults are no longer intercepted (docs/audits/004-uffd.md).
        }
    }

    /// <summary>Whether the parent's context asked for UFFD_FEATURE_EVENT_FORK (dup_userfaultfd() then gives the child a new context).</summary>
    public static bool ChildKeepsCtx(in UffdState s, int p) =>
        s.Pages[p].Ctx != 0 && (s.Ctxs[s.Pages[p].Ctx - 1].Features & UffdCtx.EventFork) != 0;

    /// <summary>The child's vm_flags at page p (0 where nothing is mapped).</summary>
    public ulong ChildVmFlags(in UffdState s, int p) =>
        s.Pages[p].Type == MemType.None ? 0 : design.ForkVma(s.Pages[p], ChildKeepsCtx(s, p)).VmFlags;

    // ---- the rest of the mm -------------------------------------------------------

    /// <summary>
    /// mlock2(MLOCK_ONFAULT) / munlock() over whole pages, as mm/mlock.c does them: -ENOMEM over a
    /// hole; apply_vma_lock_flags() gives each VMA (vm_flags &amp; ~(VM_LOCKED | VM_LOCKONFAULT)) |
    /// VM_LOCKED | VM_LOCKONFAULT (mlock2) or clears both (munlock), and mlock_fixup() leaves a
    /// hugetlbfs VMA alone ("don't set VM_LOCKED or VM_LOCKONFAULT and don't count"). With
    /// MLOCK_ONFAULT nothing is faulted in on the VMAs it locks. What mlock2() then does to a
    /// hugetlbfs range (without VM_LOCKONFAULT on the VMA, __mm_populate() faults its huge pages
    /// in) is <see cref="Mlock2OnFault"/>, where no uffd hook intercepts it; the explorer and the
    /// model-based test do not call mlock2() on hugetlbfs. The ghost <see cref="UffdPage.UserLocked"/> is VM_LOCKED as mlock left it.
    /// </summary>
    public static int Mlock(ref UffdState s, int first, int count, bool on, bool onFault = true)
    {
        for (int p = first; p < first + count; p++) if (s.Pages[p].Type == MemType.None) return -Errno.ENOMEM;
        ulong flags = on ? VmLocked | (onFault ? VmLockonfault : 0) : 0;
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (MemTypes.IsHugetlb(pg.Type)) continue; // mlock_fixup(): is_vm_hugetlb_page(vma) -> goto out
            pg.VmFlags = (pg.VmFlags & ~(VmLocked | VmLockonfault)) | flags;
            pg.UserLocked = (byte)(on ? 1 : 0);
        }
        return 0;
    }

    /// <summary>
    /// mlock2(MLOCK_ONFAULT) as the syscall runs it: <see cref="Mlock"/>, then __mm_populate(),
    /// which populate_vma_page_range() skips on a VMA with VM_LOCKONFAULT and not VM_LOCKED alone
    /// (it has both here) but not on a hugetlbfs VMA, which mlock_fixup() left without either: its
    /// huge pages are faulted in (a write fault on a private writable VMA, a read fault on a shared
    /// one). Only where those faults are normal ones (<see cref="PopulateIsPlain"/> without the
    /// hugetlbfs exclusion): populating through a uffd hook is not modelled.
    /// </summary>
    public int Mlock2OnFault(ref UffdState s, int first, int count)
    {
        int rc = Mlock(ref s, first, count, on: true);
        if (rc != 0) return rc;
        for (int p = first; p < first + count; p++)
        {
            if (!MemTypes.IsHugetlb(s.Pages[p].Type) || s.Pages[p].Pte != UffdPage.PteNone) continue;
            if (Fault(ref s, p, write: (s.Pages[p].VmFlags & VmShared) == 0) != FaultOutcome.Normal)
                throw new InvalidOperationException("mlock2() populating hugetlbfs through a userfaultfd hook is not modelled");
        }
        return 0;
    }

    /// <summary>
    /// mlock() of a range whose faults are all normal ones (no userfaultfd context on it, so no
    /// uffd hook): VM_LOCKED without VM_LOCKONFAULT, then __mm_populate() faults every page in
    /// (populate_vma_page_range(): a write fault on a private writable VMA, a read fault on a
    /// shared one). On a range a userfaultfd could intercept, populate blocks in handle_userfault():
    /// not modelled, so not offered (<see cref="PopulateIsPlain"/>).
    /// </summary>
    public int MlockPopulate(ref UffdState s, int first, int count)
    {
        int rc = Mlock(ref s, first, count, on: true, onFault: false);
        if (rc != 0) return rc;
        for (int p = first; p < first + count; p++)
        {
            if (s.Pages[p].Pte != UffdPage.PteNone) continue;
            if (Fault(ref s, p, write: (s.Pages[p].VmFlags & VmShared) == 0) != FaultOutcome.Normal)
                throw new InvalidOperationException("mlock() populating through a userfaultfd hook is not modelled");
        }
        return 0;
    }

    /// <summary>
    /// Whether populating pages [first, first+count) takes only normal faults: not hugetlbfs (unless
    /// <paramref name="hugetlb"/>: the explorer does not offer mlock there), no context,
    /// no waiter, and no uffd hook on a page it faults in (a design may leave a uffd bit without a context).
    /// </summary>
    public bool PopulateIsPlain(in UffdState s, int first, int count, bool hugetlb = false)
    {
        for (int p = first; p < first + count; p++)
        {
            var pg = s.Pages[p];
            if (pg.Type == MemType.None || (MemTypes.IsHugetlb(pg.Type) && !hugetlb) || pg.Ctx != 0 || pg.Waiter != 0) return false;
            if (pg.Pte == UffdPage.PteNone && design.FaultReason(pg.Type, pg.VmFlags, pg.Cached != 0) != 0) return false;
        }
        return true;
    }

    /// <summary>A read or write fault at page <paramref name="p"/>: handle_mm_fault() down to the uffd hooks.</summary>
    public FaultOutcome Fault(ref UffdState s, int p, bool write)
    {
        ref var pg = ref s.Pages[p];
        FaultOutcome r;
        if (pg.Pte != UffdPage.PteNone)
        {
            // do_wp_page(): if (userfaultfd_pte_wp(vma, pte)) return handle_userfault(vmf, VM_UFFD_WP);
            r = write && pg.Pte == UffdPage.PteUffdWp && (pg.VmFlags & VmUffdWp) != 0
                ? HandleUserfault(ref s, p, VmUffdWp, write)
                : FaultOutcome.Normal;
        }
        else
        {
            ulong reason = design.FaultReason(pg.Type, pg.VmFlags, pg.Cached != 0);
            // hugetlb_no_page() found the page with find_lock_page(), which takes a reference.
            if ((reason & design.VmUffdMinor) != 0 && MemTypes.IsHugetlb(pg.Type) && !design.MinorFaultPutsPage)
                Break(ref s, UffdInvariant.NoPageLeak, $"hugetlb_no_page() unlocks page {p}'s huge page but keeps the reference find_lock_page() took, then goes to handle_userfault(VM_UFFD_MINOR)");
            if (reason != 0) r = HandleUserfault(ref s, p, reason, write);
            else
            {
                // The whole huge page on hugetlbfs (hugetlb_no_page() maps one huge page).
                int first = UnitStart(s, p), unit = MemTypes.Unit(pg.Type);
                for (int q = first; q < first + unit; q++)
                {
                    s.Pages[q].Pte = UffdPage.PtePresent;
                    if (MemTypes.FaultFillsPageCache(s.Pages[q].Type)) s.Pages[q].Cached = 1;
                }
                r = FaultOutcome.Normal;
            }
        }
        return r;
    }

    /// <summary>
    /// userfault_msg(): the message's address for a fault at the start of model page p (as model
    /// address): vmf->address, the page, or on hugetlbfs its huge page's start (hugetlb_fault() sets
    /// vmf.address to address &amp; huge_page_mask()); with UFFD_FEATURE_EXACT_ADDRESS vmf->real_address,
    /// the address touched.
    /// </summary>
    public static ulong MessageAddress(in UffdState s, int p, bool exactAddress) =>
        (ulong)(exactAddress ? p : UnitStart(s, p)) * PageSize;

    /// <summary>The register modes a reason stands for.</summary>
    public ulong ModesOf(ulong reason) =>
        ((reason & VmUffdMissing) != 0 ? UffdioRegisterModeMissing : 0) |
        ((reason & VmUffdWp) != 0 ? UffdioRegisterModeWp : 0) |
        ((reason & design.VmUffdMinor) != 0 ? UffdioRegisterModeMinor : 0);

    /// <summary>handle_userfault(vmf, reason): the ghost checks, then SIGBUS or a message and a blocked thread.</summary>
    private FaultOutcome HandleUserfault(ref UffdState s, int p, ulong reason, bool write)
    {
        ref var pg = ref s.Pages[p];
        if (BitOperations.PopCount(reason) != 1 || (reason & ~design.VmUffdFlags) != 0)
            Break(ref s, UffdInvariant.OneReasonBit, $"handle_userfault(reason = {Hex(reason)}) with __VM_UFFD_FLAGS = {Hex(design.VmUffdFlags)}");
        ulong modes = ModesOf(reason);
        if (pg.Ctx == 0 || modes == 0 || (pg.RegModes & modes) != modes)
            Break(ref s, UffdInvariant.RegisteredFault, $"page {p} faults into handle_userfault(reason = {Hex(reason)}) with {(pg.Ctx == 0 ? "no context" : $"uffd{pg.Ctx} registered for modes {Hex(pg.RegModes)}")}; vm_flags = {Hex(pg.VmFlags)}");

        if (pg.Ctx == 0) return FaultOutcome.Sigbus; // ctx = vma->vm_userfaultfd_ctx.ctx; if (!ctx) goto out;
        ref var c = ref s.Ctxs[pg.Ctx - 1];
        if (c.State != UffdCtx.Ready || (c.Features & UffdCtx.Sigbus) != 0) return FaultOutcome.Sigbus;

        ulong expected = (write ? UffdPagefaultFlagWrite : 0) |
                         ((reason & VmUffdWp) != 0 ? UffdPagefaultFlagWp : 0) |
                         ((reason & design.VmUffdMinor) != 0 ? UffdPagefaultFlagMinor : 0);
        if (design.MessageFlags(reason, write) is var got && got != expected)
            Break(ref s, UffdInvariant.MessageFlags, $"the message for reason {Hex(reason)} ({(write ? "write" : "read")}) has flags {Hex(got)}, expected {Hex(expected)}");
        pg.Waiter = (byte)(modes | (ulong)pg.Ctx << 4);
        return FaultOutcome.Blocked;
    }

    /// <summary>The first model page of the unit (<see cref="MemTypes.Unit"/>) holding page p: its huge page on hugetlbfs.</summary>
    public static int UnitStart(in UffdState s, int p) => p / MemTypes.Unit(s.Pages[p].Type) * MemTypes.Unit(s.Pages[p].Type);

    /// <summary>What UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_CONTINUE ask mfill_atomic() to do.</summary>
    public enum Mfill : byte { Copy, Zeropage, Continue }

    /// <summary>validate_range() of fs/userfaultfd.c: page aligned, not empty, below TASK_SIZE (the model's four pages).</summary>
    private static bool ValidRange(ulong start, ulong len) =>
        len != 0 && (start & (PageSize - 1)) == 0 && (len & (PageSize - 1)) == 0 &&
        start < UffdBounds.Pages * PageSize && len <= UffdBounds.Pages * PageSize - start;

    /// <summary>
    /// UFFDIO_COPY / ZEROPAGE / CONTINUE of [dst, dst+len) through userfaultfd <paramref name="ctx"/>:
    /// -EINVAL before UFFDIO_API or for a range validate_range() refuses; -ENOENT unless one VMA
    /// with a context (any userfaultfd's: the check enforces register's VM_MAYWRITE test) holds the
    /// whole range. On hugetlbfs (mfill_atomic_hugetlb()) ZEROPAGE is -EINVAL (no zero huge page)
    /// and dst and len must be huge-page aligned (-EINVAL); elsewhere CONTINUE needs shmem (-EINVAL
    /// on anonymous memory). Then unit by unit (a huge page on hugetlbfs): COPY / ZEROPAGE -EEXIST on
    /// a mapped PTE, or on a page already in the cache of a shared mapping (the page cache insert
    /// fails); CONTINUE -EFAULT when the page is not in the cache, then -EEXIST on a mapped PTE. The
    /// ioctl returns the error when nothing was done, 0 when all was, -EAGAIN when a part was, and
    /// wakes the faults of this userfaultfd in what was done (wake_userfault()).
    /// </summary>
    public static int MfillAtomic(ref UffdState s, int ctx, ulong dst, ulong len, Mfill mode)
    {
        if (s.Ctxs[ctx - 1].State != UffdCtx.Ready) return -Errno.EINVAL;
        if (!ValidRange(dst, len)) return -Errno.EINVAL;
        int first = (int)(dst / PageSize), count = (int)(len / PageSize);
        var vma = s.Pages[first];
        if (vma.Type == MemType.None || vma.Ctx == 0) return -Errno.ENOENT;
        for (int p = first + 1; p < first + count; p++) if (!SameVma(s, p - 1, p)) return -Errno.ENOENT;
        if (MemTypes.IsHugetlb(vma.Type))
        {
            if (mode == Mfill.Zeropage) return -Errno.EINVAL;
            if (first % HugePages != 0 || count % HugePages != 0) return -Errno.EINVAL;
        }
        else if (mode == Mfill.Continue && !MemTypes.IsShmem(vma.Type)) return -Errno.EINVAL;
        int unit = MemTypes.Unit(vma.Type), done = 0, err = 0;
        for (int u = first; u < first + count && err == 0; u += unit)
        {
            var pg = s.Pages[u];
            if (mode == Mfill.Continue && pg.Cached == 0) err = -Errno.EFAULT;
            else if (pg.Pte != UffdPage.PteNone) err = -Errno.EEXIST;
            else if (mode != Mfill.Continue && MemTypes.IsShared(pg.Type) && pg.Cached != 0) err = -Errno.EEXIST;
            if (err != 0) break;
            for (int q = u; q < u + unit; q++)
            {
                s.Pages[q].Pte = UffdPage.PtePresent;
                if (mode != Mfill.Continue && MemTypes.IsShared(pg.Type)) s.Pages[q].Cached = 1;
            }
            done += unit;
        }
        if (done == 0) return err;
        WakeRange(ref s, ctx, first, done);
        return done == count ? 0 : -Errno.EAGAIN;
    }

    /// <summary>wake_userfault(ctx, range): the faults of ctx waiting in the range retry; those whose PTE is now mapped finish.</summary>
    private static void WakeRange(ref UffdState s, int ctx, int first, int count)
    {
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (pg.Waiter != 0 && pg.WaiterCtx == ctx && pg.Pte == UffdPage.PtePresent) pg.Waiter = 0;
        }
    }

    /// <summary>UFFDIO_COPY of page p's unit (its huge page on hugetlbfs) through the page's own userfaultfd.</summary>
    public static int Copy(ref UffdState s, int p) => MfillUnit(ref s, p, Mfill.Copy);

    /// <summary>UFFDIO_CONTINUE of page p's unit through the page's own userfaultfd.</summary>
    public static int Continue(ref UffdState s, int p) => MfillUnit(ref s, p, Mfill.Continue);

    private static int MfillUnit(ref UffdState s, int p, Mfill mode)
    {
        int ctx = s.Pages[p].Ctx;
        if (ctx == 0) return -Errno.ENOENT;
        return MfillAtomic(ref s, ctx, (ulong)UnitStart(s, p) * PageSize, (ulong)MemTypes.Unit(s.Pages[p].Type) * PageSize, mode);
    }

    /// <summary>
    /// UFFDIO_WRITEPROTECT of [start, start+len) through userfaultfd <paramref name="ctx"/>
    /// (mwriteprotect_range()): -EINVAL before UFFDIO_API or for a range validate_range()
    /// refuses; then VMA by VMA: -ENOENT unless it has VM_UFFD_WP (whichever userfaultfd
    /// registered it), -EINVAL on hugetlbfs unless start and len are huge-page aligned; the
    /// VMAs before keep what was done to them. A present PTE gets or loses the uffd-wp bit; a PTE
    /// that is none is left alone: on anonymous memory that is what the kernel does without
    /// UFFD_FEATURE_WP_UNPOPULATED (which the model does not have); on shmem and hugetlbfs the
    /// kernel installs a uffd-wp PTE marker there, which the model does not have either (the
    /// explorer offers the call only on a mapped page, and `differ uffd` makes it there only on
    /// anonymous memory). Unprotecting wakes the range's faults of this userfaultfd. Found by
    /// `differ uffd` (issue 19): the model returned -EINVAL for a VMA not registered WP and
    /// -ENOENT for a none PTE.
    /// </summary>
    public static int WriteProtect(ref UffdState s, int ctx, ulong start, ulong len, bool protect)
    {
        if (s.Ctxs[ctx - 1].State != UffdCtx.Ready) return -Errno.EINVAL;
        if (!ValidRange(start, len)) return -Errno.EINVAL;
        int first = (int)(start / PageSize), count = (int)(len / PageSize);
        for (int p = first; p < first + count; p++)
        {
            ref var pg = ref s.Pages[p];
            if (pg.Type == MemType.None) continue;
            if ((pg.VmFlags & VmUffdWp) == 0) return -Errno.ENOENT; // if (!userfaultfd_wp(dst_vma)) err = -ENOENT
            if (MemTypes.IsHugetlb(pg.Type) && (first % HugePages != 0 || count % HugePages != 0)) return -Errno.EINVAL;
            if (pg.Pte != UffdPage.PteNone) pg.Pte = protect ? UffdPage.PteUffdWp : UffdPage.PtePresent;
        }
        if (!protect) WakeRange(ref s, ctx, first, count);
        return 0;
    }

    /// <summary>UFFDIO_WRITEPROTECT of page p's unit (its huge page on hugetlbfs) through the page's own userfaultfd, or -ENOENT without one.</summary>
    public static int WriteProtect(ref UffdState s, int p, bool protect)
    {
        int ctx = s.Pages[p].Ctx;
        if (ctx == 0) return -Errno.ENOENT;
        return WriteProtect(ref s, ctx, (ulong)UnitStart(s, p) * PageSize, (ulong)MemTypes.Unit(s.Pages[p].Type) * PageSize, protect);
    }
}
