using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Uffd;
using Xunit;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Tests.Uffd;

/// <summary>Whether the running kernel offers userfaultfd to this process, decided once.</summary>
internal static class KernelUffd
{
    private static readonly Lazy<(bool Ok, string Reason, UffdioApi Answer)> Probe = new(Userfaultfd.Availability);
    public static bool Available => Probe.Value.Ok;
    public static string Reason => Probe.Value.Reason;
    public static UffdioApi Answer => Probe.Value.Answer;
    /// <summary>Huge pages are free, or this process may raise vm.nr_hugepages for the test (as `differ uffd` does).</summary>
    public static bool HugePagesProvided => Available && HugePageReservation.CanProvide;
}

/// <summary>A fact against the running kernel: skipped, with the reason, where it offers no userfaultfd.</summary>
public sealed class KernelUffdFactAttribute : FactAttribute
{
    public KernelUffdFactAttribute()
    {
        if (!KernelUffd.Available) Skip = "the kernel offers no userfaultfd here: " + KernelUffd.Reason;
    }
}

/// <summary>A fact against the running kernel's hugetlbfs: skipped where it offers no userfaultfd, or no free huge pages.</summary>
public sealed class KernelHugetlbFactAttribute : FactAttribute
{
    public KernelHugetlbFactAttribute()
    {
        if (!KernelUffd.Available) Skip = "the kernel offers no userfaultfd here: " + KernelUffd.Reason;
        else if (!KernelUffd.HugePagesProvided)
            Skip = $"no hugetlbfs here: fewer than {UffdDiff.HugePagesNeeded} free huge pages, and this process may not raise vm.nr_hugepages";
    }
}

/// <summary>A theory against the running kernel: skipped where it offers no userfaultfd, or (hugetlb) no free huge pages.</summary>
public sealed class KernelUffdTheoryAttribute : TheoryAttribute
{
    public KernelUffdTheoryAttribute(bool hugetlb = false)
    {
        if (!KernelUffd.Available) Skip = "the kernel offers no userfaultfd here: " + KernelUffd.Reason;
        else if (hugetlb && !KernelUffd.HugePagesProvided)
            Skip = $"no hugetlbfs here: fewer than {UffdDiff.HugePagesNeeded} free huge pages, and this process may not raise vm.nr_hugepages";
    }
}

/// <summary>The kernel tests map and lock real memory and may share the huge pages: one at a time.</summary>
[CollectionDefinition("kernel uffd", DisableParallelization = true)]
public sealed class KernelUffdTests;

/// <summary>
/// Issue 19: the reference specification against the running kernel. A fixed-seed differential
/// run, and the register table of <see cref="RegisterRulesTests"/> cell by cell.
/// </summary>
[Collection("kernel uffd")]
public class KernelDifferTests
{
    /// <summary>A kernel out of memory where the model succeeds is no verdict (not modelled), never a divergence; any other answer is compared.</summary>
    [Fact]
    public void A_kernel_enomem_the_model_does_not_predict_is_no_verdict_and_nothing_else_is_excused()
    {
        Assert.Contains("allocation failure is not modelled", UffdKernelDiffer.Unmodelled(-Multikernel.Model.Kernel.Errno.ENOMEM, 0));
        Assert.Contains("MemAvailable", UffdKernelDiffer.Unmodelled(-Multikernel.Model.Kernel.Errno.ENOMEM, -Multikernel.Model.Kernel.Errno.EINVAL));
        Assert.Null(UffdKernelDiffer.Unmodelled(-Multikernel.Model.Kernel.Errno.ENOMEM, -Multikernel.Model.Kernel.Errno.ENOMEM));
        Assert.Null(UffdKernelDiffer.Unmodelled(-Multikernel.Model.Kernel.Errno.EINVAL, 0));
        Assert.Null(UffdKernelDiffer.Unmodelled(0, -Multikernel.Model.Kernel.Errno.ENOMEM));
    }

    [KernelUffdFact]
    public void The_reference_agrees_with_the_kernel_on_a_fixed_seed()
    {
        // hugetlbfs faults too where the huge pages are there or may be had (vm.nr_hugepages raised and put back).
        using var pages = KernelUffd.HugePagesProvided ? HugePageReservation.Ensure() : null;
        var r = UffdDiff.Run(60, 7, KernelUffd.Answer.Features);
        Assert.True(r.Result.Holds, r.Result.Detail);
        Assert.Equal(UffdDiff.HugePages().Free >= UffdDiff.HugePagesNeeded, r.HugetlbSkipped is null);
    }

    [Fact]
    public void Where_the_kernel_offers_no_userfaultfd_check_says_the_line_was_skipped_and_why()
    {
        var r = Multikernel.Properties.Checking.CheckResult.Skip(UffdDiff.CheckName, "not Linux");
        Assert.Equal("skipped", r.VerdictText);
        Assert.Equal(Model.Checking.ExitCode.Holds, r.Exit); // the machine lacks the facility: neither a pass nor a failure
        Assert.Contains("not Linux", r.Detail, StringComparison.Ordinal);
        // Here the line is there either way: run, or skipped with the probe's reason.
        var line = UffdSuite.Checks(Multikernel.Properties.Checking.SuiteSize.Quick, 7).Last();
        Assert.Equal(UffdDiff.CheckName, line.Name);
        Assert.Equal(KernelUffd.Available, line.Skipped is null);
    }

    [KernelUffdFact]
    public void The_kernel_answers_the_features_the_reference_accepts()
    {
        // Every feature the reference accepts is one 6.18 answers (and the reverse, for the bits the project names).
        ulong kernel = KernelUffd.Answer.Features;
        Assert.Equal(UffdDesigns.Reference.SupportedFeatures & kernel, UffdDesigns.Reference.SupportedFeatures);
    }

    [Fact]
    public void The_uapi_structures_and_ioctl_numbers_are_the_headers()
    {
        Assert.Equal(24, System.Runtime.InteropServices.Marshal.SizeOf<UffdioApi>());
        Assert.Equal(32, System.Runtime.InteropServices.Marshal.SizeOf<UffdioRegister>());
        Assert.Equal(40, System.Runtime.InteropServices.Marshal.SizeOf<UffdioCopy>());
        Assert.Equal(32, System.Runtime.InteropServices.Marshal.SizeOf<UffdioContinue>());
        Assert.Equal(32, System.Runtime.InteropServices.Marshal.SizeOf<UffdioZeropage>());
        Assert.Equal(32, System.Runtime.InteropServices.Marshal.SizeOf<UffdMsg>());
        Assert.Equal(0xc018aa3fu, Userfaultfd.UffdioApiIoctl);
        Assert.Equal(0xc020aa00u, Userfaultfd.UffdioRegisterIoctl);
        Assert.Equal(0x8010aa01u, Userfaultfd.UffdioUnregisterIoctl);
        Assert.Equal(0xc028aa03u, Userfaultfd.UffdioCopyIoctl);
        Assert.Equal(0xc020aa07u, Userfaultfd.UffdioContinueIoctl);
        Assert.Equal(0xc020aa04u, Userfaultfd.UffdioZeropageIoctl);
        Assert.Equal(0xaa00u, Userfaultfd.UserfaultfdIocNew);
    }

    /// <summary>The features each cell negotiates first: none, and every memory-type feature the reference accepts.</summary>
    private static readonly ulong[] CellFeatures =
        [0, UffdFeatureMissingShmem | UffdFeatureMissingHugetlbfs | UffdFeatureMinorShmem | UffdFeatureMinorHugetlbfs | UffdFeatureWpHugetlbfsShmem];

    public static TheoryData<MemType, ulong, ulong> Cells(bool hugetlb)
    {
        var data = new TheoryData<MemType, ulong, ulong>();
        foreach (var t in MemTypes.All.Where(t => MemTypes.IsHugetlb(t) == hugetlb))
            foreach (ulong f in CellFeatures)
                for (ulong mode = 1; mode <= 7; mode++) data.Add(t, f, mode);
        return data;
    }

    public static TheoryData<MemType, ulong, ulong> SmallPageCells() => Cells(false);
    public static TheoryData<MemType, ulong, ulong> HugetlbCells() => Cells(true);

    [KernelUffdTheory]
    [MemberData(nameof(SmallPageCells))]
    public void Register_table_agrees_with_the_kernel(MemType type, ulong features, ulong mode) => Cell(type, features, mode);

    [KernelUffdTheory(hugetlb: true)]
    [MemberData(nameof(HugetlbCells))]
    public void Register_table_agrees_with_the_kernel_on_hugetlbfs(MemType type, ulong features, ulong mode)
    {
        using var pages = HugePageReservation.Ensure();
        Assert.True(UffdDiff.HugePages().Free >= UffdDiff.HugePagesNeeded, $"the kernel gave no huge pages: {pages.Note}");
        Cell(type, features, mode);
    }

    /// <summary>One cell: the table's answer (RegisterRulesTests: minor needs shmem or hugetlbfs), the model's, the kernel's, and the bits smaps shows.</summary>
    private static void Cell(MemType type, ulong features, ulong mode)
    {
        bool table = !((mode & UffdioRegisterModeMinor) != 0 && type == MemType.Anon);
        var d = UffdDesigns.Reference;
        var init = new List<UffdState>();
        new UffdSpec(d, new UffdBounds { Layouts = [(type, type)], Contexts = 1 }).Initial(init);
        var s = init[0];
        var k = new UffdKernel(d);
        Assert.Equal(0, k.Api(ref s, 1, UffdApi, features));
        int model = k.Register(ref s, 1, 0, 4 * PageSize, mode);

        using var mm = new KernelMm(type, type, UffdDiff.HugePages().Size);
        Assert.Equal(0, mm.Api(1, features));
        int kernel = mm.Register(1, 0, 4 * PageSize, mode);
        Assert.Equal(table ? 0 : -22, kernel);
        Assert.Equal(kernel, model);
        var flags = mm.PageFlags();
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            Assert.Equal((s.Pages[p].VmFlags & VmUffdMissing) != 0, flags[p].Contains(Smaps.UffdMissing));
            Assert.Equal((s.Pages[p].VmFlags & VmUffdWp) != 0, flags[p].Contains(Smaps.UffdWp));
            Assert.Equal((s.Pages[p].VmFlags & d.VmUffdMinor) != 0, flags[p].Contains(Smaps.UffdMinor));
        }
    }
}

/// <summary>`differ uffd` as a user runs it.</summary>
[Collection("kernel uffd")]
public class DifferCommandTests
{
    [Fact]
    public void Differ_wants_a_known_mechanism()
    {
        Assert.Equal(2, Cli.CliRun.Run("differ").Code);
        Assert.Equal(2, Cli.CliRun.Run("differ", "ipi").Code);
    }

    [KernelUffdFact]
    public void Differ_uffd_agrees_and_prints_what_the_kernel_offers()
    {
        var (code, o, _) = Cli.CliRun.Run("differ", "uffd", "--cases", "20", "--seed", "7", "--no-hugepages");
        Assert.True(code == 0, o);
        Assert.Contains("kernel:   Linux", o, StringComparison.Ordinal);
        Assert.Contains("MINOR_SHMEM", o, StringComparison.Ordinal);
        Assert.Contains("cases/s", o, StringComparison.Ordinal);
        Assert.Contains("agrees", o, StringComparison.Ordinal);
    }
}
