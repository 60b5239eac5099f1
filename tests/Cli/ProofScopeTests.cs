using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Xunit;

namespace Multikernel.Tests.Cli;

/// <summary>
/// A proof speaks only of what it encodes: the ring obligations cover index arithmetic, so a design
/// whose defect lies elsewhere (publish before fill, no irq_work_sync, no synchronize_rcu) may pass
/// every obligation and still must not come out "proved".
/// </summary>
public class ProofScopeTests
{
    [Theory]
    [InlineData("ipi/ref-early-publish", "the slot is published before it is filled")]
    [InlineData("ipi/ref-no-sync", "unregister does not wait with irq_work_sync")]
    public void A_design_whose_defect_is_outside_the_encoding_proves_only_the_scope(string design, string why)
    {
        var (code, text, _) = CliRun.Run("prove", "--design", design);
        Assert.Equal(3, code);
        Assert.Contains("scope: ring index arithmetic", text, StringComparison.Ordinal);
        Assert.Contains($"proves only the scope above, not the design: the design's", text, StringComparison.Ordinal);
        Assert.Contains(why, text, StringComparison.Ordinal);
        Assert.DoesNotContain("REFUTED", text, StringComparison.Ordinal); // its index arithmetic is the reference's
    }

    [Fact]
    public void The_reference_is_proved_with_its_scope_stated_and_an_index_defect_is_refuted()
    {
        var (code, text, _) = CliRun.Run("prove", "--design", "ipi/reference");
        Assert.Equal(0, code);
        Assert.Contains("scope: ring index arithmetic", text, StringComparison.Ordinal);
        Assert.DoesNotContain("proves only", text, StringComparison.Ordinal);
        Assert.Equal(1, CliRun.Run("prove", "--design", "ipi/ref-no-mask").Code);
        Assert.All(RingProofs.For(), o => Assert.Equal(RingProofs.Scope, o.Scope));
        Assert.Null(ProofScope.Outside(RingProofs.For()));
    }
}
