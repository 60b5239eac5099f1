using System.Text;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Properties.Traces;

/// <summary>A trace as a kernel developer reads it: the initial state in full, then who did what and what changed.</summary>
public static class TraceText
{
    public static string Format(Trace t, string? header = null)
    {
        var sb = new StringBuilder();
        var p = t.Property;
        sb.AppendLine($"VIOLATED {p.Name} ({t.Spec}): {p.Statement}");
        if (header is not null) sb.AppendLine($"  {header}");
        sb.AppendLine($"  from:  {p.Source}");
        string shape = t.LoopIndex is int l && l < t.Length ? $", then a cycle back to state {l}" : "";
        sb.AppendLine($"  {(t.Shortest ? "shortest counterexample" : "counterexample")}: {Steps(t.Length)}{shape}");
        sb.AppendLine("  0. initial state");
        foreach (var v in t.States[0].Vars) sb.AppendLine($"       {v.Name} = {v.Value}");
        for (int i = 1; i < t.States.Count; i++)
        {
            sb.AppendLine($"  {i}. {t.States[i].Step}");
            foreach (var (name, value) in Changes(t.States[i - 1].Vars, t.States[i].Vars))
                sb.AppendLine($"       {name} = {value}");
        }
        if (t.Crashed)
            sb.AppendLine($"  -> {t.Why}");
        else if (p.Kind == PropertyKind.Eventually)
            sb.AppendLine(t.LoopIndex is int li && li < t.Length
                ? $"  -> back to state {li}: the cycle repeats forever with the obligation pending" +
                  (t.FairTo is { Count: > 0 } fair ? $"\n     (a fair cycle: {string.Join(", ", fair)} each take a step in it or are disabled on it)" : "")
                : "  -> no step is enabled: the obligation stays pending forever");
        else
            sb.AppendLine($"  -> {p.Name} is false in state {t.Length}");
        if (!t.Crashed && t.Why is { } why) sb.AppendLine($"     because {why}");
        return sb.ToString();
    }

    /// <summary>How to read <see cref="Format"/>'s traces, printed once above them; <paramref name="traces"/>: the formatted traces it explains.</summary>
    public static string Legend(IEnumerable<string> traces) =>
        "how to read a trace: state 0 lists every variable; each later step names the actor and what it did (the seed's line it runs) " +
        "and lists only the variables that step changed; '-' is an empty value (nothing held, no request, no answer); " +
        (traces.Any(t => t.Contains("next_step: ", StringComparison.Ordinal)) ? "next_step: 3/7 is the line of the sender's program it runs next, of 7; " : "") +
        "the last lines say which property fails and why, in values.";

    /// <summary>"1 step", "4 steps".</summary>
    public static string Steps(int n) => n == 1 ? "1 step" : $"{n} steps";

    /// <summary>The variables whose value differs between two rendered states.</summary>
    public static IEnumerable<(string Name, TraceValue Value)> Changes(IReadOnlyList<TraceVar> before, IReadOnlyList<TraceVar> after)
    {
        var old = before.ToDictionary(v => v.Name, v => v.Value);
        foreach (var v in after)
            if (!old.TryGetValue(v.Name, out var was) || !was.Equals(v.Value)) yield return (v.Name, v.Value);
    }
}
