using Multikernel.Cli.CommandLine;
using Multikernel.Model.Memory;

namespace Multikernel.Cli.Commands;

/// <summary>
/// litmus FILE: a test in herd7's C-litmus dialect, answered Never / Sometimes under each memory
/// model (sc, tso, lkmm; --model M for one), with a shortest witness for Sometimes and, where a
/// model cannot decide the test, "cannot express" and why. Exit 0 answered, 2 a bad file (one
/// line, with line:column), 3 some model cannot express the test or hit --max-states.
/// </summary>
internal sealed class LitmusCommand : CliCommand
{
    public const long MaxBytes = 1 << 20;

    public override string Name => "litmus";
    public override string Summary => "a C litmus test (herd7's dialect): Never / Sometimes under sc, tso and lkmm, with a shortest witness; --ipi DESIGN: an IPI ring's orderings; --bench: each model's cost";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("[FILE]", "the litmus test")];
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--model", "one model only: sc, tso or lkmm (default: all three)", ValueName: "M"),
        new("--max-states", "states per model and test before the bound is reported (exit 3)"),
        new("--ipi", "an IPI ring's orderings (reference, its barrier variants and the four ordering mutants) as litmus tests", ValueName: "DESIGN"),
        new("--export", "with --ipi: write its litmus tests into this directory, for herd7", ValueName: "DIR"),
        new("--runs", "with --bench: runs per model (default 20)"),
        OptionSpec.Flag("--bench", "each model's cost on the IPI orderings' litmus tests"),
    ];

    public override int Run(Args a, TextWriter o)
    {
        long maxStates = a.Long("--max-states", LitmusCheck.DefaultMaxStates, 1, 100_000_000);
        var models = Models(a.Value("--model"));
        if (a.Flag("--bench"))
        {
            if (a.Positionals.Count > 0) throw new UsageException("litmus: --bench takes no file");
            return Bench(models, a.Int("--runs", 20, 1, 10_000), maxStates, o);
        }
        if (a.Value("--ipi") is { } design)
        {
            if (a.Positionals.Count > 0) throw new UsageException("litmus: --ipi takes no file");
            var ordering = Model.Ipi.IpiOrdering.Find(design) ?? throw new UsageException(
                $"litmus: --ipi '{Model.Checking.BoundsText.Clip(design)}' is not one of {string.Join(", ", Model.Ipi.IpiOrdering.All.Select(x => x.Name))}");
            return Ipi(ordering, models, maxStates, a.Value("--export"), o);
        }
        if (a.Value("--export") is not null) throw new UsageException("litmus: --export writes an IPI design's litmus tests: give --ipi DESIGN");
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("litmus: which test? (a C litmus file, as herd7 reads)");
        string text = InputFile.ReadText(file, MaxBytes, "litmus");
        return Check(text, file, models, maxStates, o);
    }

    /// <summary>
    /// The cost of each model: every IPI ordering's litmus tests (IpiOrdering.All), --runs times,
    /// distinct states and time per model. Exit 3 when a bound was hit.
    /// </summary>
    public static int Bench(IReadOnlyList<MemoryModel> models, int runs, long maxStates, TextWriter o)
    {
        var tests = Model.Ipi.IpiOrdering.All.SelectMany(d => d.Tests()).Select(p => LitmusParser.Parse(p.Litmus)).ToList();
        o.WriteLine($"litmus bench: the IPI orderings' {tests.Count} litmus tests, {runs} runs per model");
        bool bound = false;
        foreach (var m in models)
        {
            long states = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int r = 0; r < runs; r++)
                foreach (var t in tests)
                {
                    var ans = m.Run(t, maxStates);
                    states += ans.States;
                    bound |= ans.BoundHit;
                }
            double s = clock.Elapsed.TotalSeconds;
            o.WriteLine(System.FormattableString.Invariant($"  {m.Name,-5} {states / runs,8:N0} states per run  {s / runs * 1000,8:F1} ms per run  {states / Math.Max(s, 1e-9),12:N0} states/s"));
        }
        if (bound) o.WriteLine($"  bound: --max-states {maxStates:N0} reached in some test: these figures are not a whole exploration");
        return bound ? 3 : 0;
    }

    /// <summary>
    /// An IPI ring's ordering under each model: each property a litmus test whose exists clause is its
    /// violation (Never: holds; Sometimes: violated, with the witness). --export DIR writes the tests
    /// for herd7, each file whole. Exit 1 on a violation, 3 when a model cannot express one.
    /// </summary>
    public static int Ipi(Model.Ipi.IpiOrdering d, IReadOnlyList<MemoryModel> models, long maxStates, string? export, TextWriter o)
    {
        var tests = d.Tests();
        if (export is not null)
        {
            if (FileKinds.Of(export) != FileKind.Directory) throw new UsageException($"litmus: --export {Model.Checking.Printable.Line(export)}: no such directory");
            foreach (var t in tests) OutputFile.Write(Path.Combine(export, $"ipi-{d.Name}-{t.Name}.litmus"), t.Litmus);
        }
        o.WriteLine($"ipi/{d.Name} under weak memory: {d.Summary}");
        o.WriteLine("  the publish/consume and slot-reuse paths as litmus tests (P0 the sending CPU, P1 the receiving CPU's drain;");
        o.WriteLine("  the payload one ONCE word: LKMM's plain-access race rules are not modelled)");
        bool violated = false, none = false;
        foreach (var t in tests)
        {
            var test = LitmusParser.Parse(t.Litmus);
            o.WriteLine($"  {t.Name}: {t.Meaning}");
            foreach (var m in models)
            {
                var v = LitmusCheck.Judge(test, m, maxStates);
                string states = v.Answer is { } ans ? $"{ans.States:N0} states" : "";
                if (v.CannotExpress is { } why) { none = true; o.WriteLine($"    {m.Name,-5} cannot express: {why}"); continue; }
                if (v.Answer!.BoundHit) { none = true; o.WriteLine($"    {m.Name,-5} bound: --max-states {maxStates:N0} reached (no verdict)"); continue; }
                bool holds = v.Answer.Observation == Observation.Never;
                violated |= !holds;
                o.WriteLine($"    {m.Name,-5} {(holds ? "holds" : "VIOLATED"),-9} {states}");
                if (!holds) o.Write(LitmusCheck.Witness(v.Answer));
            }
        }
        if (export is not null) o.WriteLine($"  written: {string.Join(", ", tests.Select(t => Path.Combine(export, $"ipi-{d.Name}-{t.Name}.litmus")))}");
        return violated ? 1 : none ? 3 : 0;
    }

    public static IReadOnlyList<MemoryModel> Models(string? name)
    {
        if (name is null) return MemoryModel.All;
        return MemoryModel.Named(name) is { } m ? [m]
            : throw new UsageException($"litmus: --model '{Model.Checking.BoundsText.Clip(name)}' is not one of {string.Join(", ", MemoryModel.All.Select(x => x.Name))}");
    }

    public static int Check(string text, string file, IReadOnlyList<MemoryModel> models, long maxStates, TextWriter o)
    {
        LitmusTest t;
        try { t = LitmusParser.Parse(text); }
        catch (LitmusSyntaxException e) { throw new UsageException($"litmus: {file}:{e.Where}: {e.Message}"); }
        return LitmusCheck.Print(t, file, models, maxStates, o);
    }
}
