using Multikernel.Model.Uffd;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Uffd;

/// <summary>
/// UFFDIO_API and UFFDIO_REGISTER answer as the kernel does. The (mode × memory type) table is
/// the loop of tools/testing/selftests/mm/uffd-unit-tests.c (register-ioctls): every memory
/// type, every non-empty combination of MISSING, WP and MINOR, written out here from the
/// kernel's rules rather than computed by the design under test.
/// </summary>
public class RegisterRulesTests
{
    private const int EINVAL = -22, EBUSY = -16;

    private static (UffdKernel K, UffdState S) Mm(UffdDesign d, MemType a, MemType b, bool api = true)
    {
        var spec = new UffdSpec(d, new UffdBounds { Layouts = [(a, b)], Contexts = 2 });
        var init = new List<UffdState>();
        spec.Initial(init);
        var s = init[0];
        var k = new UffdKernel(d);
        if (api)
        {
            Assert.Equal(0, k.Api(ref s, 1, UffdApi, 0));
            Assert.Equal(0, k.Api(ref s, 2, UffdApi, 0));
        }
        return (k, s);
    }

    public static TheoryData<string, MemType, ulong, bool> RegisterIoctls()
    {
        var data = new TheoryData<string, MemType, ulong, bool>();
        foreach (var t in MemTypes.All)
            for (ulong mode = 1; mode <= 7; mode++)
            {
                bool wp = (mode & 2) != 0, minor = (mode & 4) != 0;
                bool hugetlb = t is MemType.HugetlbShared or MemType.HugetlbPrivate, anon = t == MemType.Anon;
                // mainline: minor needs hugetlbfs or shmem; WP works on all three (PTE markers).
                data.Add("reference", t, mode, !(minor && anon));
                // v5 (004): minor on hugetlbfs only; WP on anonymous memory only.
                data.Add("uffd-v5", t, mode, !(minor && !hugetlb) && !(wp && !anon));
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(RegisterIoctls))]
    public void Register_accepts_each_mode_on_each_memory_type_as_the_kernel_does(string design, MemType type, ulong mode, bool accepted)
    {
        var d = design == "reference" ? UffdDesigns.Reference : UffdDesigns.V5;
        var (k, s) = Mm(d, type, type);
        int rc = k.Register(ref s, 1, 0, 4 * PageSize, mode);
        Assert.Equal(accepted ? 0 : EINVAL, rc);
        if (accepted)
            for (int p = 0; p < UffdBounds.Pages; p++) Assert.Equal(1, s.Pages[p].Ctx);
    }

    [Theory]
    [InlineData(0UL)]            // no mode
    [InlineData(8UL)]            // an unknown mode bit
    [InlineData(1UL | 8UL)]
    public void Register_rejects_no_mode_and_unknown_mode_bits(ulong mode)
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon);
        Assert.Equal(EINVAL, k.Register(ref s, 1, 0, 2 * PageSize, mode));
    }

    [Theory]
    [InlineData(0UL, 0UL)]                        // zero length
    [InlineData(0UL, PageSize + 1)]               // length not page aligned
    [InlineData(1UL, PageSize)]                   // start not page aligned
    [InlineData(4 * PageSize, PageSize)]          // no VMA there
    [InlineData(3 * PageSize, 2 * PageSize)]      // ends past the model's address space (validate_range(): its TASK_SIZE)
    public void Register_rejects_bad_ranges(ulong start, ulong len)
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon);
        Assert.Equal(EINVAL, k.Register(ref s, 1, start, len, UffdioRegisterModeMissing));
    }

    [Theory]
    [InlineData(MemType.HugetlbShared)]
    [InlineData(MemType.HugetlbPrivate)]
    public void Register_rejects_a_hugetlb_range_not_aligned_to_the_huge_page(MemType t)
    {
        var (k, s) = Mm(UffdDesigns.Reference, t, t);
        Assert.Equal(EINVAL, k.Register(ref s, 1, PageSize, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(EINVAL, k.Register(ref s, 1, 0, PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, k.Register(ref s, 1, 2 * PageSize, 2 * PageSize, UffdioRegisterModeMissing));
    }

    [Theory]
    [InlineData(MemType.HugetlbShared)]
    [InlineData(MemType.HugetlbPrivate)]
    public void Unregister_checks_a_hugetlb_end_only_where_it_splits_a_registered_vma(MemType t)
    {
        // Found by `differ uffd` (issue 19): on 6.18 an unaligned end over an unregistered hugetlbfs
        // VMA is 0; over a registered one -EINVAL, the VMAs before it already unregistered.
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, t);
        Assert.Equal(0, k.Unregister(ref s, 1, 0, 3 * PageSize));
        Assert.Equal(EINVAL, k.Unregister(ref s, 1, PageSize * 3, PageSize)); // the start is still checked
        Assert.Equal(0, k.Register(ref s, 1, 0, 4 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(EINVAL, k.Unregister(ref s, 1, 0, 3 * PageSize));
        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(p => (int)s.Pages[p].Ctx));
        var mm = new Multikernel.Impl.Uffd.MmStruct([(Multikernel.Impl.Uffd.MemType.Anon, 2), ((Multikernel.Impl.Uffd.MemType)t, 2)]);
        int ctx = mm.UserfaultfdCreate();
        Assert.Equal(0, mm.Api(ctx, UffdApi, 0));
        Assert.Equal(0, mm.Unregister(ctx, 0, 3 * PageSize));
        Assert.Equal(0, mm.Register(ctx, 0, 4 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(EINVAL, mm.Unregister(ctx, 0, 3 * PageSize));
        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(p => mm.Vmas.ToArray().First(v => v.Start <= (ulong)p * PageSize && (ulong)p * PageSize < v.End).Ctx));
    }

    [Fact]
    public void Register_splits_a_vma_and_unregister_merges_it_back()
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon);
        Assert.Equal(0, k.Register(ref s, 1, PageSize, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal([0, 1, 1, 0], Enumerable.Range(0, 4).Select(p => (int)s.Pages[p].Ctx));
        Assert.Equal(0, k.Unregister(ref s, 1, 0, 4 * PageSize));
        Assert.All(Enumerable.Range(0, 4), p => Assert.Equal(s.Pages[0].VmFlags, s.Pages[p].VmFlags));
    }

    [Fact]
    public void Register_refuses_a_vma_owned_by_another_context()
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.ShmemShared);
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(EBUSY, k.Register(ref s, 2, 0, 4 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, k.Register(ref s, 2, 2 * PageSize, 2 * PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing | UffdioRegisterModeWp)); // its own: re-register
    }

    [Fact]
    public void Register_again_with_modes_it_has_changes_nothing()
    {
        // Found by `differ uffd` (issue 19): WP|MINOR, then WP over it, leaves `uw ui` in smaps.
        var (k, s) = Mm(UffdDesigns.Reference, MemType.ShmemPrivate, MemType.Anon);
        Assert.Equal(0, k.Register(ref s, 1, 0, PageSize, UffdioRegisterModeWp | UffdioRegisterModeMinor));
        Assert.Equal(0, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeWp));
        Assert.Equal(VmUffdWp | UffdDesigns.Reference.VmUffdMinor, s.Pages[0].VmFlags & UffdDesigns.Reference.VmUffdFlags);
        Assert.Equal(VmUffdWp, s.Pages[1].VmFlags & UffdDesigns.Reference.VmUffdFlags);
        Assert.Equal(0, k.Register(ref s, 1, 0, PageSize, UffdioRegisterModeMissing)); // a bit it lacks: replaced
        Assert.Equal(VmUffdMissing, s.Pages[0].VmFlags & UffdDesigns.Reference.VmUffdFlags);
        var mm = new Multikernel.Impl.Uffd.MmStruct([(Multikernel.Impl.Uffd.MemType.ShmemPrivate, 2), (Multikernel.Impl.Uffd.MemType.Anon, 2)]);
        int ctx = mm.UserfaultfdCreate();
        Assert.Equal(0, mm.Api(ctx, UffdApi, 0));
        Assert.Equal(0, mm.Register(ctx, 0, PageSize, UffdioRegisterModeWp | UffdioRegisterModeMinor));
        Assert.Equal(0, mm.Register(ctx, 0, 2 * PageSize, UffdioRegisterModeWp));
        Assert.Equal(VmUffdWp | UffdDesigns.Reference.VmUffdMinor, mm.Vmas[0].VmFlags & UffdDesigns.Reference.VmUffdFlags);
    }

    [Fact]
    public void Unregister_refuses_a_vma_registered_through_another_userfaultfd()
    {
        // Found by `differ uffd` (issue 19): 6.18 answers -EINVAL; the model skipped the VMA and returned 0.
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.ShmemShared);
        Assert.Equal(0, k.Register(ref s, 1, 2 * PageSize, PageSize, UffdioRegisterModeMissing));
        Assert.Equal(EINVAL, k.Unregister(ref s, 2, 2 * PageSize, 2 * PageSize));
        Assert.Equal(1, s.Pages[2].Ctx);
        Assert.Equal(0, k.Unregister(ref s, 2, 0, 2 * PageSize)); // none of its VMAs is another's: nothing to do
        Assert.Equal(0, k.Unregister(ref s, 1, 0, 4 * PageSize));
        Assert.Equal(0, s.Pages[2].Ctx);
        var (k5, s5) = Mm(UffdDesigns.V5, MemType.Anon, MemType.Anon);
        Assert.Equal(0, k5.Register(ref s5, 1, 2 * PageSize, PageSize, UffdioRegisterModeMissing));
        Assert.Equal(0, k5.Unregister(ref s5, 2, 2 * PageSize, 2 * PageSize)); // v5 keeps the former skip
        Assert.Equal(1, s5.Pages[2].Ctx);
    }

    [Fact]
    public void Api_is_once_with_the_right_number_and_known_features()
    {
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon, api: false);
        Assert.Equal(EINVAL, k.Register(ref s, 1, 0, 2 * PageSize, UffdioRegisterModeMissing)); // before UFFDIO_API
        Assert.Equal(EINVAL, k.Api(ref s, 1, 0xAB, 0));
        Assert.Equal(EINVAL, k.Api(ref s, 1, UffdApi, 1UL << 40));
        Assert.Equal(0, k.Api(ref s, 1, UffdApi, UffdFeatureMinorShmem | UffdFeatureSigbus));
        Assert.Equal(EINVAL, k.Api(ref s, 1, UffdApi, 0)); // a second UFFDIO_API
        var (k5, s5) = Mm(UffdDesigns.V5, MemType.Anon, MemType.Anon, api: false);
        Assert.Equal(EINVAL, k5.Api(ref s5, 1, UffdApi, UffdFeatureMinorShmem)); // v5 has no minor shmem
        Assert.Equal(EINVAL, k5.Api(ref s5, 1, UffdApi, UffdFeatureExactAddress)); // nor mainline's later features
    }

    [Theory]
    [InlineData(UffdFeatureExactAddress)]
    [InlineData(UffdFeatureWpHugetlbfsShmem)]
    [InlineData(UffdFeatureWpUnpopulated | UffdFeatureWpAsync)]
    [InlineData(UffdFeaturePoison | UffdFeatureMove)]
    public void Api_of_the_reference_accepts_mainlines_later_features(ulong features)
    {
        // Found by `differ uffd` (issue 19): 6.18 answers UFFDIO_API with these, the model refused them.
        var (k, s) = Mm(UffdDesigns.Reference, MemType.Anon, MemType.Anon, api: false);
        Assert.Equal(0, k.Api(ref s, 1, UffdApi, features));
        var mm = new Multikernel.Impl.Uffd.MmStruct([(Multikernel.Impl.Uffd.MemType.Anon, 4)]);
        int ctx = mm.UserfaultfdCreate();
        Assert.Equal(0, mm.Api(ctx, UffdApi, features));
    }
}
