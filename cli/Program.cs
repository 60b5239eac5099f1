using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;

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

          check                  the main job: every mechanism's reference design, its properties over every
                                 interleaving, its implementation against the specification, its Z3 proofs
          audit DESIGN           a design's properties; each violation with its shortest trace and its finding
                                 (seed line, consequence, preconditions), grouped by what it needs. DESIGN is
                                 mechanism/name (ipi/ipi-v2, uffd/uffd-v5) or a name only one mechanism has;
                                 --junit FILE (JUnit XML with the findings)
          explore MECHANISM [--design D]   statistics and verdict of one exploration (default: the reference)
          prove [--design D]     Z3 obligations: proved / refuted (values) / unknown; a design the proofs do
                                 not encode is "not proved" (exit 3)
          replay FILE            re-execute an ITF trace written with --json; it must still describe its design
          designs                list the mechanisms and their designs
          flags FILE             VM_* flags of a C header (e.g. include/linux/mm.h) that share a bit,
                                 proved with Z3; --config CONFIG_NAME=y|m|n|N (repeatable), --bits 32|64,
                                 --arch x86_64|x86|arm64|arm|powerpc|riscv|s390|parisc|sparc64, --sweep
          bench                  explorer speed and memory (1 and N threads, liveness, --first; the large IPI
                                 configuration too: --no-large, --large-runs N; --runs N; --explorer-only);
                                 the implementations' own benchmarks
                                 (--runs N, --messages-per-run N)
          restore IMAGE          restore a checkpoint image into a fresh simulated address space (--files A,B: the
                                 files a file mapping may name); a bad image: one line, exit 2
          checkpoint --vmas START-END:anon|file=NAME,… --out FILE   write an image of such an address space
          soak [MECHANISM]       the implementation against its simulated peer with random faults
                                 (balloon: --commands N backdoor commands, default 10^6) --seed N
          differ uffd            the reference specification against the running kernel: real userfaultfd, mmap
                                 and mlock calls, /proc/self/smaps after every step (return codes; um uw ui lo);
                                 --cases N (default 200) --seed N --no-hugepages (leave vm.nr_hugepages alone);
                                 exit 0 agree, 1 divergence, 3 no userfaultfd here (the reason in one line)
          litmus FILE            a C litmus test (herd7's dialect): Never / Sometimes under sc, tso and lkmm, a shortest
                                 witness for Sometimes, "cannot express" where a model cannot decide it (exit 3);
                                 --model sc|tso|lkmm  --max-states N
          litmus --ipi DESIGN    an IPI ring's orderings (reference, ref-barriers, ref-tail-load-once and the mutants
                                 ref-publish-once, ref-drain-once, ref-barriers-no-wmb, ref-tail-once) under each
                                 model; --export DIR writes its litmus tests for herd7; exit 1 on a violation
          litmus --bench         each model's cost on the IPI orderings' litmus tests (--runs N, default 20)
          fuzz [TARGET]          the fuzz harness of every parser of untrusted input (headers, traces, args, images):
                                 --cases N (default 100,000 per target) --seed N; cases/s and outcomes

        bounds (audit, explore), per mechanism:
          ipi:    --senders N (1-3)  --messages N (1-3)  --ring N (1,2,4)  --handlers N (1-3)  --no-unregister  --no-destroy
          uffd:   --contexts N (1-2)  --all-layouts (all 25 pairs of memory types)
          balloon: --pages N (2-4)  --target N  --resets N  --refusals N  --changes N (0-2)
                  --no-batch; outside the protocol, off by default: --high-pfn (≥ 16 TiB)  --huge-target (hostile host)
        limits:   --max-states N  --max-depth N  --time-limit SECONDS  --max-memory MIB (default: half of RAM)
                  --first (stop at the first violation: shortest for its property, the others undecided)
                  --bitstate MIB (lossy visited set of that size, safety only: "probably holds", never "holds")
                  --threads N (default: all cores; the result is the same at any count)
                  eventually-properties on cycles: by a search over the pending states (default, no stored graph);
                  --graph (keep every edge, Tarjan's SCC); --safety-only (judged on terminal states only);
                  under the weak fairness each spec declares, a cycle fails only if each fair actor runs in it or
                  is disabled on it (ipi: every sending and receiving CPU, every irq_work, the unregistering and
                  destroying CPUs, not the hostile peer; balloon: the guest thread and the timer, not the host;
                  uffd, restore: no eventually-properties); --unfair: any cycle
        designs of your own: --load ASSEMBLY.dll (audit, explore, prove, replay, designs)
        check:    --seed N (replays the implementation checks)  --junit FILE (JUnit XML)   prove: --timeout MS
        output:   --json FILE (ITF)  --dot FILE (Graphviz); several traces: FILE.<property>.ext; a directory: files in it
        exit:     0 holds, 1 violated, 2 usage or input error, 3 no verdict (bound hit, proof undecided,
          header line not evaluable)
        """;

    public static int Main(string[] args)
    {
        ProgressLine.Enable(Console.Error, terminal: !Console.IsErrorRedirected);
        return Run(args, Console.Out, Console.Error);
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0) throw new UsageException("which command? (see 'multikernel help')");
            var rest = args.Skip(1).ToArray();
            return args[0] switch
            {
                "check" => Check.Run(rest, stdout),
                "audit" => Report.Audit(rest, stdout),
                "explore" => Report.Explore(rest, stdout),
                "bench" => Bench.Run(rest, stdout),
                "prove" => ProveCommand.Run(rest, stdout),
                "flags" => FlagsCommand.Run(rest, stdout),
                "replay" => Replay.Run(rest, stdout),
                "designs" => Designs(rest, stdout),
                "fuzz" => FuzzCommand.Run(rest, stdout),
                "soak" => Soak.Run(rest, stdout),
                "differ" => Differ.Run(rest, stdout),
                "litmus" => LitmusCommand.Run(rest, stdout),
                "restore" => RestoreCommands.Restore(rest, stdout),
                "checkpoint" => RestoreCommands.Checkpoint(rest, stdout),
                "help" or "--help" or "-h" => Help(rest, stdout),
                _ => throw new UsageException($"unknown command '{Model.Checking.BoundsText.Clip(args[0])}' (see 'multikernel help')"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"multikernel: {e.Message}");
            return (int)Model.Checking.ExitCode.Usage;
        }
    }

    private static int Help(string[] rest, TextWriter o)
    {
        new Args("help", rest, [], []).NoMorePositionals(0);
        o.WriteLine(Usage);
        return 0;
    }

    private static int Designs(string[] rest, TextWriter o)
    {
        Mechanisms.LoadFrom(rest, "designs");
        new Args("designs", rest, ["--load"], []).NoMorePositionals(0);
        foreach (var m in Mechanisms.All)
        {
            o.WriteLine($"{m.Name}: {m.Model.Summary}");
            foreach (var d in m.Model.Designs.All)
                o.WriteLine($"  {m.Model.Qualified(d),-28} {m.Model.Designs.OriginOf(d).ToString().ToLowerInvariant(),-9} {d.Summary}");
        }
        return 0;
    }
}
