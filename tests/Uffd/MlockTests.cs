using Multikernel.Model.Uffd;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;
using IU = Multikernel.Impl.Uffd;

namespace Multikernel.Tests.Uffd;

/// <summary>
/// mlock2(MLOCK_ONFAULT) / munlock as mm/mlock.c does them, and what v5's VM_UFFD_MINOR == VM_LOCKED
/// makes of them: the BUG_ON of the release, register and unregister walks.
/// </summary>
public class MlockTests
{
    private const int EINVAL = -22;

    private static (UffdKernel K, UffdState S) Mm(UffdDesign d, MemType a, MemType b, bool api = true)
    {
        var init = new List<UffdState>();
        new UffdSpec(d, new UffdBounds { Layouts = [(a, b)] }).Initial(init);
        var s = init[0];
        var k = new UffdKernel(d);
        if (api) Assert.Equal(0, k.Api(ref s, 1, UffdApi, 0));
        return (k, s);
    }

    [Theory]
    [InlineData("reference", MemType.HugetlbShared)]
    [InlineData("reference", MemType.HugetlbPrivate)]
    [InlineData("uffd-v5", MemType.HugetlbShared)]
    [InlineData("uffd-v5", MemType.HugetlbPrivate)]
    public void Mlock_never_sets_vm_locked_on_hugetlbfs(string design, MemType t)
    {
        var (_, s) = Mm(UffdDesigns.Find(design)!, t, MemType.Anon);
        ulong before = s.Pages[0].VmFlags;
        Assert.Equal(0, UffdKernel.Mlock(ref s, 0, 2, on: true)); // mlock_fixup(): is_vm_hugetlb_page() -> goto out, returns 0
        Assert.Equal(before, s.Pages[0].VmFlags);
        Assert.Equal(0, s.Pages[0].UserLocked);
        Assert.Equal(0, UffdKernel.Mlock(ref s, 2, 2, on: true));
        Assert.Equal(VmLocked | VmLockonfault, s.Pages[2].VmFlags & (VmLocked | VmLockonfault));
        Assert.Equal(0, UffdKernel.Mlock(ref s, 2, 2, on: false)); // munlock clears both
        Assert.Equal(0UL, s.Pages[2].VmFlags & (VmLocked | VmLockonfault));
    }

    [Theory]
    [InlineData(MemType.Anon)]
    [InlineData(MemType.ShmemShared)]
    public void Mlock_without_onfault_locks_and_populates_and_v5_bugs_on_close_all_the_same(MemType t)
    {
        var d = UffdDesigns.V5;
        var (k, s) = Mm(d, t, t, api: false);
        Assert.Equal(0, k.MlockPopulate(ref s, 0, 2));
        Assert.Equal(VmLocked, s.Pages[0].VmFlags & (VmLocked | VmLockonfault)); // no VM_LOCKONFAULT
        Assert.All(new[] { 0, 1 }, p => Assert.Equal(UffdPage.PtePresent, s.Pages[p].Pte));
        Assert.Equal(UffdPage.PteNone, s.Pages[2].Pte);
        Assert.False(k.Release(ref s, 1));
        Assert.Equal(UffdState.BugRelease, s.Bug);
    }

    [Fact]
    public void Mlock_that_would_populate_through_a_userfaultfd_is_not_offered()
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon);
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.False(k.PopulateIsPlain(s, 0, 2));
        Assert.True(k.PopulateIsPlain(s, 2, 2));
        var steps = new UffdAction[256];
        int n = new UffdSpec(UffdDesigns.Reference).Enabled(s, steps);
        Assert.DoesNotContain(steps[..n], a => a.Op == UffdOp.MlockPopulate && a.Range == 0);
        Assert.Contains(steps[..n], a => a.Op == UffdOp.MlockPopulate && a.Range == 1);
        Assert.Throws<InvalidOperationException>(() => k.MlockPopulate(ref s, 0, 2));
    }

    [Fact]
    public void The_explorer_never_offers_mlock_on_a_hugetlbfs_vma()
    {
        foreach (var d in new[] { UffdDesigns.V5, UffdDesigns.Reference })
        {
            var spec = new UffdSpec(d, new UffdBounds { Layouts = [(MemType.HugetlbShared, MemType.Anon)] });
            var init = new List<UffdState>();
            spec.Initial(init);
            var steps = new UffdAction[256];
            int n = spec.Enabled(init[0], steps);
            Assert.DoesNotContain(steps[..n], a => a.Op is UffdOp.Mlock or UffdOp.Munlock or UffdOp.MlockPopulate && a.Range == 0);
            Assert.Contains(steps[..n], a => a.Op == UffdOp.Mlock && a.Range == 1);
        }
    }

    [Theory]
    [InlineData(MemType.Anon)]
    [InlineData(MemType.ShmemShared)]
    [InlineData(MemType.ShmemPrivate)]
    public void V5_mlock_then_close_is_a_kernel_bug_and_the_reference_is_not(MemType t)
    {
        var (k, s) = Mm(UffdDesigns.V5, t, t, api: false); // no UFFDIO_API: the release walk runs anyway
        Assert.Equal(0, UffdKernel.Mlock(ref s, 0, 2, on: true));
        Assert.False(k.Release(ref s, 1));
        Assert.Equal(UffdState.BugRelease, s.Bug);
        Assert.Equal(0, s.BugPage);
        var spec = new UffdSpec(UffdDesigns.V5);
        Assert.NotEqual(0UL, spec.Violated(s) & (1UL << (int)UffdInvariant.NoKernelBug));
        Assert.Equal(0, spec.Enabled(s, new UffdAction[256])); // the machine has stopped

        var (kr, r) = Mm(UffdDesigns.Reference, t, t, api: false);
        Assert.Equal(0, UffdKernel.Mlock(ref r, 0, 2, on: true));
        Assert.True(kr.Release(ref r, 1));
        Assert.Equal(0, r.Bug);
        Assert.Equal(VmLocked, r.Pages[0].VmFlags & VmLocked);
    }

    [Fact]
    public void V5_register_and_unregister_over_an_mlocked_vma_hit_their_bug_on()
    {
        var (k, s) = Mm(UffdDesigns.V5, MemType.Anon, MemType.Anon);
        Assert.Equal(0, UffdKernel.Mlock(ref s, 2, 2, on: true));
        var t = s;
        k.Register(ref t, 1, 0, 4 * PageSize, UffdioRegisterModeMissing);
        Assert.Equal(UffdState.BugRegister, t.Bug);
        Assert.Equal(2, t.BugPage);
        t = s;
        k.Unregister(ref t, 1, 2 * PageSize, 2 * PageSize);
        Assert.Equal(UffdState.BugUnregister, t.Bug);
        t = s;
        Assert.Equal(0, k.Register(ref t, 1, 0, 2 * PageSize, UffdioRegisterModeMissing)); // the range leaves the mlocked VMA out
        Assert.Equal(0, t.Bug);
    }

    [Fact]
    public void V5_mlock_of_a_registered_vma_makes_it_unregisterable_and_close_drops_the_mlock()
    {
        var (k, s) = Mm(UffdDesigns.V5, MemType.Anon, MemType.Anon);
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, UffdKernel.Mlock(ref s, 0, 2, on: true)); // VM_LOCKED = VM_UFFD_MINOR beside the context: no BUG_ON
        var t = s;
        // vma_can_userfault(cur, cur->vm_flags): "VM_UFFD_MINOR" on anonymous memory.
        Assert.Equal(EINVAL, k.Unregister(ref t, 1, 0, 2 * PageSize));
        Assert.Equal(0, t.Bug);
        Assert.True(k.Release(ref s, 1));
        Assert.Equal(0UL, s.Pages[0].VmFlags & VmLocked); // the user's mlock is gone
        Assert.Equal(1, s.Pages[0].UserLocked);
        Assert.NotEqual(0UL, new UffdSpec(UffdDesigns.V5).Violated(s) & (1UL << (int)UffdInvariant.MlockSurvives));
    }

    [Fact]
    public void The_implementation_mlocks_as_mainline_does()
    {
        var mm = new IU.MmStruct([(IU.MemType.HugetlbShared, 2), (IU.MemType.Anon, 2)]);
        ulong huge = mm.Vmas[0].VmFlags;
        Assert.Equal(0, mm.Mlock(0, 4 * PageSize, on: true));
        Assert.Equal(huge, mm.VmaAt(0)!.Value.VmFlags);
        Assert.Equal(IU.UffdConstants.VmLocked | IU.UffdConstants.VmLockonfault, mm.VmaAt(2 * PageSize)!.Value.VmFlags & (IU.UffdConstants.VmLocked | IU.UffdConstants.VmLockonfault));
        Assert.Equal(0, mm.Mlock(2 * PageSize, 2 * PageSize, on: false));
        Assert.Equal(0UL, mm.VmaAt(2 * PageSize)!.Value.VmFlags & (IU.UffdConstants.VmLocked | IU.UffdConstants.VmLockonfault));
    }
}
