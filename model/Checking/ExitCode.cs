namespace Multikernel.Model.Checking;

/// <summary>The command line's exit codes (docs/ARCHITECTURE.md), and the one rule for combining results.</summary>
public enum ExitCode
{
    /// <summary>Every checked invariant holds.</summary>
    Holds = 0,
    /// <summary>A violation was found (its counterexample is printed).</summary>
    Violated = 1,
    /// <summary>Usage or input error.</summary>
    Usage = 2,
    /// <summary>A bound, memory or time limit, or an undecided proof, before a verdict.</summary>
    NoVerdict = 3,
}

public static class ExitCodes
{
    /// <summary>A violation outranks an input error, which outranks no verdict, which outranks success.</summary>
    public static ExitCode Worst(ExitCode a, ExitCode b) => Rank(a) >= Rank(b) ? a : b;

    public static ExitCode Worst(IEnumerable<ExitCode> codes)
    {
        var w = ExitCode.Holds;
        foreach (var c in codes) w = Worst(w, c);
        return w;
    }

    private static int Rank(ExitCode c) => c switch
    {
        ExitCode.Violated => 3,
        ExitCode.Usage => 2,
        ExitCode.NoVerdict => 1,
        _ => 0,
    };
}
