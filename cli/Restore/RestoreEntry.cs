using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Fuzz;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Model.Restore;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Restore;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Restore;

namespace Multikernel.Cli.Restore;

/// <summary>mm restore on the command line: its checks and proofs, its benchmark, its image format (restore, checkpoint, audit --image) and the image fuzzer.</summary>
internal sealed class RestoreEntry : MechanismEntry, IImplementationChecked, IProved, ITraceArtifacts, IFuzzed, IOwnCommands, IKernelOracled
{
    public override Mechanism Model => RestoreMechanism.Instance;
    public ImplementationChecks Checks => RestoreProperties.Checks;
    public ProofEncoding Proofs => RestoreProofs.ForDesign;
    public override BenchPlan Bench => new(Implementation: RestoreBench.Run);
    public IReadOnlyList<TraceArtifact> Artifacts =>
        [new TraceArtifact<RestoreSpec>("--image", ".img", "each counterexample as a checkpoint image that restore refuses (several: FILE.<property>.img)", RestoreImages.FromTrace)];
    public IReadOnlyList<FuzzTarget> FuzzTargets(string scratch) => [new ImageFuzz()];
    public IReadOnlyList<CliCommand> Commands => [new RestoreCommand(), new CheckpointCommand()];
    public KernelOracle KernelOracle => RestoreDiffer.Run;
}
