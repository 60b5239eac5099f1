namespace Multikernel.Coyote.Systematic;

/// <summary>
/// What one test iteration did, in the specification's words: which CPU made which access, in the
/// order the scheduler let them. Written by the scheduling points, read when an iteration fails.
/// Coyote runs one controlled operation at a time, so the lock only guards against the harness.
/// </summary>
public static class Steps
{
    private static readonly AsyncLocal<(string Cpu, int Iteration)?> s_cpu = new();
    private static int s_iteration;
    private static readonly List<string> s_lines = [];
    private static readonly Lock s_lock = new();
    private static string? s_last;
    private static int s_repeats;
    /// <summary>Set at the first failure: what the stopped CPUs do while Coyote unwinds them is not part of the schedule.</summary>
    private static bool s_frozen;

    /// <summary>The CPU the calling operation plays ("CPU2"); set once at the start of each operation.</summary>
    public static string Cpu => s_cpu.Value?.Cpu ?? "test";

    /// <summary>
    /// Whether the calling operation belongs to an iteration that is over. After a failure Coyote
    /// stops scheduling, and a CPU left spinning (on a reader another CPU never released) would spin
    /// on into the next iteration: its next scheduling point ends it instead.
    /// </summary>
    public static bool Stale => s_cpu.Value is { } c && c.Iteration != Volatile.Read(ref s_iteration);

    /// <summary>The test's own operation starts an iteration.</summary>
    public static void Begin()
    {
        Reset();
        s_cpu.Value = ("test", Volatile.Read(ref s_iteration));
    }

    public static void Reset()
    {
        lock (s_lock) { s_lines.Clear(); s_last = null; s_repeats = 0; s_frozen = false; Interlocked.Increment(ref s_iteration); }
    }

    /// <summary>Specification.Assert, with the schedule frozen at the failure.</summary>
    public static void Check(bool holds, string property)
    {
        if (holds) return;
        lock (s_lock) s_frozen = true;
        Microsoft.Coyote.Specifications.Specification.Assert(false, property);
    }

    /// <summary>
    /// Runs one CPU's part as a controlled operation. An exception from the implementation is the
    /// specification's no-crash failure, reported with the step it came from; Coyote's own
    /// exceptions (it stops the other CPUs with them) pass through.
    /// </summary>
    public static Task Run(string cpu, Action body)
    {
        int iteration = Volatile.Read(ref s_iteration);
        return Task.Run(() =>
        {
            s_cpu.Value = (cpu, iteration);
            Body(cpu, body);
        });
    }

    private static void Body(string cpu, Action body)
    {
        try { body(); }
        catch (Exception e) when (e.GetType().Namespace?.StartsWith("Microsoft.Coyote", StringComparison.Ordinal) != true)
        {
            Check(false, $"no-crash: {cpu} threw {e.GetType().Name} ({e.Message})");
        }
    }

    /// <summary>Adds "CPU2: line"; a CPU that spins on the same line is shown once with a count. Ends a CPU of a finished iteration.</summary>
    public static void Record(string line)
    {
        if (Stale) throw new OperationCanceledException($"{Cpu} belongs to a finished iteration");
        string entry = $"{Cpu}: {line}";
        lock (s_lock)
        {
            if (s_frozen) return;
            if (entry == s_last) { s_repeats++; return; }
            Flush();
            s_last = entry;
        }
    }

    private static void Flush()
    {
        if (s_last is null) return;
        s_lines.Add(s_repeats == 0 ? s_last : $"{s_last}   (x{s_repeats + 1})");
        s_repeats = 0;
    }

    /// <summary>The iteration's steps so far, numbered.</summary>
    public static IReadOnlyList<string> Lines()
    {
        lock (s_lock)
        {
            var all = new List<string>(s_lines);
            if (s_last is not null) all.Add(s_repeats == 0 ? s_last : $"{s_last}   (x{s_repeats + 1})");
            return all;
        }
    }
}
