using Multikernel.Model.Kernel;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Uffd;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Uffd;

/// <summary>
/// What `differ uffd` found in mremap, fork and UFFDIO_WRITEPROTECT (issue 19), each as a fixed
/// sequence on the running kernel beside the model: the model's answer and bits must be the
/// kernel's. Each also holds the former model's answer, which the kernel refutes.
/// </summary>
[Collection("kernel uffd")]
public class KernelStepTests
{
    private static readonly UffdDesign D = UffdDesigns.Reference;

    private sealed class Both : IDisposable
    {
        public UffdState S;
        public readonly UffdKernel K = new(D);
        public readonly KernelMm Mm;

        public Both(MemType a, MemType b)
        {
            var init = new List<UffdState>();
            new UffdSpec(D, new UffdBounds { Layouts = [(a, b)], Contexts = 2 }).Initial(init);
            S = init[0];
            Mm = new KernelMm(a, b, UffdDiff.HugePages().Size);
        }

        public void Api(int ctx, ulong features)
        {
            Assert.Equal(0, K.Api(ref S, ctx, UffdApi, features));
            Assert.Equal(0, Mm.Api(ctx, features));
        }

        public int Register(int ctx, int first, int count, ulong mode)
        {
            int model = K.Register(ref S, ctx, (ulong)first * PageSize, (ulong)count * PageSize, mode);
            Assert.Equal(model, Mm.Register(ctx, (ulong)first * PageSize, (ulong)count * PageSize, mode));
            return model;
        }

        /// <summary>The model's uffd and lock bits at every page against the kernel's smaps.</summary>
        public void Agree()
        {
            var flags = Mm.PageFlags();
            for (int p = 0; p < UffdBounds.Pages; p++)
                Assert.Equal(string.Join(' ', Bits(S.Pages[p].VmFlags).Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)), string.Join(' ', flags[p].Where(f => f is "um" or "uw" or "ui" or "lo").Order(StringComparer.Ordinal)));
        }

        public void Dispose() => Mm.Dispose();
    }

    private static string Bits(ulong vmFlags) => string.Join(' ', new[]
    {
        (vmFlags & VmLocked) != 0 ? "lo" : null, (vmFlags & VmUffdMissing) != 0 ? "um" : null,
        (vmFlags & D.VmUffdMinor) != 0 ? "ui" : null, (vmFlags & VmUffdWp) != 0 ? "uw" : null,
    }.Where(x => x != null));

    [KernelUffdFact]
    public void Mremap_of_part_of_a_registered_vma_drops_only_the_moved_part()
    {
        using var b = new Both(MemType.Anon, MemType.Anon);
        b.Api(1, 0);
        Assert.Equal(0, b.Register(1, 0, 4, UffdioRegisterModeWp));
        Assert.Equal(0, b.K.Mremap(ref b.S, 0, 2));
        var (rc, events) = b.Mm.Mremap(0, 2);
        Assert.Equal(0, rc);
        Assert.Equal("none", events);
        b.Agree();
        Assert.Equal(0UL, b.S.Pages[0].VmFlags & VmUffdWp);
        Assert.NotEqual(0UL, b.S.Pages[2].VmFlags & VmUffdWp);
    }

    [KernelUffdFact]
    public void Mremap_with_event_remap_keeps_the_registration_and_sends_one_event_a_move()
    {
        using var b = new Both(MemType.ShmemShared, MemType.Anon);
        b.Api(2, UffdFeatureEventRemap);
        Assert.Equal(0, b.Register(2, 0, 2, UffdioRegisterModeMinor));
        Assert.Equal(2, UffdKernel.RemapEventCtx(b.S, 0, 2));
        Assert.Equal(0, b.K.Mremap(ref b.S, 0, 2));
        var (rc, events) = b.Mm.Mremap(0, 2);
        Assert.Equal(0, rc);
        Assert.Equal("uffd2 REMAP, uffd2 REMAP", events); // away and back
        b.Agree();
        Assert.Equal(2, b.S.Pages[0].Ctx);
    }

    [KernelUffdFact]
    public void Mremap_over_several_vmas_moves_them_unless_one_is_registered()
    {
        // 6.18 moves a range over several VMAs (the model refused it, -EFAULT, as 5.11 does) ...
        using var b = new Both(MemType.ShmemShared, MemType.Anon);
        Assert.Equal(0, UffdKernel.Mlock(ref b.S, 0, 1, on: true));
        Assert.Equal(0, Multikernel.Impl.Uffd.Linux.Libc.Mlock2((nint)b.Mm.Address(0), b.Mm.Length(PageSize), Multikernel.Impl.Uffd.Linux.Libc.MlockOnfault));
        b.Agree();
        Assert.Equal(0, b.K.Mremap(ref b.S, 0, 2));
        Assert.Equal(0, b.Mm.Mremap(0, 2).Rc);
        b.Agree();
        Assert.Equal(-Errno.EFAULT, new UffdKernel(UffdDesigns.V5).Mremap(ref b.S, 0, 2));
        // ... and refuses one with a userfaultfd context (the VMAs before it stay moved).
        b.Api(1, UffdFeatureEventRemap);
        Assert.Equal(0, b.Register(1, 1, 1, UffdioRegisterModeMissing));
        Assert.Equal(-Errno.EFAULT, b.K.Mremap(ref b.S, 0, 2));
        var (rc, events) = b.Mm.Mremap(0, 2);
        Assert.Equal(-Errno.EFAULT, rc);
        Assert.Equal("none", events);
        b.Agree();
    }

    [KernelUffdFact]
    public void Fork_drops_the_uffd_bits_without_event_fork_and_the_lock_bit_always()
    {
        using var b = new Both(MemType.Anon, MemType.ShmemShared);
        b.Api(1, 0);
        b.Api(2, UffdFeatureEventFork);
        Assert.Equal(0, b.Register(1, 0, 2, UffdioRegisterModeMissing | UffdioRegisterModeWp));
        Assert.Equal(0, b.Register(2, 2, 2, UffdioRegisterModeMinor));
        Assert.Equal(0, UffdKernel.Mlock(ref b.S, 2, 2, on: true));
        Assert.Equal(0, b.Mm.Mlock2OnFault(1));
        var (rc, child, events) = b.Mm.Fork();
        Assert.Equal(0, rc);
        Assert.Equal("uffd2 FORK", events);
        for (int p = 0; p < UffdBounds.Pages; p++)
            Assert.Equal(Bits(b.K.ChildVmFlags(b.S, p)), string.Join(' ', child[p].Where(f => f is "um" or "uw" or "ui" or "lo").Order(StringComparer.Ordinal)));
        Assert.Equal("", Bits(b.K.ChildVmFlags(b.S, 0)));
        Assert.Equal("ui", Bits(b.K.ChildVmFlags(b.S, 2)));
        b.Agree(); // the parent keeps everything
    }

    [KernelUffdFact]
    public void Writeprotect_is_enoent_off_a_wp_vma_and_leaves_a_none_pte_of_anonymous_memory_alone()
    {
        using var b = new Both(MemType.Anon, MemType.Anon);
        b.Api(1, 0);
        Assert.Equal(0, b.Register(1, 0, 2, UffdioRegisterModeMissing));
        // The model said -EINVAL (not registered WP) and -ENOENT (PTE none); the kernel says -ENOENT and 0.
        Assert.Equal(-Errno.ENOENT, UffdKernel.WriteProtect(ref b.S, 0, protect: true));
        Assert.Equal(-Errno.ENOENT, b.Mm.WriteProtect(1, 0, protect: true));
        Assert.Equal(0, b.Register(1, 2, 2, UffdioRegisterModeWp));
        Assert.Equal(0, UffdKernel.WriteProtect(ref b.S, 2, protect: true));
        Assert.Equal(0, b.Mm.WriteProtect(1, 2, protect: true));
        Assert.Equal(UffdPage.PteNone, b.S.Pages[2].Pte);
        // Nothing protected: a write is a normal fault.
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 2, write: true));
        Assert.False(b.Mm.Fault(2, write: true, ctx: 1).Blocked);
    }

    [KernelUffdFact]
    public void A_write_to_a_protected_page_sends_wp_and_unregister_resets_the_protection()
    {
        using var b = new Both(MemType.Anon, MemType.Anon);
        b.Api(1, 0);
        Assert.Equal(0, b.Register(1, 0, 2, UffdioRegisterModeWp));
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 0, write: true));
        Assert.False(b.Mm.Fault(0, write: true, ctx: 1).Blocked);
        Assert.Equal(0, UffdKernel.WriteProtect(ref b.S, 0, protect: true));
        Assert.Equal(0, b.Mm.WriteProtect(1, 0, protect: true));
        // Protected: the write blocks with WP | WRITE; UFFDIO_WRITEPROTECT (unprotect) resolves it.
        Assert.Equal(UffdKernel.FaultOutcome.Blocked, b.K.Fault(ref b.S, 0, write: true));
        var seen = b.Mm.Fault(0, write: true, ctx: 1);
        Assert.True(seen.Blocked && seen.Finished, seen.ToString());
        Assert.Equal(UffdPagefaultFlagWp | UffdPagefaultFlagWrite, seen.Flags);
        Assert.Equal(D.MessageFlags(VmUffdWp, write: true), seen.Flags);
        Assert.Equal(0, UffdKernel.WriteProtect(ref b.S, 0, protect: false));
        // Protect again, unregister, register WP again: userfaultfd_clear_vma() reset the PTE, so the write is normal.
        Assert.Equal(0, UffdKernel.WriteProtect(ref b.S, 0, protect: true));
        Assert.Equal(0, b.Mm.WriteProtect(1, 0, protect: true));
        Assert.Equal(0, b.K.Unregister(ref b.S, 1, 0, 2 * PageSize));
        Assert.Equal(0, b.Mm.Unregister(1, 0, 2 * PageSize));
        Assert.Equal(0, b.Register(1, 0, 2, UffdioRegisterModeWp));
        Assert.Equal(UffdPage.PtePresent, b.S.Pages[0].Pte);
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 0, write: true));
        Assert.False(b.Mm.Fault(0, write: true, ctx: 1).Blocked);
        b.Agree();
    }

    /// <summary>
    /// hugetlbfs faults and their resolution, a huge page at a time (issue 19), on a shared hugetlbfs VMA
    /// whose huge page starts cached (pages 0-1) and a private one (pages 2-3). The former model, which
    /// took each half of a huge page as a page of its own, answered 0 to the half-huge-page UFFDIO_COPY,
    /// faulted page 2 again after page 3 was resolved, and gave page 3's address in the message.
    /// </summary>
    [KernelHugetlbFact]
    public void Hugetlbfs_faults_and_fills_go_a_huge_page_at_a_time()
    {
        using var pages = HugePageReservation.Ensure();
        using var b = new Both(MemType.HugetlbShared, MemType.HugetlbPrivate);
        b.Api(1, 0);
        Assert.Equal(0, b.Register(1, 0, 2, UffdioRegisterModeMissing | UffdioRegisterModeMinor));
        Assert.Equal(0, b.Register(1, 2, 2, UffdioRegisterModeMissing));
        int Fill(int first, int count, UffdKernel.Mfill mode)
        {
            int model = UffdKernel.MfillAtomic(ref b.S, 1, (ulong)first * PageSize, (ulong)count * PageSize, mode);
            Assert.Equal(model, b.Mm.Mfill(1, (ulong)first * PageSize, (ulong)count * PageSize, mode));
            return model;
        }
        // Half a huge page, and ZEROPAGE (no zero huge page): -EINVAL, nothing done.
        Assert.Equal(-Errno.EINVAL, Fill(2, 1, UffdKernel.Mfill.Copy));
        Assert.Equal(-Errno.EINVAL, Fill(2, 2, UffdKernel.Mfill.Zeropage));
        // A read at page 3 (the second half): one MISSING message at the huge page's start; UFFDIO_COPY of the huge page.
        Assert.Equal(UffdKernel.FaultOutcome.Blocked, b.K.Fault(ref b.S, 3, write: false));
        var seen = b.Mm.Fault(3, write: false, ctx: 1);
        Assert.True(seen.Blocked && seen.Finished, seen.ToString());
        Assert.Equal(0UL, seen.Flags);
        Assert.Equal(UffdKernel.MessageAddress(b.S, 3, exactAddress: false), seen.Address);
        Assert.Equal(2 * PageSize, seen.Address);
        Assert.Equal(0, UffdKernel.Copy(ref b.S, 3));
        // The whole huge page is there: page 2 faults normally; a private huge page is not cached, so CONTINUE is -EFAULT.
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 2, write: true));
        Assert.False(b.Mm.Fault(2, write: true, ctx: 1).Blocked);
        Assert.Equal(-Errno.EFAULT, Fill(2, 2, UffdKernel.Mfill.Continue));
        Assert.Equal(-Errno.EEXIST, Fill(2, 2, UffdKernel.Mfill.Copy));
        // The shared huge page is cached: a fault at page 1 is a MINOR one at page 0; CONTINUE maps it; COPY is then -EEXIST.
        Assert.Equal(UffdKernel.FaultOutcome.Blocked, b.K.Fault(ref b.S, 1, write: false));
        seen = b.Mm.Fault(1, write: false, ctx: 1);
        Assert.True(seen.Blocked && seen.Finished, seen.ToString());
        Assert.Equal(UffdPagefaultFlagMinor, seen.Flags);
        Assert.Equal(0UL, seen.Address);
        Assert.Equal(0, UffdKernel.Continue(ref b.S, 1));
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 0, write: false));
        Assert.False(b.Mm.Fault(0, write: false, ctx: 1).Blocked);
        Assert.Equal(-Errno.EEXIST, Fill(0, 2, UffdKernel.Mfill.Copy));
        b.Agree();
    }

    /// <summary>
    /// An unregister whose end splits a huge page is -EINVAL, but userfaultfd_clear_vma() has already
    /// reset the uffd-wp bit of that huge PTE: the write that follows is a normal fault (found by
    /// `differ uffd --seed 7`; the former model kept the protection and expected a WP message).
    /// </summary>
    [KernelHugetlbFact]
    public void A_refused_hugetlbfs_unregister_has_reset_the_write_protection()
    {
        using var pages = HugePageReservation.Ensure();
        using var b = new Both(MemType.ShmemShared, MemType.HugetlbPrivate);
        Assert.Equal(0, b.K.MlockPopulate(ref b.S, 2, 2));
        Assert.Equal(0, b.Mm.Mlock(1));
        b.Api(1, 0);
        Assert.Equal(0, b.Register(1, 2, 2, UffdioRegisterModeWp));
        Assert.Equal(0, UffdKernel.WriteProtect(ref b.S, 1, 2 * PageSize, 2 * PageSize, protect: true));
        Assert.Equal(0, b.Mm.WriteProtect(1, 2 * PageSize, 2 * PageSize, protect: true));
        Assert.Equal(-Errno.EINVAL, b.K.Unregister(ref b.S, 1, 2 * PageSize, PageSize));
        Assert.Equal(-Errno.EINVAL, b.Mm.Unregister(1, 2 * PageSize, PageSize));
        Assert.Equal(UffdPage.PtePresent, b.S.Pages[2].Pte);
        Assert.Equal(UffdKernel.FaultOutcome.Normal, b.K.Fault(ref b.S, 2, write: true));
        Assert.False(b.Mm.Fault(2, write: true, ctx: 1).Blocked);
        b.Agree();
    }

    /// <summary>A mutant of the reference whose fork keeps the uffd bits in the child without EVENT_FORK.</summary>
    private sealed class ForkKeepsUffdBits() : UffdDesign("fork-keeps-uffd-bits", "mutant: dup_userfaultfd() does not clear the child's bits",
        VmUffdMinorMainline, minorOnShmem: true, wpOnFileBacked: true)
    {
        public override (ulong VmFlags, bool KeepsCtx) ForkVma(in UffdPage parent, bool eventFork) =>
            (parent.VmFlags & ~(VmLocked | VmLockonfault), parent.Ctx != 0 && eventFork);
    }

    /// <summary>The model before `differ uffd` ran mremap: a range over several VMAs refused (-EFAULT), as 5.11 did.</summary>
    private sealed class MremapOneVmaOnly() : UffdDesign("mremap-one-vma-only", "the former model: mremap refuses a range over several VMAs",
        VmUffdMinorMainline, minorOnShmem: true, wpOnFileBacked: true)
    {
        public override bool MremapsSeveralVmas => false;
    }

    [KernelUffdFact]
    public void The_differ_catches_a_model_that_forgets_to_clear_the_childs_bits()
    {
        var r = UffdDiff.Run(60, 7, KernelUffd.Answer.Features, hugetlb: false, design: new ForkKeepsUffdBits(), only: [MemType.Anon, MemType.ShmemShared]);
        Assert.False(r.Result.Holds);
        Assert.Contains("fork(): the child's page", r.Result.Detail, StringComparison.Ordinal);
    }

    [KernelUffdFact]
    public void The_differ_catches_a_model_that_refuses_mremap_over_several_vmas()
    {
        var r = UffdDiff.Run(60, 7, KernelUffd.Answer.Features, hugetlb: false, design: new MremapOneVmaOnly(), only: [MemType.Anon, MemType.ShmemShared]);
        Assert.False(r.Result.Holds);
        Assert.Contains("mremap", r.Result.Detail, StringComparison.Ordinal);
    }
}
