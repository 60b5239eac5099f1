using System.Text;

namespace Multikernel.Model.Memory;

/// <summary>What a model says of the exists clause: no final state satisfies it, some do, all do (herd7's words).</summary>
public enum Observation { Never, Sometimes, Always }

/// <summary>
/// One model's answer: its observation, a witness (the shortest run to a final state satisfying the
/// clause, one line per step), the distinct states explored, and whether the state bound was hit
/// (then there is no answer: a bound is a bound).
/// </summary>
public sealed record ModelAnswer(string Model, Observation Observation, IReadOnlyList<string> Witness, string? WitnessFinal, long States, bool BoundHit);

/// <summary>
/// An operational memory model: states, the steps each thread may take, and the final state's
/// values. The search is breadth-first over distinct states, so the witness is a shortest run.
/// Litmus programs have no loops, so the space is finite; <c>maxStates</c> still bounds it.
/// </summary>
public abstract class MemoryModel
{
    public abstract string Name { get; }
    public abstract string Summary { get; }

    public static readonly IReadOnlyList<MemoryModel> All = [new ScModel(), new TsoModel(), new LkmmModel()];

    public static MemoryModel? Named(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>A state of the model: hashable by its canonical key.</summary>
    protected internal abstract class State
    {
        public abstract string Key();
        public abstract bool Final { get; }
        public abstract int Reg(int thread, string reg);
        public abstract int Memory(int loc);
        /// <summary>The final values, as a witness ends: every register the clause reads, every location.</summary>
        public string Describe(LitmusTest t)
        {
            var sb = new StringBuilder();
            foreach (var th in t.Threads)
                foreach (var r in Programs.Registers(th))
                    sb.Append($"{th.Id}:{r}={Reg(th.Id, r)}; ");
            for (int l = 0; l < t.Locations.Count; l++) sb.Append($"{t.Locations[l]}={Memory(l)}; ");
            return sb.ToString().TrimEnd(' ', ';');
        }
    }

    protected internal abstract State Initial(LitmusTest t);
    protected internal abstract IEnumerable<(string Label, State Next)> Steps(LitmusTest t, State state);

    public ModelAnswer Run(LitmusTest t, long maxStates)
    {
        var parent = new Dictionary<string, (string? Parent, string Label)>(StringComparer.Ordinal);
        var queue = new Queue<(string Key, State S)>();
        var init = Initial(t);
        string k0 = init.Key();
        parent[k0] = (null, "");
        queue.Enqueue((k0, init));
        bool any = false, all = true, bound = false;
        string? witnessKey = null;
        State? witnessState = null;
        while (queue.Count > 0)
        {
            var (key, s) = queue.Dequeue();
            if (s.Final)
            {
                bool holds = Eval(t.Exists, s);
                if (holds && !any) { witnessKey = key; witnessState = s; }
                any |= holds;
                all &= holds;
                continue;
            }
            foreach (var (label, next) in Steps(t, s))
            {
                string nk = next.Key();
                if (parent.ContainsKey(nk)) continue;
                if (parent.Count >= maxStates) { bound = true; break; }
                parent[nk] = (key, label);
                queue.Enqueue((nk, next));
            }
            if (bound) break;
        }
        var witness = new List<string>();
        for (string? k = witnessKey; k is not null && parent[k].Parent is { } p; k = p) witness.Add(parent[k].Label);
        witness.Reverse();
        var obs = !any ? Observation.Never : all ? Observation.Always : Observation.Sometimes;
        return new ModelAnswer(Name, obs, witness, witnessState?.Describe(t), parent.Count, bound);
    }

    private static bool Eval(Cond c, State s) => c switch
    {
        CondTrue b => b.Value,
        CondReg r => s.Reg(r.Thread, r.Reg) == r.Value,
        CondLoc l => s.Memory(l.Loc) == l.Value,
        CondNot n => !Eval(n.Inner, s),
        CondAnd a => Eval(a.Left, s) && Eval(a.Right, s),
        CondOr o => Eval(o.Left, s) || Eval(o.Right, s),
        _ => false,
    };
}

/// <summary>A thread's program counter and registers; the thread-local steps (assignments, branches) run eagerly.</summary>
internal sealed class Proc
{
    public int Pc;
    public int[] Regs = [];
    /// <summary>lkmm: instructions (by index) already executed ahead of program order; skipped when the pc reaches them.</summary>
    public ulong Early;

    public Proc Clone() => new() { Pc = Pc, Regs = (int[])Regs.Clone(), Early = Early };

    public void Key(StringBuilder sb)
    {
        sb.Append(Pc).Append('/').Append(Early).Append('[');
        foreach (int r in Regs) sb.Append(r).Append(',');
        sb.Append(']');
    }
}

/// <summary>Register tables and expression evaluation shared by the models.</summary>
internal static class Programs
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LitmusThread, IReadOnlyList<string>> Tables = new();

    /// <summary>The thread's registers, in a fixed order: computed once per thread (the models look them up on every step).</summary>
    public static IReadOnlyList<string> Registers(LitmusThread t) => Tables.GetValue(t, Collect);

    private static IReadOnlyList<string> Collect(LitmusThread t)
    {
        var names = new List<string>();
        void Add(string? r) { if (r is not null && !names.Contains(r)) names.Add(r); }
        foreach (var k in t.RegInit.Keys.Order(StringComparer.Ordinal)) Add(k);
        void Walk(Expr? e)
        {
            switch (e)
            {
                case Reg r: Add(r.Name); break;
                case Unary u: Walk(u.Operand); break;
                case Binary b: Walk(b.Left); Walk(b.Right); break;
            }
        }
        foreach (var i in t.Code)
            switch (i)
            {
                case Load l: Add(l.Reg); break;
                case Rmw r: Add(r.Result); Walk(r.Operand); Walk(r.New); break;
                case Assign a: Add(a.Reg); Walk(a.Value); break;
                case Store s: Walk(s.Value); break;
                case JumpIfZero z: Walk(z.Cond); break;
            }
        return names;
    }

    public static int Index(LitmusThread t, string reg)
    {
        var names = Registers(t);
        for (int i = 0; i < names.Count; i++) if (names[i] == reg) return i;
        return -1;
    }

    public static Proc Start(LitmusThread t)
    {
        var names = Registers(t);
        var p = new Proc { Regs = new int[names.Count] };
        for (int i = 0; i < names.Count; i++) p.Regs[i] = t.RegInit.GetValueOrDefault(names[i]);
        Settle(t, p);
        return p;
    }

    public static int Eval(LitmusThread t, Proc p, Expr e) => e switch
    {
        Const c => c.Value,
        Reg r => p.Regs[Index(t, r.Name)],
        Unary u => u.Op switch { "!" => Eval(t, p, u.Operand) == 0 ? 1 : 0, "-" => unchecked(-Eval(t, p, u.Operand)), _ => ~Eval(t, p, u.Operand) },
        Binary b => Apply(b.Op, Eval(t, p, b.Left), Eval(t, p, b.Right)),
        _ => 0,
    };

    private static int Apply(string op, int a, int b) => unchecked(op switch
    {
        "+" => a + b, "-" => a - b, "*" => a * b, "&" => a & b, "|" => a | b, "^" => a ^ b,
        "<<" => a << (b & 31), ">>" => a >> (b & 31),
        "==" => a == b ? 1 : 0, "!=" => a != b ? 1 : 0, "<" => a < b ? 1 : 0, ">" => a > b ? 1 : 0,
        "<=" => a <= b ? 1 : 0, ">=" => a >= b ? 1 : 0, "&&" => a != 0 && b != 0 ? 1 : 0, "||" => a != 0 || b != 0 ? 1 : 0,
        _ => 0,
    });

    public static void SetReg(LitmusThread t, Proc p, string? reg, int v)
    {
        if (reg is not null) p.Regs[Index(t, reg)] = v;
    }

    /// <summary>Runs assignments and branches until the next memory access or fence (they touch no shared state).</summary>
    public static void Settle(LitmusThread t, Proc p)
    {
        while (p.Pc < t.Code.Count)
        {
            if ((p.Early & (1UL << p.Pc)) != 0) { p.Pc++; continue; }
            switch (t.Code[p.Pc])
            {
                case Assign a: SetReg(t, p, a.Reg, Eval(t, p, a.Value)); p.Pc++; break;
                case Jump j: p.Pc = j.Target; break;
                case JumpIfZero z: p.Pc = Eval(t, p, z.Cond) == 0 ? z.Target : p.Pc + 1; break;
                default: return;
            }
        }
    }

    /// <summary>An atomic read-modify-write straight on <paramref name="mem"/> (SC, and TSO once the CPU's buffer is empty); returns what the step's label adds.</summary>
    public static string Rmw(LitmusThread t, Proc p, Rmw r, int[] mem)
    {
        int old = mem[r.Loc], operand = Eval(t, p, r.Operand);
        if (r.Op == RmwOp.Cmpxchg)
        {
            if (old == operand) mem[r.Loc] = Eval(t, p, r.New!);
            SetReg(t, p, r.Result, old);
            return old == operand ? $" succeeds (was {old})" : $" fails (is {old})";
        }
        int nv = RmwNew(r, old, operand);
        mem[r.Loc] = nv;
        SetReg(t, p, r.Result, r.ReturnsNew ? nv : old);
        return $" (was {old})";
    }

    public static int RmwNew(Rmw r, int old, int operand) => unchecked(r.Op switch
    {
        RmwOp.Xchg => operand,
        RmwOp.Add => old + operand,
        RmwOp.Sub => old - operand,
        RmwOp.And => old & operand,
        RmwOp.Or => old | operand,
        RmwOp.Xor => old ^ operand,
        _ => operand,
    });

    public static string Name(LitmusTest t, int loc) => t.Locations[loc];
}
