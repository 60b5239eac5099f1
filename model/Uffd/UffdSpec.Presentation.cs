using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Model.Kernel;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>How the uffd specification's steps and states read in a trace.</summary>
public sealed partial class UffdSpec
{
    // ---- presentation ------------------------------------------------------------

    private static string Hex(ulong v) => "0x" + v.ToString("x4", CultureInfo.InvariantCulture);
    private static string RangeText(int r) => $"[{Hex(Ranges[r].Start)}, {Hex(Ranges[r].Start + Ranges[r].Len)})";
    private static string ModeText(ulong m) => string.Join("|",
        new[] { (UffdioRegisterModeMissing, "MISSING"), (UffdioRegisterModeWp, "WP"), (UffdioRegisterModeMinor, "MINOR") }
            .Where(x => (m & x.Item1) != 0).Select(x => "MODE_" + x.Item2));

    public string Describe(in UffdState s, in UffdAction a)
    {
        var t = s;
        int rc = Apply(ref t, a);
        string ret = t.Bug != 0 && s.Bug == 0
            ? $"BUG_ON(!!ctx ^ !!(vm_flags & __VM_UFFD_FLAGS)) on page {t.BugPage}'s VMA: kernel BUG"
            : Errno.Name(rc);
        ulong vma = (ulong)a.Range * 2 * PageSize, page = (ulong)a.Page * PageSize;
        return a.Op switch
        {
            UffdOp.Api => $"uffd{a.Ctx}: ioctl(UFFDIO_API, {{api: UFFD_API, features: {FeatureText(FeatureChoices[a.Choice])}}}) = {ret}",
            UffdOp.Fork => "fork(): dup_mmap() and dup_userfaultfd() make the child's VMAs",
            UffdOp.Mremap => $"mremap({Hex(vma)}, {Hex(2 * PageSize)}, {Hex(2 * PageSize)}, MREMAP_MAYMOVE | MREMAP_FIXED, elsewhere) = {ret}: mremap_userfaultfd_prep()",
            UffdOp.Wake => $"uffd{a.Ctx}: ioctl(UFFDIO_WAKE, {Hex(page)}) = {ret}",
            UffdOp.Register => $"uffd{a.Ctx}: ioctl(UFFDIO_REGISTER, {RangeText(a.Range)}, {ModeText(Modes[a.Choice])}) = {ret}",
            UffdOp.Unregister => $"uffd{a.Ctx}: ioctl(UFFDIO_UNREGISTER, {RangeText(a.Range)}) = {ret}",
            UffdOp.Close => $"close(uffd{a.Ctx}): userfaultfd_release(){(t.Bug != 0 ? ": " + ret : "")}",
            UffdOp.CloseChild => $"the monitor closes the child's userfaultfd (from UFFD_EVENT_FORK): userfaultfd_release() of the child's mm: {ret}",
            UffdOp.Mlock => $"mlock2({Hex(vma)}, {Hex(2 * PageSize)}, MLOCK_ONFAULT) = {ret}",
            UffdOp.MlockPopulate => $"mlock({Hex(vma)}, {Hex(2 * PageSize)}) = {ret}, pages faulted in",
            UffdOp.Munlock => $"munlock({Hex(vma)}, {Hex(2 * PageSize)}) = {ret}",
            UffdOp.Fault => $"{(a.Write ? "write" : "read")} fault at {Hex(page)}: {FaultText((UffdKernel.FaultOutcome)rc, s, t, a.Page)}",
            UffdOp.Copy => $"ioctl(UFFDIO_COPY, {Hex(page)}) = {ret}",
            UffdOp.Continue => $"ioctl(UFFDIO_CONTINUE, {Hex(page)}) = {ret}",
            UffdOp.WriteProtect => $"ioctl(UFFDIO_WRITEPROTECT, {Hex(page)}, {(a.Write ? "MODE_WP" : "0")}) = {ret}",
            _ => a.ToString(),
        };
    }

    public string? Explain(in UffdState before, UffdAction? last, in UffdState after, int property)
    {
        var id = (UffdInvariant)property;
        if (id == UffdInvariant.UffdBitsDisjoint && OverlappingFlag(Design) is { } other)
            return $"VM_UFFD_MINOR = {Hex(Design.VmUffdMinor)} shares its bit with {other}";
        if (id == UffdInvariant.NoKernelBug && after.Bug != 0)
        {
            var bad = after.Pages[after.BugPage];
            if (after.Bug == UffdState.BugChildRelease)
                return $"{UffdState.BugWalk(after.Bug)} visits the child's copy of page {after.BugPage}'s VMA, which fork() left with a context and no uffd bit: " +
                       "BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags & __VM_UFFD_FLAGS)) fires";
            return $"{UffdState.BugWalk(after.Bug)} visits page {after.BugPage}'s VMA with ctx = {(bad.Ctx == 0 ? "NULL" : $"uffd{bad.Ctx}")} " +
                   $"and vm_flags = {FlagText(bad.VmFlags)}: BUG_ON(!!vma->vm_userfaultfd_ctx.ctx ^ !!(vma->vm_flags & __VM_UFFD_FLAGS)) fires";
        }
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = after.Pages[p];
            if (pg.Type == MemType.None) continue;
            if (id == UffdInvariant.CtxIffUffdBit && (pg.Ctx != 0) != ((pg.VmFlags & Design.VmUffdFlags) != 0))
                return $"page {p}: ctx = {(pg.Ctx == 0 ? "NULL" : $"uffd{pg.Ctx}")} but vm_flags = {FlagText(pg.VmFlags)}";
            if (id == UffdInvariant.MlockSurvives && (pg.UserLocked != 0) != ((pg.VmFlags & VmLocked) != 0))
                return $"page {p}: the user {(pg.UserLocked != 0 ? "mlocked it" : "never mlocked it")}, but vm_flags = {FlagText(pg.VmFlags)}";
            if (id == UffdInvariant.NoStrandedFault && pg.Waiter != 0 && after.Ctxs[pg.WaiterCtx - 1].State != UffdCtx.Ready)
                return $"page {p}: a thread waits on uffd{pg.WaiterCtx}, which is {(after.Ctxs[pg.WaiterCtx - 1].State == UffdCtx.Released ? "closed" : "not ready")}: nobody will wake it";
        }
        if (last is not { } a) return null;
        var s = before;
        return _k.Reasons.Explain(property, () => Next(s, a));
    }

    private static string FaultText(UffdKernel.FaultOutcome o, in UffdState before, in UffdState after, int p) => o switch
    {
        UffdKernel.FaultOutcome.Normal => "normal fault, page mapped",
        UffdKernel.FaultOutcome.Blocked => $"handle_userfault({ReasonText(after.Pages[p].WaiterModes)}): message queued, thread waits",
        UffdKernel.FaultOutcome.Sigbus => before.Pages[p].Ctx == 0 ? "handle_userfault() without a context: SIGBUS" : "handle_userfault(): SIGBUS",
        _ => "?",
    };

    private static string FeatureText(ulong f) => f == 0 ? "0" : string.Join("|",
        new[] { (UffdFeatureSigbus, "SIGBUS"), (UffdFeatureEventFork, "EVENT_FORK"), (UffdFeatureEventRemap, "EVENT_REMAP") }
            .Where(x => (f & x.Item1) != 0).Select(x => "UFFD_FEATURE_" + x.Item2));

    private static string ReasonText(byte modes) => ModeText(modes).Replace("MODE_", "VM_UFFD_", StringComparison.Ordinal);

    public void Render(in UffdState s, List<TraceVar> into)
    {
        // One variable per VMA: maximal runs of pages with equal type, flags and context.
        for (int p = 0; p < UffdBounds.Pages;)
        {
            int q = p + 1;
            while (q < UffdBounds.Pages && SameVma(s.Pages[p], s.Pages[q])) q++;
            var pg = s.Pages[p];
            into.Add(new($"vma[{Hex((ulong)p * PageSize)}-{Hex((ulong)q * PageSize)})", TraceValue.Record(
                ("type", TraceValue.Of(MemTypes.Name(pg.Type))),
                ("vm_flags", TraceValue.Of(FlagText(pg.VmFlags))),
                ("ctx", TraceValue.Of(pg.Ctx == 0 ? "NULL" : $"uffd{pg.Ctx}")))));
            p = q;
        }
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = s.Pages[p];
            into.Add(new($"page{p}", TraceValue.Record(
                ("pte", TraceValue.Of(pg.Pte switch { UffdPage.PtePresent => "present", UffdPage.PteUffdWp => "present, uffd-wp", _ => "none" })),
                ("page_cache", TraceValue.Of(pg.Cached != 0)),
                ("waiter", TraceValue.Of(pg.Waiter == 0 ? "-" : $"{ReasonText(pg.WaiterModes)} on uffd{pg.WaiterCtx}")),
                ("mlocked_by_user", TraceValue.Of(pg.UserLocked != 0)))));
        }
        for (int c = 0; c < Bounds.Contexts; c++)
            into.Add(new($"uffd{c + 1}", TraceValue.Of(s.Ctxs[c].State switch
            {
                UffdCtx.Open => "open (no UFFDIO_API yet)",
                UffdCtx.Ready => s.Ctxs[c].Features == 0 ? "ready" : "ready, " + FeatureText(
                    ((s.Ctxs[c].Features & UffdCtx.Sigbus) != 0 ? UffdFeatureSigbus : 0) |
                    ((s.Ctxs[c].Features & UffdCtx.EventFork) != 0 ? UffdFeatureEventFork : 0) |
                    ((s.Ctxs[c].Features & UffdCtx.EventRemap) != 0 ? UffdFeatureEventRemap : 0)),
                _ => "closed",
            })));
        if (s.ChildBad != 0) into.Add(new("child", TraceValue.Of($"forked; its copy of page {s.ChildBad - 1}'s VMA has a context and no uffd bit")));
        if (s.Bug != 0) into.Add(new("kernel", TraceValue.Of($"BUG() in {UffdState.BugWalk(s.Bug)}, page {s.BugPage}")));
    }

    private static bool SameVma(in UffdPage a, in UffdPage b) => a.Type == b.Type && a.VmFlags == b.VmFlags && a.Ctx == b.Ctx;

    /// <summary>vm_flags as a number and the bits that matter here by name (a shared bit shows both names).</summary>
    private string FlagText(ulong f)
    {
        var names = new List<string>();
        if ((f & VmUffdMissing) != 0) names.Add("VM_UFFD_MISSING");
        if ((f & VmUffdWp) != 0) names.Add("VM_UFFD_WP");
        if ((f & Design.VmUffdMinor) != 0) names.Add("VM_UFFD_MINOR");
        if ((f & VmLocked) != 0) names.Add("VM_LOCKED");
        if ((f & VmLockonfault) != 0) names.Add("VM_LOCKONFAULT");
        if ((f & VmShared) != 0) names.Add("VM_SHARED");
        if ((f & VmHugetlb) != 0) names.Add("VM_HUGETLB");
        return "0x" + f.ToString("x", CultureInfo.InvariantCulture) + (names.Count > 0 ? " (" + string.Join("|", names) + ")" : "");
    }
}
