using Multikernel.Model.Memory;

namespace Multikernel.Cli.Commands;

/// <summary>
/// litmus FILE: a test in herd7's C-litmus dialect, answered Never / Sometimes under each memory
/// model (sc, tso, lkmm; --model M for one), with a shortest witness for Sometimes and, where a
/// model cannot decide the test, "cannot express" and why. Exit 0 answered, 2 a bad file (one
/// line, with line:column), 3 some model cannot express the test or hit --max-states.
/// </summary>
internal static class LitmusCommand
{
    public const long MaxBytes = 1 << 20;

    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("litmus", argv, ["--model", "--max-states"], []);
        a.NoMorePositionals(1);
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("litmus: which test? (a C litmus file, as herd7 reads)");
        long maxStates = a.Long("--max-states", LitmusCheck.DefaultMaxStates, 1, 100_000_000);
        var models = Models(a.Value("--model"));
        string text = InputFile.ReadText(file, MaxBytes, "litmus");
        return Check(text, file, models, maxStates, o);
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
