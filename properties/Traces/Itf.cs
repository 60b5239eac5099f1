using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Properties.Traces;

/// <summary>
/// Traces in the Informal Trace Format of Apalache and Quint: "#meta", "vars",
/// "states" (each with its own "#meta" index) and "loop" for a lasso. The meta
/// also carries what <c>replay</c> needs: the initial state and each step's choice.
/// </summary>
public static class Itf
{
    private const long MaxSafeJsonInt = (1L << 53) - 1;

    public static string Write(Trace t, string design, string bounds, IReadOnlyList<Finding>? findings = null, string memoryModel = "sc")
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WritePropertyName("#meta");
            w.WriteStartObject();
            w.WriteString("format", "ITF");
            w.WriteString("format-description", "https://apalache-mc.org/docs/adr/015adr-trace.html");
            w.WriteString("source", t.Spec);
            w.WriteString("design", design);
            w.WriteString("bounds", bounds);
            w.WriteString("memory-model", memoryModel);
            w.WriteString("property", t.Property.Name);
            w.WriteString("statement", t.Property.Statement);
            w.WriteString("cites", t.Property.Source);
            if (findings is { Count: > 0 }) WriteFindings(w, findings);
            w.WriteNumber("initial", t.InitialIndex);
            w.WriteStartArray("choices");
            foreach (int c in t.Choices) w.WriteNumberValue(c);
            w.WriteEndArray();
            w.WriteStartArray("steps");
            for (int i = 1; i < t.States.Count; i++) w.WriteStringValue(t.States[i].Step);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("vars");
            foreach (var v in t.States[0].Vars) w.WriteStringValue(v.Name);
            w.WriteEndArray();
            w.WriteStartArray("states");
            for (int i = 0; i < t.States.Count; i++)
            {
                w.WriteStartObject();
                w.WritePropertyName("#meta");
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteEndObject();
                foreach (var v in t.States[i].Vars)
                {
                    w.WritePropertyName(v.Name);
                    WriteValue(w, v.Value);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (t.LoopIndex is int loop) w.WriteNumber("loop", loop);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>What the design declares this violation to be: where in the seed, what it costs, what it needs.</summary>
    private static void WriteFindings(Utf8JsonWriter w, IReadOnlyList<Finding> findings)
    {
        w.WriteStartArray("findings");
        foreach (var f in findings)
        {
            w.WriteStartObject();
            w.WriteString("function", f.Function);
            w.WriteString("line", f.Line);
            w.WriteString("consequence", Finding.Show(f.Consequence));
            w.WriteString("effect", f.Effect);
            w.WriteStartArray("needs");
            foreach (var n in f.Needs)
            {
                w.WriteStartObject();
                w.WriteString("name", n.Name);
                w.WriteString("meaning", n.Meaning);
                if (n.Bound is { } b) w.WriteString("bound", b);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter w, TraceValue v)
    {
        switch (v)
        {
            case TraceValue.Int i when BigInteger.Abs(i.Value) <= MaxSafeJsonInt: w.WriteNumberValue((long)i.Value); break;
            case TraceValue.Int i:
                w.WriteStartObject();
                w.WriteString("#bigint", i.Value.ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
                break;
            case TraceValue.Bool b: w.WriteBooleanValue(b.Value); break;
            case TraceValue.Str s: w.WriteStringValue(s.Value); break;
            case TraceValue.Rec r:
                w.WriteStartObject();
                foreach (var f in r.Fields) { w.WritePropertyName(f.Key); WriteValue(w, f.Value); }
                w.WriteEndObject();
                break;
            case TraceValue.List l:
                w.WriteStartArray();
                foreach (var item in l.Items) WriteValue(w, item);
                w.WriteEndArray();
                break;
        }
    }

    /// <summary>What a trace file says, as far as replay needs it.</summary>
    public sealed record Header(string Source, string Design, string Bounds, string Property, int Initial, IReadOnlyList<int> Choices, int? Loop, int StateCount);

    /// <summary>The most JSON tokens a trace file may hold: a 10,000-step trace of the largest state has under a tenth of this.</summary>
    public const long MaxTokens = 4_000_000;

    /// <summary>
    /// Reads an ITF trace written by <see cref="Write"/>; throws <see cref="FormatException"/> naming
    /// what is wrong. Tokens are counted by a streaming pass first, so no document is built whose
    /// size the file dictates beyond <see cref="MaxTokens"/>.
    /// </summary>
    public static Header Read(string json, int maxSteps = 10_000)
    {
        CheckSize(json);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException e) { throw new FormatException($"not JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the top level is not an object");
            var meta = Member(root, "#meta", JsonValueKind.Object, "");
            string Str(string name) => Member(meta, name, JsonValueKind.String, "#meta.").GetString()!;
            string source = Str("source"), design = Str("design"), bounds = Str("bounds"), property = Str("property");
            int initial = Int(Member(meta, "initial", JsonValueKind.Number, "#meta."), "#meta.initial");
            var choicesEl = Member(meta, "choices", JsonValueKind.Array, "#meta.");
            if (choicesEl.GetArrayLength() > maxSteps) throw new FormatException($"#meta.choices: more than {maxSteps} steps");
            var choices = new List<int>();
            int k = 0;
            foreach (var c in choicesEl.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Number) throw new FormatException($"#meta.choices[{k}]: not a number");
                choices.Add(Int(c, $"#meta.choices[{k}]"));
                k++;
            }
            int states = Member(root, "states", JsonValueKind.Array, "").GetArrayLength();
            int? loop = root.TryGetProperty("loop", out var l) ? Int(l, "loop") : null;
            return new Header(source, design, bounds, property, initial, choices, loop, states);
        }
    }

    /// <summary>
    /// The first place where a recorded trace (ITF text) and its re-execution differ: a step's
    /// description or a state's variables. Null when they agree. A trace only speaks of the
    /// design that wrote it: an edited design must not be judged by an old trace.
    /// </summary>
    public static string? FirstDifference(string recordedJson, Trace replayed, string design, string bounds)
    {
        using var rec = JsonDocument.Parse(recordedJson, new JsonDocumentOptions { MaxDepth = 64 });
        using var now = JsonDocument.Parse(Write(replayed, design, bounds));
        var recSteps = rec.RootElement.GetProperty("#meta").TryGetProperty("steps", out var rs) && rs.ValueKind == JsonValueKind.Array ? rs : default;
        var nowSteps = now.RootElement.GetProperty("#meta").GetProperty("steps");
        var recStates = rec.RootElement.GetProperty("states");
        var nowStates = now.RootElement.GetProperty("states");
        int n = nowStates.GetArrayLength();
        if (recStates.GetArrayLength() != n)
            return $"the trace has {recStates.GetArrayLength()} states, the design now gives {n}";
        for (int i = 0; i < n; i++)
        {
            if (i > 0)
            {
                string? said = recSteps.ValueKind == JsonValueKind.Array && recSteps.GetArrayLength() >= i ? recSteps[i - 1].ToString() : null;
                string does = nowSteps[i - 1].ToString();
                if (said != does) return $"step {i}: trace says '{Clip(said ?? "(nothing)")}', design now does '{Clip(does)}'";
            }
            var a = recStates[i];
            var b = nowStates[i];
            if (a.ValueKind != JsonValueKind.Object) return $"state {i}: not an object";
            foreach (var v in b.EnumerateObject())
            {
                if (v.Name == "#meta") continue;
                if (!a.TryGetProperty(v.Name, out var was)) return $"state {i}: the design now has {v.Name}, which the trace does not";
                if (!JsonElement.DeepEquals(was, v.Value))
                    return $"state {i}: {v.Name}: trace says {Clip(was.GetRawText())}, design now gives {Clip(v.Value.GetRawText())}";
            }
            foreach (var v in a.EnumerateObject())
                if (v.Name != "#meta" && !b.TryGetProperty(v.Name, out _)) return $"state {i}: the trace has {v.Name}, which the design no longer has";
        }
        return null;
    }

    private static string Clip(string s)
    {
        s = s.ReplaceLineEndings(" ");
        return s.Length <= 120 ? s : s[..120] + "…";
    }

    private static void CheckSize(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 64 });
        long tokens = 0;
        try
        {
            while (reader.Read())
                if (++tokens > MaxTokens) throw new FormatException($"more than {MaxTokens:N0} JSON values: not a trace this program wrote");
        }
        catch (JsonException e) { throw new FormatException($"not JSON: {e.Message}"); }
    }

    private static JsonElement Member(JsonElement obj, string name, JsonValueKind kind, string path)
    {
        if (!obj.TryGetProperty(name, out var v)) throw new FormatException($"{path}{name}: missing");
        if (v.ValueKind != kind) throw new FormatException($"{path}{name}: expected {kind.ToString().ToLowerInvariant()}, found {v.ValueKind.ToString().ToLowerInvariant()}");
        return v;
    }

    private static int Int(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) && v >= 0 ? v
            : throw new FormatException($"{path}: expected a non-negative integer");
}
