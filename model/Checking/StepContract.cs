namespace Multikernel.Model.Checking;

/// <summary>
/// A step of a design broke a rule every step must keep (it ran on after its CPU returned, wrote a
/// variable the design does not own, moved a counter past its bounds). The explorer reports it as a
/// step-contract counterexample at the depth where it first happens, naming the rule and the step,
/// instead of exploring what the broken state leads to.
/// </summary>
public sealed class StepContractException(string rule) : Exception(rule)
{
    /// <summary>The property a broken contract is reported under.</summary>
    public static readonly Property Property = new("step-contract", PropertyKind.Always,
        "every step keeps the rules of the design API: no step after the send returned, no write to a variable the design does not own, program counters within their steps",
        "the design API (IpiDesign, RingDesign): what a step may do");
}
