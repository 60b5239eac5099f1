using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml;
using Multikernel.Model.Checking;
using QuikGraph;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// The whole state graph of a small configuration as a QuikGraph graph, for export (GraphML, DOT)
/// and as the tests' independent oracle. It is built by its own plain breadth-first search (a
/// dictionary of whole states, one thread), not by the explorer: state i is the i-th state that
/// search meets, parents in order and their steps in order, which is also the explorer's numbering.
/// A step that throws has no edge (a crash has no successor).
/// </summary>
public sealed class StateGraph
{
    /// <summary>The largest graph exported: beyond it a drawing is unreadable and a GraphML file huge.</summary>
    public const int MaxStates = 100_000;

    public required string Spec { get; init; }
    /// <summary>Vertices are state ids; an edge's tag is its step: its position in the enabled list.</summary>
    public required AdjacencyGraph<int, TaggedEdge<int, int>> Graph { get; init; }
    public required int Initial { get; init; }
    /// <summary>Per state: its variables, rendered; the always-properties it violates, pending eventually-properties, reached sometimes-properties (bits).</summary>
    public required string[] Labels { get; init; }
    public required ulong[] Violated { get; init; }
    public required ulong[] Pending { get; init; }
    public required ulong[] Reached { get; init; }
    /// <summary>Per state, the fair actors enabled there; per edge (in the graph's order of each vertex's out-edges), its description and actor (-1: owed nothing).</summary>
    public required ulong[] EnabledFair { get; init; }
    public required Dictionary<TaggedEdge<int, int>, (string Step, int Actor)> Steps { get; init; }
    /// <summary>Per state: no step is enabled (a state whose steps cannot be listed is not terminal: it crashed).</summary>
    public required bool[] Terminal { get; init; }
    /// <summary>Steps (or lists of steps) that threw.</summary>
    public required int Crashes { get; init; }
    public required IReadOnlyList<Property> Properties { get; init; }
    public required IReadOnlyList<string> FairActors { get; init; }

    /// <summary>Explores <paramref name="spec"/> whole; null when it has more than <paramref name="maxStates"/> states.</summary>
    public static StateGraph? Build(ISpecHandle spec, int maxStates = MaxStates) => spec.Accept(new Builder(maxStates));

    private sealed class Builder(int maxStates) : ISpecVisitor<StateGraph?>
    {
        public StateGraph? Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            var initial = new List<TState>();
            spec.Initial(initial);
            var ids = new Dictionary<TState, int>(new BytesEqual<TState>());
            var states = new List<TState>();
            var graph = new AdjacencyGraph<int, TaggedEdge<int, int>>(allowParallelEdges: true);
            var steps = new Dictionary<TaggedEdge<int, int>, (string, int)>();
            var enabledFair = new List<ulong>();
            var terminal = new List<bool>();
            int crashes = 0;
            int Id(in TState s)
            {
                if (ids.TryGetValue(s, out int id)) return id;
                id = states.Count;
                ids.Add(s, id);
                states.Add(s);
                graph.AddVertex(id);
                return id;
            }
            foreach (var s in initial) Id(s);
            Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
            for (int u = 0; u < states.Count; u++)
            {
                if (states.Count > maxStates) return null;
                var s = states[u];
                int n;
                try { n = spec.Enabled(s, actions); }
                catch (Exception e) when (e is not OutOfMemoryException) { enabledFair.Add(0); terminal.Add(false); crashes++; continue; }
                terminal.Add(n == 0);
                ulong fair = 0;
                for (int k = 0; k < n; k++)
                {
                    int actor = spec.Actor(actions[k]);
                    if (actor >= 0) fair |= 1UL << actor;
                    TState t;
                    try { t = spec.Next(s, actions[k]); }
                    catch (Exception e) when (e is not OutOfMemoryException) { crashes++; continue; }
                    var edge = new TaggedEdge<int, int>(u, Id(t), k);
                    graph.AddEdge(edge);
                    string what;
                    try { what = spec.Describe(s, actions[k]); }
                    catch (Exception e) when (e is not OutOfMemoryException) { what = actions[k].ToString() ?? "?"; }
                    steps[edge] = (what, actor);
                }
                enabledFair.Add(fair);
            }
            if (states.Count > maxStates) return null;
            var labels = new string[states.Count];
            var violated = new ulong[states.Count];
            var pending = new ulong[states.Count];
            var reached = new ulong[states.Count];
            var vars = new List<TraceVar>();
            for (int i = 0; i < states.Count; i++)
            {
                vars.Clear();
                spec.Render(states[i], vars);
                labels[i] = string.Join(", ", vars.Select(v => $"{v.Name}={v.Value}"));
                violated[i] = spec.Violated(states[i]);
                pending[i] = spec.Pending(states[i]);
                reached[i] = spec.Reached(states[i]);
            }
            return new StateGraph
            {
                Spec = spec.Name, Graph = graph, Initial = initial.Count, Labels = labels, Violated = violated, Pending = pending,
                Reached = reached, EnabledFair = [.. enabledFair], Steps = steps, Terminal = [.. terminal], Crashes = crashes, Properties = spec.Properties, FairActors = spec.FairActors,
            };
        }
    }

    /// <summary>States are unmanaged structs made from zeroed memory: equal states have equal bytes (as the explorer's fingerprints assume).</summary>
    private sealed class BytesEqual<T> : IEqualityComparer<T> where T : unmanaged
    {
        public bool Equals(T a, T b) => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));
        public int GetHashCode(T s) => (int)Fingerprint.Of(s);
    }

    private string Names(ulong bits, PropertyKind kind)
    {
        var names = new List<string>();
        for (int i = 0; i < Properties.Count; i++)
            if ((bits & (1UL << i)) != 0 && Properties[i].Kind == kind) names.Add(Properties[i].Name);
        return string.Join(" ", names);
    }

    /// <summary>GraphML: a node per state (its variables, the properties it violates, owes and reaches, whether initial), an edge per step.</summary>
    public string ToGraphMl()
    {
        var sb = new StringBuilder();
        using (var x = XmlWriter.Create(sb, new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, NewLineChars = "\n" }))
        {
            const string ns = "http://graphml.graphdrawing.org/xmlns";
            x.WriteStartElement("graphml", ns);
            foreach (var (id, on, type) in new[] { ("state", "node", "string"), ("initial", "node", "boolean"), ("violates", "node", "string"),
                         ("pending", "node", "string"), ("reaches", "node", "string"), ("step", "edge", "string"), ("choice", "edge", "int") })
            {
                x.WriteStartElement("key", ns);
                x.WriteAttributeString("id", id);
                x.WriteAttributeString("for", on);
                x.WriteAttributeString("attr.name", id);
                x.WriteAttributeString("attr.type", type);
                x.WriteEndElement();
            }
            x.WriteStartElement("graph", ns);
            x.WriteAttributeString("id", Spec);
            x.WriteAttributeString("edgedefault", "directed");
            void Data(string key, string value)
            {
                if (value.Length == 0) return;
                x.WriteStartElement("data", ns);
                x.WriteAttributeString("key", key);
                x.WriteString(Text(value));
                x.WriteEndElement();
            }
            foreach (int v in Graph.Vertices)
            {
                x.WriteStartElement("node", ns);
                x.WriteAttributeString("id", $"s{v}");
                Data("state", Labels[v]);
                if (v < Initial) Data("initial", "true");
                Data("violates", Names(Violated[v], PropertyKind.Always));
                Data("pending", Names(Pending[v], PropertyKind.Eventually));
                Data("reaches", Names(Reached[v], PropertyKind.Sometimes));
                x.WriteEndElement();
            }
            foreach (var e in Graph.Edges)
            {
                x.WriteStartElement("edge", ns);
                x.WriteAttributeString("source", $"s{e.Source}");
                x.WriteAttributeString("target", $"s{e.Target}");
                Data("step", Steps[e].Step);
                Data("choice", e.Tag.ToString(CultureInfo.InvariantCulture));
                x.WriteEndElement();
            }
            x.WriteEndElement();
            x.WriteEndElement();
        }
        return sb.Append('\n').ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"", StringComparison.Ordinal);
    }

    /// <summary>Graphviz DOT: initial states double-circled, states that violate an always-property red.</summary>
    public string ToDot()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"digraph \"{Dot(Spec)}\" {{\n  node [shape=box, fontsize=10];\n");
        foreach (int v in Graph.Vertices)
        {
            string violates = Names(Violated[v], PropertyKind.Always);
            sb.Append(CultureInfo.InvariantCulture, $"  s{v} [label=\"{v}: {Dot(Labels[v])}{(violates.Length > 0 ? $"\\nviolates {Dot(violates)}" : "")}\"");
            if (v < Initial) sb.Append(", peripheries=2");
            if (violates.Length > 0) sb.Append(", color=red");
            sb.Append("];\n");
        }
        foreach (var e in Graph.Edges)
            sb.Append(CultureInfo.InvariantCulture, $"  s{e.Source} -> s{e.Target} [label=\"{Dot(Steps[e].Step)}\"];\n");
        return sb.Append("}\n").ToString();
    }

    /// <summary>Control characters as escapes: a design's text is data, not terminal or file control.</summary>
    private static string Text(string s)
    {
        if (!s.Any(char.IsControl)) return s;
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
            if (!char.IsControl(c)) sb.Append(c);
            else if (c == '\n') sb.Append("\\n");
            else sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
        return sb.ToString();
    }

    private static string Dot(string s) => Text(s).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
