using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// A sometimes-property is a vacuity check: "some run sends and delivers a message", so that the
/// invariants do not hold only because nothing happens. Under bounds too small for it (one message
/// of a type no handler takes) even the reference cannot reach it, and "never reached" says
/// nothing about the design: it is then undecided, with the reason, never a violation.
/// </summary>
public static class Vacuity
{
    /// <summary>
    /// <paramref name="r"/> with each "never reached" sometimes-property that the reference does not reach
    /// either, under the same bounds and options, turned into "not decided". <paramref name="reference"/>
    /// builds the reference's specification; it is explored only when such a property exists, and reused
    /// when <paramref name="r"/> is the reference's own report.
    /// </summary>
    public static ExploreReport AgainstReference(ExploreReport r, bool isReference, Func<ISpecHandle> reference, ExploreOptions options)
    {
        bool NeverReached(PropertyOutcome o) => o.Property.Kind == PropertyKind.Sometimes && o.Verdict == Verdict.Violated;
        if (!r.Outcomes.Any(NeverReached)) return r;
        var byReference = isReference ? r : Explorer.Run(reference(), options with { StopWhenAllViolated = false, StopAtFirstViolation = false, Progress = null });
        bool referenceComplete = byReference.Bound == Bound.None && !byReference.StoppedEarly;
        var outcomes = r.Outcomes.Select(o =>
        {
            if (!NeverReached(o) || !referenceComplete) return o;
            var mine = byReference.Outcomes.FirstOrDefault(x => x.Property.Name == o.Property.Name);
            return mine is not null && NeverReached(mine)
                ? o with { Verdict = Verdict.Unknown, Reason = "not decided: the reference does not reach it under these bounds either (too small to judge it; raise them)" }
                : o;
        }).ToList();
        return r with { Outcomes = outcomes };
    }
}
