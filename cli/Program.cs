using Multikernel.Cli.Commands;
using Multikernel.Model.Ipi;

namespace Multikernel.Cli;

/// <summary>
/// The command-line program. Exit codes (DESIGN.md): 0 every checked invariant
/// holds; 1 a violation was found; 2 usage or input error; 3 a bound or time
/// limit was hit before a verdict.
/// </summary>
public static class Program
{
    public const string Usage = """
        usage: multikernel <command> [options]

          check                  the main job: the reference design's invariants (explorer), the
                                 implementation against the specification, the Z3 proofs
          prove [--design D]     the ring's Z3 obligations: proved / refuted (values) / unknown
          audit DESIGN           a design's invariants; each violation with its shortest trace
                                 (ipi-v1, ipi-v2, ref-…; uffd-v5, uffd/reference, uffd-ref-…)
          explore ipi|uffd --design D   statistics and verdict of one exploration
          flags FILE             VM_* flags of a C header (e.g. include/linux/mm.h) that share a bit,
                                 proved with Z3; --config CONFIG_NAME=y (repeatable), --bits 32|64
          bench                  explorer speed and memory; implementation messages/s against a
                                 System.Threading.Channels bounded channel
          replay FILE            re-execute an ITF trace written with --json
          designs                list the designs

        uffd:     --contexts N (1-2)  --all-layouts (all 25 pairs of memory types)
        bounds:   --senders N (1-3)  --messages N (1-3)  --ring N (1,2,4)  --handlers N (1-3)
                  --no-unregister  --no-destroy
        check:    --seed N (replays the implementation checks)    prove: --timeout MS
        limits:   --max-states N  --max-depth N  --time-limit SECONDS  --safety-only
        output:   --json FILE (ITF)  --dot FILE (Graphviz); several traces: FILE.<property>.ext
        exit:     0 holds, 1 violated, 2 usage or input error, 3 no verdict (bound hit, proof undecided,
          header line not evaluable)
        """;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0) { stderr.WriteLine("multikernel: which command? (see 'multikernel help')"); return 2; }
            var rest = args.Skip(1);
            return args[0] switch
            {
                "check" => IpiCommands.Check(rest, stdout),
                "audit" => UffdCommands.Names(args.ElementAtOrDefault(1)) ? UffdCommands.Audit(rest, stdout) : IpiCommands.Audit(rest, stdout),
                "explore" => args.ElementAtOrDefault(1) == "uffd" ? UffdCommands.Explore(rest, stdout) : IpiCommands.Explore(rest, stdout),
                "bench" => IpiCommands.Bench(rest, stdout),
                "prove" => ProveCommand.Run(rest, stdout),
                "flags" => FlagsCommand.Run(rest, stdout),
                "replay" => Replay.Run(rest, stdout),
                "designs" => Designs(stdout),
                "help" or "--help" or "-h" => Help(stdout),
                _ => throw new UsageException($"unknown command '{args[0]}' (see 'multikernel help')"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"multikernel: {e.Message}");
            return 2;
        }
    }

    private static int Help(TextWriter o) { o.WriteLine(Usage); return 0; }

    private static int Designs(TextWriter o)
    {
        o.WriteLine("ipi (audit NAME):");
        foreach (var d in IpiDesigns.All) o.WriteLine($"  {d.Name,-24} {d.Summary}");
        o.WriteLine("uffd (audit uffd/NAME, or the name alone when it starts with uffd-):");
        foreach (var d in Model.Uffd.UffdDesigns.All) o.WriteLine($"  {d.Name,-24} {d.Summary}");
        return 0;
    }
}
