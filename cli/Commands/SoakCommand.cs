using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Checking;

namespace Multikernel.Cli.Commands;

/// <summary>
/// soak [MECHANISM] --commands N --seed S: the implementation against its simulated peer for N
/// operations with random faults (the balloon: 10^6 backdoor commands with RESETs, BUSY, refusals
/// and target changes). Exit 1 if the views ever diverge or the protocol is breached.
/// </summary>
internal sealed class SoakCommand : CliCommand
{
    public override string Name => "soak";
    public override string Summary => "the implementation against its simulated peer with random faults (default: every mechanism with a soak)";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("[MECHANISM]", "a mechanism with a soak", () => WithSoak.Select(m => m.Name))];
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--commands", "operations to run (default 10^6)"),
        new("--seed", "the random seed (printed; replays a run)"),
    ];

    private static List<MechanismEntry> WithSoak => Mechanisms.All.Where(m => m is ISoaked).ToList();

    public override int Run(Args a, TextWriter o)
    {
        long n = a.Long("--commands", 1_000_000, 1, 1_000_000_000);
        ulong seed = a.Value("--seed") != null ? (ulong)a.Long("--seed", 0, 0, long.MaxValue) : FsRun.FreshSeed();
        var with = WithSoak;
        if (a.Positionals.FirstOrDefault() is { } name)
            with = with.Where(m => m.Name == name).ToList() is { Count: > 0 } one ? one
                : throw new UsageException($"soak: no soak for '{Model.Checking.BoundsText.Clip(name)}' (mechanisms with one: {string.Join(", ", WithSoak.Select(m => m.Name))})");
        o.WriteLine($"multikernel soak: {n:N0} operations, seed {seed} (replay with --seed {seed})");
        bool ok = true;
        foreach (var m in with)
        {
            var (holds, summary) = ((ISoaked)m).Soak(n, seed);
            o.WriteLine($"  {m.Name}: {(holds ? "holds" : "FAILS")}: {summary}");
            ok &= holds;
        }
        return ok ? 0 : 1;
    }
}
