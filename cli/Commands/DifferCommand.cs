using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Checking;

namespace Multikernel.Cli.Commands;

/// <summary>
/// differ MECHANISM --cases N --seed S: the mechanism's reference specification against the running
/// kernel, through the oracle the mechanism declares (<see cref="IKernelOracled"/>).
/// </summary>
internal sealed class DifferCommand : CliCommand
{
    public override string Name => "differ";
    public override string Summary => "the reference specification against the running kernel (real syscalls, /proc/self/smaps after every step); exit 0 agree, 1 divergence, 3 the kernel cannot be asked here";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("MECHANISM", "a mechanism with a kernel oracle", WithOracle)];
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--cases", "sequences of steps to run (default 200)"),
        new("--seed", "the random seed (printed; replays a run)"),
        OptionSpec.Flag("--no-hugepages", "leave vm.nr_hugepages alone"),
    ];

    private static IEnumerable<string> WithOracle() => Mechanisms.All.Where(m => m is IKernelOracled).Select(m => m.Name);

    public override int Run(Args a, TextWriter o)
    {
        string known = string.Join(", ", WithOracle());
        string what = a.Positionals.FirstOrDefault() ?? throw new UsageException($"differ: which mechanism? (one of: {known})");
        var oracle = (Mechanisms.Find(what) as IKernelOracled)?.KernelOracle
            ?? throw new UsageException($"differ: no kernel oracle for '{Model.Checking.BoundsText.Clip(what)}' (known: {known})");
        int cases = a.Int("--cases", 200, 1, 10_000_000);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        return oracle(cases, seed, !a.Flag("--no-hugepages"), o);
    }
}
