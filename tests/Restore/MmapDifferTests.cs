using Multikernel.Model.Restore;
using Multikernel.Properties.Restore;
using Xunit;

namespace Multikernel.Tests.Restore;

/// <summary>A fact against the running kernel's mmap: skipped, with the reason, where the model's TASK_SIZE is not this machine's.</summary>
public sealed class KernelMmapFactAttribute : FactAttribute
{
    public KernelMmapFactAttribute()
    {
        if (MmapDiffer.Unavailable() is { } why) Skip = why;
    }
}

/// <summary>Issue 19, item 6: restore's do_mmap_pgoff() refusals against real mmap() calls.</summary>
public class MmapDifferTests
{
    [Fact]
    public void Check_runs_differ_restore_where_the_kernel_can_be_asked_and_says_skipped_and_why_elsewhere()
    {
        var skip = Multikernel.Properties.Checking.CheckResult.Skip(MmapDiffer.CheckName, "not Linux");
        Assert.Equal("skipped", skip.VerdictText);
        Assert.Equal(Model.Checking.ExitCode.Holds, skip.Exit); // the machine lacks the facility: neither a pass nor a failure
        var line = RestoreProperties.Checks(Multikernel.Properties.Checking.SuiteSize.Quick, 7).Last();
        Assert.Equal(MmapDiffer.CheckName, line.Name);
        Assert.Equal(MmapDiffer.Unavailable() is null, line.Skipped is null);
        if (MmapDiffer.Unavailable() is { } why) Assert.Contains(why, line.Detail, StringComparison.Ordinal);
        else Assert.True(line.Holds, line.Detail);
    }

    [KernelMmapFact]
    public void The_restore_models_mmap_refusals_agree_with_the_kernel()
    {
        var r = MmapDiffer.Run(2000, 7);
        Assert.True(r.Result.Holds, r.Result.Detail);
        Assert.True(r.Answers.ContainsKey("accepted") && r.Answers.ContainsKey("-EINVAL") && r.Answers.ContainsKey("-ENOMEM"), string.Join(", ", r.Answers));
    }

    [KernelMmapFact]
    public void The_former_task_size_is_refuted_by_the_kernel()
    {
        // The model had TASK_SIZE = 1 << 47; x86-64 keeps the top page as a guard.
        var r = MmapDiffer.Run(2000, 7, (start, length) => RestoreValidation.DoMmapPgoff(start, start + length, 0, 1UL << 47));
        Assert.False(r.Result.Holds);
        Assert.Contains("model accepted, kernel -ENOMEM", r.Result.Detail, StringComparison.Ordinal);
    }

    [KernelMmapFact]
    public void A_model_without_the_zero_length_refusal_is_caught()
    {
        var r = MmapDiffer.Run(2000, 7, (start, length) =>
            length == 0 ? MmapRefusal.None : RestoreValidation.DoMmapPgoff(start, start + length, 0));
        Assert.False(r.Result.Holds);
        Assert.Contains("model accepted, kernel -EINVAL", r.Result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_models_answers_are_the_errnos_of_do_mmap()
    {
        Assert.Equal("-EINVAL", MmapDiffer.ModelAnswer(MmapRefusal.ZeroLength));
        Assert.Equal("-EINVAL", MmapDiffer.ModelAnswer(MmapRefusal.StartUnaligned));
        Assert.Equal("-ENOMEM", MmapDiffer.ModelAnswer(MmapRefusal.TooLong));
        Assert.Equal("-ENOMEM", MmapDiffer.ModelAnswer(MmapRefusal.PastTaskSize));
        Assert.Equal("accepted", MmapDiffer.KernelAnswer(-17)); // -EEXIST: past every check the model has
        Assert.Equal((1UL << 47) - 0x1000, RestoreConstants.TaskSize);
    }

    [KernelMmapFact]
    public void Differ_restore_agrees_and_prints_what_it_compared()
    {
        var (code, o, _) = Multikernel.Tests.Cli.CliRun.Run("differ", "restore", "--cases", "300", "--seed", "7");
        Assert.True(code == 0, o);
        Assert.Contains("TASK_SIZE 0x7ffffffff000", o, StringComparison.Ordinal);
        Assert.Contains("cases/s", o, StringComparison.Ordinal);
    }
}
