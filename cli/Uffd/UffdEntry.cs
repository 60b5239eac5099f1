using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Uffd;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Uffd;

namespace Multikernel.Cli.Uffd;

/// <summary>userfaultfd on the command line: its checks and proofs, the fault dispatcher's benchmark, and the running kernel as an oracle.</summary>
internal sealed class UffdEntry : MechanismEntry, IImplementationChecked, IProved, IKernelOracled
{
    public override Mechanism Model => UffdMechanism.Instance;
    public ImplementationChecks Checks => UffdSuite.Checks;
    public ProofEncoding Proofs => UffdProofs.ForDesign;
    public override BenchPlan Bench => new(Mutant: "uffd-ref-no-wake", Implementation: UffdBench.Run);
    public KernelOracle KernelOracle => UffdDiffer.Run;
}
