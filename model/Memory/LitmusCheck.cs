using System.Globalization;
using System.Text;

namespace Multikernel.Model.Memory;

/// <summary>
/// What a model may claim about a test. The lkmm model produces load buffering only by running a
/// WRITE_ONCE of a constant ahead of the unordered accesses before it, and does not track
/// dependencies, so: its Never is an answer only when every read and later write of a thread are
/// either ordered by LKMM or reorderable by the model; its
/// Sometimes only when no dependency could forbid the witness. Plain accesses (LKMM's data-race
/// rules), locks and RCU are not modelled at all. Everything else is "cannot express", with why.
/// </summary>
public static class LitmusScope
{
    /// <summary>Primitives no model here executes: every model refuses the test.</summary>
    public static string? Unsupported(LitmusTest t) =>
        t.Unsupported.Count == 0 ? null : $"not modelled: {string.Join(", ", t.Unsupported.Take(3))}{(t.Unsupported.Count > 3 ? ", …" : "")}";

    /// <summary>Why the lkmm model cannot run the test at all, or null.</summary>
    public static string? LkmmRefusal(LitmusTest t)
    {
        foreach (var th in t.Threads)
            for (int k = 0; k < th.Code.Count; k++)
            {
                var i = th.Code[k];
                if (i is Load { Ord: Ordering.Plain } or Store { Ord: Ordering.Plain })
                    return $"plain access at {i.Line}:{i.Column} ({i.Text}): LKMM's data-race rules for plain accesses are not modelled";
                if (i is Fence f && f.Text.StartsWith("smp_mb__before_atomic", StringComparison.Ordinal) && (k + 1 >= th.Code.Count || th.Code[k + 1] is not Rmw))
                    return $"{f.Text} at {f.Line}:{f.Column} is not directly before an atomic RMW";
                if (i is Fence g && g.Text.StartsWith("smp_mb__after_atomic", StringComparison.Ordinal) && (k == 0 || th.Code[k - 1] is not Rmw))
                    return $"{g.Text} at {g.Line}:{g.Column} is not directly after an atomic RMW";
            }
        return null;
    }

    /// <summary>
    /// Whether the WRITE_ONCE at <paramref name="w"/> may execute before the pending instructions from
    /// <paramref name="pc"/>: its value is a constant (no dependency), and every pending instruction
    /// before it is one LKMM does not order before a relaxed write: a READ_ONCE, a WRITE_ONCE, a relaxed
    /// RMW, an smp_rmb(), none touching its location. Acquires, releases, smp_wmb, smp_mb, ordered RMWs
    /// and branches keep it in place.
    /// </summary>
    public static bool CanGoEarly(LitmusThread th, int pc, int w, ulong early)
    {
        if (th.Code[w] is not Store { Ord: Ordering.Once } st || HasRegister(st.Value)) return false;
        for (int k = pc; k < w; k++)
        {
            if ((early & (1UL << k)) != 0) continue;
            bool passable = th.Code[k] switch
            {
                Load { Ord: Ordering.Once } l => l.Loc != st.Loc,
                Store { Ord: Ordering.Once } s => s.Loc != st.Loc,
                Rmw { Ord: Ordering.Once } r => r.Loc != st.Loc,
                Fence { Kind: FenceKind.Rmb } => true,
                _ => false,
            };
            if (!passable) return false;
        }
        return true;
    }

    private static bool HasRegister(Expr e) => e switch
    {
        Reg => true,
        Unary u => HasRegister(u.Operand),
        Binary b => HasRegister(b.Left) || HasRegister(b.Right),
        _ => false,
    };

    /// <summary>A read followed by a write of another location in the same thread that LKMM does not order and the model cannot reorder (a load-buffering edge out of reach), or null.</summary>
    public static string? UnorderedReadWrite(LitmusTest t)
    {
        foreach (var th in t.Threads)
        {
            var deps = Dependencies(th);
            for (int a = 0; a < th.Code.Count; a++)
            {
                if (!IsRead(th.Code[a], out int rloc, out _)) continue;
                for (int b = a + 1; b < th.Code.Count; b++)
                {
                    if (!IsWrite(th.Code[b], out int wloc, out _) || wloc == rloc) continue;
                    if (OrderedByFences(th, deps, a, b)) continue;
                    if (deps.Data[b].Contains(a) || Controls(th, deps, a, b)) continue;
                    if (CanGoEarly(th, a, b, 0)) continue;   // the model runs the write first
                    var r = th.Code[a];
                    var w = th.Code[b];
                    return $"P{th.Id}: {r.Text} ({r.Line}:{r.Column}) then {w.Text} ({w.Line}:{w.Column}) are not ordered";
                }
            }
        }
        return null;
    }

    /// <summary>
    /// A dependency from a read to a later write that nothing else orders (the model does not track
    /// dependencies, so there it is weaker than LKMM), or null. A dependency that an acquire, a
    /// release, an smp_mb() or a successful fully ordered RMW already orders adds nothing.
    /// </summary>
    public static string? Dependency(LitmusTest t)
    {
        foreach (var th in t.Threads)
        {
            var deps = Dependencies(th);
            for (int a = 0; a < th.Code.Count; a++)
            {
                if (!IsRead(th.Code[a], out _, out _)) continue;
                for (int b = a + 1; b < th.Code.Count; b++)
                {
                    if (!IsWrite(th.Code[b], out _, out _)) continue;
                    if (!deps.Data[b].Contains(a) && !Controls(th, deps, a, b)) continue;
                    if (OrderedByFences(th, deps, a, b)) continue;
                    return $"P{th.Id}: {th.Code[b].Text} ({th.Code[b].Line}:{th.Code[b].Column}) depends on {th.Code[a].Text}";
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Whether LKMM orders read a before write b by what the model executes too: an acquire read, a
    /// release write, the same location, an smp_mb() or a fully ordered RMW between (a cmpxchg only
    /// where b runs on its success, that is, inside a branch on its result).
    /// </summary>
    private static bool OrderedByFences(LitmusThread th, (List<HashSet<int>> Data, List<HashSet<int>> Regs) deps, int a, int b)
    {
        IsRead(th.Code[a], out int rloc, out var rord);
        IsWrite(th.Code[b], out int wloc, out var word);
        if (rloc == wloc || rord is Ordering.Acquire || word is Ordering.Release) return true;
        if (rord is Ordering.Full && (th.Code[a] is Rmw { Op: not RmwOp.Cmpxchg } || Controls(th, deps, a, b))) return true;
        // A cmpxchg writes only when it succeeds, and then it is fully ordered.
        if (word is Ordering.Full && th.Code[b] is Rmw) return true;
        for (int k = a + 1; k < b; k++)
        {
            if (th.Code[k] is Fence { Kind: FenceKind.Mb }) return true;
            if (th.Code[k] is Rmw { Ord: Ordering.Full } rmw && (rmw.Op != RmwOp.Cmpxchg || Controls(th, deps, k, b))) return true;
        }
        return false;
    }

    private static bool IsRead(Instr i, out int loc, out Ordering ord)
    {
        (loc, ord) = i switch { Load l => (l.Loc, l.Ord), Rmw r => (r.Loc, r.Ord), _ => (-1, Ordering.Once) };
        return loc >= 0;
    }

    private static bool IsWrite(Instr i, out int loc, out Ordering ord)
    {
        (loc, ord) = i switch { Store s => (s.Loc, s.Ord), Rmw r => (r.Loc, r.Ord), _ => (-1, Ordering.Once) };
        return loc >= 0;
    }

    /// <summary>Is instruction b inside a branch (then or else) of an if whose condition depends on read a?</summary>
    private static bool Controls(LitmusThread th, (List<HashSet<int>> Data, List<HashSet<int>> Regs) deps, int a, int b)
    {
        for (int k = a + 1; k < b; k++)
        {
            if (th.Code[k] is not JumpIfZero z || !deps.Data[k].Contains(a)) continue;
            if (b < z.Target) return true;
            if (z.Target > 0 && th.Code[z.Target - 1] is Jump j && j.Target > z.Target && b >= z.Target && b < j.Target) return true;
        }
        return false;
    }

    /// <summary>For each instruction, the reads (by index) its value, operand or condition flows from through registers.</summary>
    private static (List<HashSet<int>> Data, List<HashSet<int>> Regs) Dependencies(LitmusThread th)
    {
        var regs = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        var data = new List<HashSet<int>>();
        HashSet<int> Of(Expr? e)
        {
            var set = new HashSet<int>();
            void Walk(Expr? x)
            {
                switch (x)
                {
                    case Reg r when regs.TryGetValue(r.Name, out var s): set.UnionWith(s); break;
                    case Unary u: Walk(u.Operand); break;
                    case Binary b: Walk(b.Left); Walk(b.Right); break;
                }
            }
            Walk(e);
            return set;
        }
        for (int k = 0; k < th.Code.Count; k++)
        {
            var i = th.Code[k];
            switch (i)
            {
                case Load l: data.Add([]); if (l.Reg is not null) regs[l.Reg] = [k]; break;
                case Store s: data.Add(Of(s.Value)); break;
                case Rmw r:
                {
                    var d = Of(r.Operand);
                    d.UnionWith(Of(r.New));
                    data.Add(d);
                    if (r.Result is not null) regs[r.Result] = [k, .. d];
                    break;
                }
                case Assign a: { var d = Of(a.Value); data.Add(d); regs[a.Reg] = d; break; }
                case JumpIfZero z: data.Add(Of(z.Cond)); break;
                default: data.Add([]); break;
            }
        }
        return (data, data);
    }
}

/// <summary>One model's verdict on a test: an observation it may claim, or why it cannot say.</summary>
public sealed record LitmusVerdict(string Model, ModelAnswer? Answer, string? CannotExpress)
{
    /// <summary>"Never", "Sometimes", "Always", "cannot express" or "bound".</summary>
    public string Word => CannotExpress is not null ? "cannot express" : Answer!.BoundHit ? "bound" : Answer.Observation.ToString();
}

/// <summary>Runs a litmus test under the models and prints their verdicts, witnesses and bounds.</summary>
public static class LitmusCheck
{
    public const long DefaultMaxStates = 1_000_000;

    public static LitmusVerdict Judge(LitmusTest t, MemoryModel m, long maxStates)
    {
        if (LitmusScope.Unsupported(t) is { } u) return new(m.Name, null, u);
        if (m is LkmmModel && LitmusScope.LkmmRefusal(t) is { } r) return new(m.Name, null, r);
        var a = m.Run(t, maxStates);
        if (a.BoundHit || m is not LkmmModel) return new(m.Name, a, null);
        if (a.Observation == Observation.Never && LitmusScope.UnorderedReadWrite(t) is { } lb)
            return new(m.Name, a, $"load buffering: LKMM lets this write go before the read, and this model moves a WRITE_ONCE ahead only past READ_ONCE, WRITE_ONCE, relaxed RMWs and smp_rmb with a constant value ({lb}); without it: Never");
        if (a.Observation != Observation.Never && LitmusScope.Dependency(t) is { } dep)
            return new(m.Name, a, $"dependencies are not modelled and LKMM may order by them ({dep}); the model's witness ignores it");
        if (a.Observation == Observation.Always && LitmusScope.UnorderedReadWrite(t) is not null)
            return new(m.Name, a with { Observation = Observation.Sometimes }, null);
        return new(m.Name, a, null);
    }

    /// <summary>Prints one line per model (and the witness of each Sometimes); returns 0, or 3 when some model has no verdict.</summary>
    public static int Print(LitmusTest t, string file, IReadOnlyList<MemoryModel> models, long maxStates, TextWriter o)
    {
        o.WriteLine($"litmus {t.Name} ({file}): {(t.Negated ? "~" : "")}exists {t.ExistsText}");
        bool none = false;
        foreach (var m in models)
        {
            var v = Judge(t, m, maxStates);
            string states = v.Answer is { } a ? string.Format(CultureInfo.InvariantCulture, "{0:N0} states", a.States) : "";
            if (v.CannotExpress is { } why)
            {
                none = true;
                o.WriteLine($"  {m.Name,-5} cannot express: {why}");
                continue;
            }
            if (v.Answer!.BoundHit)
            {
                none = true;
                o.WriteLine($"  {m.Name,-5} bound: --max-states {maxStates:N0} reached before every state was explored (no verdict)");
                continue;
            }
            o.WriteLine($"  {m.Name,-5} {v.Word,-10} {states}");
            if (v.Answer.Observation != Observation.Never) o.Write(Witness(v.Answer));
        }
        return none ? 3 : 0;
    }

    public static string Witness(ModelAnswer a)
    {
        var sb = new StringBuilder();
        sb.AppendLine("        witness (a shortest run to a final state that satisfies the clause):");
        for (int k = 0; k < a.Witness.Count; k++) sb.AppendLine(CultureInfo.InvariantCulture, $"        {k + 1,2}. {a.Witness[k]}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"        final: {a.WitnessFinal}");
        return sb.ToString();
    }
}
