using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;

namespace Multikernel.Cli.Fuzz;

/// <summary>What one fuzz case did: its exit code (or the exception that escaped), and what it cost.</summary>
internal readonly record struct FuzzOutcome(int Exit, string? Crash, long Allocated, long Output, double Seconds, int Size)
{
    /// <summary>The kind of error a refused input got (the target's classification), or null.</summary>
    public string? Kind { get; init; }
    /// <summary>A refused input that changed state anyway: a partial effect (a crash of its own kind).</summary>
    public bool Partial { get; init; }

    /// <summary>Allocation is bounded by a linear function of the input: this many bytes per input character, plus a constant.</summary>
    public const long BytesPerChar = 64, BytesFixed = 96L << 20;
    /// <summary>Output too: a bad input is one line; a good one prints its verdict and traces.</summary>
    public const long OutputPerChar = 16, OutputFixed = 4L << 20;

    public bool Allowed => Crash is null && Exit is >= 0 and <= 3 &&
                           Allocated <= BytesPerChar * Size + BytesFixed && Output <= OutputPerChar * Size + OutputFixed;

    public string Why => Crash is { } c ? $"threw {c}" :
        Exit is < 0 or > 3 ? $"exit {Exit}" :
        Allocated > BytesPerChar * Size + BytesFixed ? $"allocated {Allocated:N0} bytes for {Size:N0} characters of input" :
        $"printed {Output:N0} characters for {Size:N0} characters of input";
}

/// <summary>
/// A parser of untrusted input and its grammar-aware generator: structured inputs (nesting,
/// chains, huge literals) and their corruptions (truncation, flips), with a shrinker, so a
/// failure comes back as a small input.
/// </summary>
internal abstract class FuzzTarget
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public abstract Gen<string> Inputs { get; }
    /// <summary>Smaller inputs to try when one fails: lines or halves removed.</summary>
    public virtual IEnumerable<string> Shrink(string input) => FuzzShrink.Lines(input);
    /// <summary>Runs the input through the command's own code; returns the exit code (a usage error is 2).</summary>
    protected abstract int Execute(string input, TextWriter o);
    /// <summary>The kind of the error an input was refused with, from the command's output; null where kinds are not told apart.</summary>
    protected virtual string? ErrorKind(string output) => null;

    public FuzzOutcome Run(string input)
    {
        var o = new StringWriter();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        int exit;
        string? crash = null;
        bool partial = false;
        try { exit = Execute(input, o); }
        catch (UsageException e) { exit = 2; o.WriteLine(e.Message); }
        catch (PartialEffectException e) { exit = -1; partial = true; crash = $"partial effect: {e.Message}"; }
        catch (Exception e) when (e is not OutOfMemoryException) { exit = -1; crash = $"{e.GetType().Name}: {e.Message}"; }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        double seconds = clock.Elapsed.TotalSeconds;
        return new FuzzOutcome(exit, crash, allocated, o.GetStringBuilder().Length, seconds, input.Length)
        {
            Kind = exit == 2 ? ErrorKind(o.ToString()) : null,
            Partial = partial,
        };
    }

    /// <summary>The property: every input ends in exit 0-3, no exception, allocation and output linear in its size.</summary>
    public Property Property(Action<FuzzOutcome>? observe = null) =>
        Prop.ForAll(Arb.From(Inputs, Shrink), input =>
        {
            var r = Run(input);
            observe?.Invoke(r);
            return r.Allowed.Label($"{Name}: {r.Why}");
        });
}

internal static class FuzzShrink
{
    public static IEnumerable<string> Lines(string input)
    {
        if (input.Length <= 1) yield break;
        var lines = input.Split('\n');
        if (lines.Length > 1)
        {
            yield return string.Join('\n', lines.Take(lines.Length / 2));
            yield return string.Join('\n', lines.Skip(lines.Length / 2));
            for (int i = 0; i < lines.Length && i < 32; i++) yield return string.Join('\n', lines.Where((_, k) => k != i));
        }
        else
        {
            yield return input[..(input.Length / 2)];
            yield return input[(input.Length / 2)..];
        }
    }

    public static Gen<string> Corrupt(Gen<string> inputs) =>
        from text in inputs
        from kind in Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)))
        from at in Gen.Choose(0, Math.Max(0, text.Length - 1))
        from ch in Gen.Elements('\0', '(', ')', '#', '\n', '\\', '"', '{', '}', '9', 'x', '\u00e9', ',')
        select kind switch
        {
            1 => text[..at],                                                  // truncation
            2 when text.Length > 0 => text[..at] + ch + text[(at + 1)..],     // a flipped character
            3 => text[..at] + text[at..] + text[at..],                         // a duplicated tail
            _ => text,
        };
}

/// <summary>Thrown by a target when a refused input changed state anyway.</summary>
internal sealed class PartialEffectException(string message) : Exception(message);
