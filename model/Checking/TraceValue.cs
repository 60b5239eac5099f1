using System.Globalization;
using System.Text;

namespace Multikernel.Model.Checking;

/// <summary>
/// A value shown in a trace. The shapes are those of ITF (Apalache / Quint):
/// integers, booleans, strings, records and lists; text and DOT renderings are
/// derived from the same value so the three formats cannot disagree.
/// </summary>
public abstract record TraceValue
{
    public sealed record Int(System.Numerics.BigInteger Value) : TraceValue;
    public sealed record Bool(bool Value) : TraceValue;
    public sealed record Str(string Value) : TraceValue;
    public sealed record Rec(IReadOnlyList<KeyValuePair<string, TraceValue>> Fields) : TraceValue
    {
        public bool Equals(Rec? other) => other is not null && Fields.Count == other.Fields.Count &&
            Fields.Zip(other.Fields).All(p => p.First.Key == p.Second.Key && p.First.Value.Equals(p.Second.Value));
        public override int GetHashCode() => Fields.Count;
    }
    public sealed record List(IReadOnlyList<TraceValue> Items) : TraceValue
    {
        public bool Equals(List? other) => other is not null && Items.SequenceEqual(other.Items);
        public override int GetHashCode() => Items.Count;
    }

    public static TraceValue Of(long v) => new Int(v);
    public static TraceValue Of(ulong v) => new Int(v);
    public static TraceValue Of(bool v) => new Bool(v);
    public static TraceValue Of(string v) => new Str(v);
    public static TraceValue Record(params (string Key, TraceValue Value)[] fields) =>
        new Rec(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).ToArray());
    public static TraceValue ListOf(IEnumerable<TraceValue> items) => new List(items.ToArray());

    /// <summary>The default rendering of a state: one variable per public field (nested structs as records).</summary>
    public static void Fields<T>(in T state, List<TraceVar> into) where T : unmanaged
    {
        foreach (var f in typeof(T).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            into.Add(new TraceVar(f.Name, OfObject(f.GetValue(state))));
    }

    private static TraceValue OfObject(object? v) => v switch
    {
        null => new Str("null"),
        bool b => Of(b),
        byte or sbyte or short or ushort or int or long => Of(Convert.ToInt64(v, CultureInfo.InvariantCulture)),
        uint or ulong => Of(Convert.ToUInt64(v, CultureInfo.InvariantCulture)),
        Enum e => Of(e.ToString()),
        ValueType => new Rec(v.GetType().GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Select(f => KeyValuePair.Create(f.Name, OfObject(f.GetValue(v)))).ToArray()),
        _ => Of(v.ToString() ?? ""),
    };

    /// <summary>Compact text: 5, 0x100000001, true, "x", {a: 1, b: 2}, [1, 2].</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder();
        Write(sb);
        return sb.ToString();
    }

    private void Write(StringBuilder sb)
    {
        switch (this)
        {
            case Int i:
                if (i.Value > uint.MaxValue) sb.Append("0x").Append(((ulong)i.Value).ToString("x", CultureInfo.InvariantCulture));
                else sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case Bool b: sb.Append(b.Value ? "true" : "false"); break;
            case Str s: sb.Append(s.Value); break;
            case Rec r:
                sb.Append('{');
                for (int k = 0; k < r.Fields.Count; k++)
                {
                    if (k > 0) sb.Append(", ");
                    sb.Append(r.Fields[k].Key).Append(": ");
                    r.Fields[k].Value.Write(sb);
                }
                sb.Append('}');
                break;
            case List l:
                sb.Append('[');
                for (int k = 0; k < l.Items.Count; k++)
                {
                    if (k > 0) sb.Append(", ");
                    l.Items[k].Write(sb);
                }
                sb.Append(']');
                break;
        }
    }
}

/// <summary>One named variable of a rendered state.</summary>
public readonly record struct TraceVar(string Name, TraceValue Value);
