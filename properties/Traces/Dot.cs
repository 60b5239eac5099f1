using System.Text;
using Multikernel.Properties.Explorer;

namespace Multikernel.Properties.Traces;

/// <summary>A trace as a Graphviz digraph: one box per state (what changed), one edge per step.</summary>
public static class Dot
{
    public static string Write(Trace t)
    {
        var sb = new StringBuilder();
        sb.AppendLine("digraph trace {");
        sb.AppendLine($"  label=\"{Esc($"{t.Spec}: {t.Property.Name} violated")}\"; labelloc=t;");
        sb.AppendLine("  node [shape=box, fontname=\"monospace\", fontsize=10]; edge [fontname=\"monospace\", fontsize=9];");
        for (int i = 0; i < t.States.Count; i++)
        {
            var lines = i == 0
                ? t.States[0].Vars.Select(v => $"{v.Name} = {v.Value}")
                : TraceText.Changes(t.States[i - 1].Vars, t.States[i].Vars).Select(c => $"{c.Name} = {c.Value}");
            string body = string.Concat(lines.Select(l => Esc(l) + "\\l"));
            string attrs = i == t.Length ? ", color=red, penwidth=2" : "";
            sb.AppendLine($"  s{i} [label=\"state {i}\\l{body}\"{attrs}];");
        }
        for (int i = 1; i < t.States.Count; i++)
            sb.AppendLine($"  s{i - 1} -> s{i} [label=\"{i}. {Esc(t.States[i].Step ?? "")}\"];");
        if (t.LoopIndex is int loop && loop < t.Length)
            sb.AppendLine($"  s{t.Length} -> s{loop} [style=dashed, label=\"cycle\"];");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Esc(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
