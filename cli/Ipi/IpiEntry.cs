using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;

namespace Multikernel.Cli.Ipi;

/// <summary>Multikernel IPI on the command line: the ring's checks and proofs, and the implementation against a bounded Channel.</summary>
internal sealed class IpiEntry : MechanismEntry, IImplementationChecked, IProved, IDesignExports
{
    public IReadOnlyList<DesignExport> Exports { get; } =
        [new(IpiLitmusExport.Option, "ipi ring designs: the publish/consume, slot-free and slot-reuse paths as C litmus tests for herd7, ordered as the design orders them (FILE.<test>.litmus)", IpiLitmusExport.Plan)];

    public override Mechanism Model => IpiMechanism.Instance;
    public ImplementationChecks Checks => IpiSuite.Checks;
    public ProofEncoding Proofs => RingProofs.ForDesign;
    public override BenchPlan Bench => new("senders=3", Mutant: "ref-no-full-check", Large: "senders=3 messages=3 ring=1 handlers=2", Implementation: (o, b) => { IpiBench.Run(o, b); Properties.Ipi.Systematic.Bench(o, "ipi"); })
    {
        // The protocol under each memory model, at the default bounds (--memory-model: the weak layer's cost).
        Variants = ["memory-model=sc", "memory-model=tso", "memory-model=lkmm"],
    };
}
