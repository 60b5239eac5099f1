using Multikernel.Cli.Registry;
using Multikernel.Model.Balloon;
using Multikernel.Model.Checking;
using Multikernel.Properties.Balloon;
using Multikernel.Properties.Checking;
using Multikernel.Proofs.Balloon;
using Multikernel.Proofs.Obligations;

namespace Multikernel.Cli.Balloon;

/// <summary>The VMware balloon on the command line: its checks and proofs, the driver's benchmark, and the soak against the simulated host.</summary>
internal sealed class BalloonEntry : MechanismEntry, IImplementationChecked, IProved, ISoaked
{
    public override Mechanism Model => BalloonMechanism.Instance;
    public ImplementationChecks Checks => BalloonSuite.Checks;
    public ProofEncoding Proofs => BalloonProofs.ForDesign;
    public override BenchPlan Bench => new("pages=4 resets=2 refusals=2 changes=2", Mutant: "balloon-ref-no-lock", Implementation: (o, b) => { BalloonBench.Run(o, b); Properties.Ipi.Systematic.Bench(o, "balloon"); });
    public SoakRun Soak => (n, seed) => BalloonSoak.Run(n, seed) is var r ? (r.Holds, r.ToString()) : default;
}
