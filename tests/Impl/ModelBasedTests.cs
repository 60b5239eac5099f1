using FsCheck.Experimental;
using Multikernel.Impl.Ipi;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Impl;

public class ModelBasedTests(ITestOutputHelper output)
{
    private const ulong Seed = 20261121;

    private static FsCheck.Property Machine(MkIpiDefects defects, RingDesign? design = null) => new ApiMachine(4, defects, 40, design).ToProperty();

    [Fact]
    public void Implementation_agrees_with_the_model() =>
        PropertyRuns.Holds(output, "ipi model-based", Machine(MkIpiDefects.None), 300, Seed);

    [Theory]
    [InlineData(MkIpiDefects.NoFullCheck, "the model returns -ENOSPC")]
    [InlineData(MkIpiDefects.NoIndexMask, "IndexOutOfRange")]
    public void Sequential_mutants_are_caught_and_shrunk(MkIpiDefects fault, string expect) =>
        PropertyRuns.Caught(output, $"ipi model-based ({fault})", Machine(fault), 300, Seed, expect);

    /// <summary>
    /// The model is the specification's design run one call at a time, so a defect planted in the
    /// design (not in the implementation, not in a second model) makes the check against the
    /// correct implementation fail, at the call where the design and the implementation part.
    /// </summary>
    [Theory]
    [InlineData("ref-no-full-check", "returned -ENOSPC, the model returns 0")]
    [InlineData("ref-no-clear", "returned 4, the model returns 5")] // the interrupt takes a slot it never freed: one past the ring
    [InlineData("ref-no-mask", "the model returns")]
    public void A_defect_planted_in_the_specification_is_caught(string mutant, string expect)
    {
        var design = (RingDesign)IpiDesigns.Mutants.Single(d => d.Name == mutant);
        PropertyRuns.Caught(output, $"ipi model-based against {mutant}", Machine(MkIpiDefects.None, design), 300, Seed, expect);
    }

    [Fact]
    public void The_model_runs_the_designs_steps()
    {
        // A send claims through the design: head moves in the specification's own state.
        var m = new IpiApiModel(2).CreateInstance(0).Next;
        var (rc, claimed) = m.Claim(0, [1, 2, 3], 1, senderCpu: 5, owner: 7);
        Assert.Equal(0, rc);
        Assert.Equal(1, claimed.Instances[0].State.Head);
        Assert.Equal(0, claimed.Instances[0].State.Slots[0].State); // claimed, not yet published
        Assert.False(claimed.TakeOne(0).Taken);                      // the drain stops at an unpublished claim
        Assert.False(claimed.CanDestroy(0));                         // synchronize_rcu() waits for the send
        var (_, published) = claimed.Publish(0, 7);
        Assert.Equal(IpiConstants.SlotReady, published.Instances[0].State.Slots[0].State);
        var (_, h) = published.RegisterHandler(true, 1);
        var (taken, calls, drained) = h.TakeOne(0);
        Assert.True(taken);
        Assert.Equal(new IpiDelivery(1, 5, 1, "010203"), Assert.Single(calls));
        Assert.Equal(1, drained.Instances[0].State.Tail);
        Assert.Throws<ArgumentException>(() => new IpiApiModel(2, new SubclassOfReference()));
    }

    private sealed class SubclassOfReference() : RingDesign("sub");
}
