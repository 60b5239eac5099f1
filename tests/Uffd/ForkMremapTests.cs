using Multikernel.Model.Uffd;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Uffd;

public class ForkMremapTests
{
    private static (UffdKernel K, UffdState S) Mm(UffdDesign d, MemType t, ulong features)
    {
        var spec = new UffdSpec(d, new UffdBounds { Layouts = [(t, t)] });
        var init = new List<UffdState>();
        spec.Initial(init);
        var s = init[0];
        var k = new UffdKernel(d);
        Assert.Equal(0, k.Api(ref s, 1, UffdApi, features));
        return (k, s);
    }

    private static bool Broken(in UffdState s, UffdInvariant i) => (s.Broken & (1 << (int)i)) != 0;

    [Theory]
    [InlineData(0UL)]
    [InlineData(UffdFeatureEventFork)]
    public void Reference_fork_keeps_context_and_bits_together(ulong features)
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.HugetlbShared, features);
        Assert.Equal(0, k.Register(ref s, 1, 0, 4 * PageSize, UffdioRegisterModeMinor));
        k.Fork(ref s);
        Assert.False(Broken(s, UffdInvariant.CtxIffUffdBit));
        Assert.Equal(0, s.ChildBad);
    }

    [Fact]
    public void V5_fork_with_event_fork_loses_the_childs_minor_registration()
    {
        // dup_mmap() clears VM_LOCKED in the child, which in v5 is VM_UFFD_MINOR: the child
        // keeps the context (EVENT_FORK) but not the bit.
        var (k, s) = Mm(UffdDesigns.V5, MemType.HugetlbShared, UffdFeatureEventFork);
        Assert.Equal(0, k.Register(ref s, 1, 0, 4 * PageSize, UffdioRegisterModeMinor));
        k.Fork(ref s);
        Assert.True(Broken(s, UffdInvariant.CtxIffUffdBit));
        // The monitor closes the child's userfaultfd while the child lives: the child's release walk BUG()s.
        var spec = new UffdSpec(UffdDesigns.V5, new UffdBounds { Layouts = [(MemType.HugetlbShared, MemType.HugetlbShared)] });
        var steps = new UffdAction[256];
        Assert.Contains(steps[..spec.Enabled(s, steps)], a => a.Op == UffdOp.CloseChild);
        var t = spec.Next(s, new UffdAction(UffdOp.CloseChild));
        Assert.Equal(UffdState.BugChildRelease, t.Bug);
        Assert.NotEqual(0UL, spec.Violated(t) & (1UL << (int)UffdInvariant.NoKernelBug));
        Assert.Contains("kernel BUG", spec.Describe(s, new UffdAction(UffdOp.CloseChild)));
    }

    [Fact]
    public void V5_fork_of_a_missing_minor_registration_keeps_a_bit_so_no_bug_on_only_lost_minor_interception()
    {
        // The child keeps its context and VM_UFFD_MISSING: the walks' BUG_ON holds; only VM_UFFD_MINOR
        // (= VM_LOCKED) is gone. Not a ctx-iff-uffd-bit violation (docs/audits/004-uffd.md).
        var (k, s) = Mm(UffdDesigns.V5, MemType.HugetlbShared, UffdFeatureEventFork);
        Assert.Equal(0, k.Register(ref s, 1, 0, 4 * PageSize, UffdioRegisterModeMissing | UffdioRegisterModeMinor));
        k.Fork(ref s);
        Assert.False(Broken(s, UffdInvariant.CtxIffUffdBit));
        Assert.Equal(0, s.ChildBad);
    }

    [Fact]
    public void V5_mremap_without_event_remap_drops_the_users_mlock_with_the_context()
    {
        // mremap_userfaultfd_prep(): vma->vm_flags &= ~__VM_UFFD_FLAGS, which holds VM_LOCKED.
        var (k, s) = Mm(UffdDesigns.V5, MemType.Anon, 0);
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, UffdKernel.Mlock(ref s, 0, 2, on: true));
        k.Mremap(ref s, 0, 2);
        Assert.Equal(0UL, s.Pages[0].VmFlags & VmLocked);
        Assert.NotEqual(0UL, new UffdSpec(UffdDesigns.V5).Violated(s) & (1UL << (int)UffdInvariant.MlockSurvives));
    }

    [Fact]
    public void V5s_tree_refuses_to_mremap_hugetlbfs_and_the_explorer_does_not_offer_it()
    {
        // v5.11's vma_to_resize(): if (is_vm_hugetlb_page(vma)) return ERR_PTR(-EINVAL); mainline moves it since 5.16.
        var (k, s) = Mm(UffdDesigns.V5, MemType.HugetlbShared, 0);
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMinor));
        var before = s;
        Assert.Equal(-22, k.Mremap(ref s, 0, 2));
        Assert.Equal(before.Pages[0].VmFlags, s.Pages[0].VmFlags);
        Assert.Equal(1, s.Pages[0].Ctx);
        var steps = new UffdAction[256];
        Assert.DoesNotContain(steps[..new UffdSpec(UffdDesigns.V5).Enabled(s, steps)], a => a.Op == UffdOp.Mremap);

        var (kr, r) = Mm(UffdDesigns.Reference, MemType.HugetlbShared, 0);
        Assert.Equal(0, kr.Register(ref r, 1, 0, 2 * PageSize, UffdioRegisterModeMinor));
        Assert.Contains(steps[..new UffdSpec(UffdDesigns.Reference).Enabled(r, steps)], a => a.Op == UffdOp.Mremap);
        Assert.Equal(0, kr.Mremap(ref r, 0, 2));
        Assert.Equal(0, r.Pages[0].Ctx);
    }

    [Fact]
    public void Mremap_drops_the_context_unless_event_remap_and_uffdio_wake_reaches_the_fault()
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, 0);
        Assert.Equal(0, k.Register(ref s, 1, 0, 4 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(UffdKernel.FaultOutcome.Blocked, k.Fault(ref s, 0, write: true));
        k.Mremap(ref s, 0, 2);
        Assert.Equal(0, s.Pages[0].Ctx);
        Assert.Equal(0UL, s.Pages[0].VmFlags & UffdDesigns.Reference.VmUffdFlags);
        Assert.Equal(1, s.Pages[0].WaiterCtx); // still queued on uffd1
        Assert.Equal(0, UffdKernel.WakeIoctl(ref s, 1, 0));
        Assert.Equal(0, s.Pages[0].Waiter);
        Assert.Equal(UffdKernel.FaultOutcome.Normal, k.Fault(ref s, 0, write: true)); // retried: no longer registered

        var (k2, s2) = Mm(UffdDesigns.Reference, MemType.Anon, UffdFeatureEventRemap);
        Assert.Equal(0, k2.Register(ref s2, 1, 0, 4 * PageSize, UffdioRegisterModeMissing));
        k2.Mremap(ref s2, 0, 2);
        Assert.Equal(1, s2.Pages[0].Ctx);
    }
}
