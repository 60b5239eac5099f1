using System.Text;

namespace Multikernel.Model.Memory;

/// <summary>Sequential consistency: one memory, every access atomic and seen by every CPU at once; orderings are no-ops.</summary>
public sealed class ScModel : MemoryModel
{
    public override string Name => "sc";
    public override string Summary => "sequential consistency: interleavings of atomic accesses";

    private sealed class ScState : State
    {
        public Proc[] Procs = [];
        public int[] Mem = [];
        public LitmusTest Test = null!;

        public ScState Clone() => new() { Procs = Procs.Select(p => p.Clone()).ToArray(), Mem = (int[])Mem.Clone(), Test = Test };
        public override string Key()
        {
            var sb = new StringBuilder();
            foreach (var p in Procs) p.Key(sb);
            foreach (int v in Mem) sb.Append(v).Append(',');
            return sb.ToString();
        }
        public override bool Final => Procs.Select((p, i) => p.Pc >= Test.Threads[i].Code.Count).All(b => b);
        public override int Reg(int thread, string reg) => Procs[thread].Regs[Programs.Index(Test.Threads[thread], reg)];
        public override int Memory(int loc) => Mem[loc];
    }

    protected internal override State Initial(LitmusTest t) =>
        new ScState { Test = t, Mem = t.Init.ToArray(), Procs = t.Threads.Select(Programs.Start).ToArray() };

    protected internal override IEnumerable<(string Label, State Next)> Steps(LitmusTest t, State state)
    {
        var s = (ScState)state;
        for (int i = 0; i < s.Procs.Length; i++)
        {
            var th = t.Threads[i];
            if (s.Procs[i].Pc >= th.Code.Count) continue;
            var n = s.Clone();
            var p = n.Procs[i];
            var ins = th.Code[p.Pc];
            string label = $"P{i}: {ins.Text}";
            switch (ins)
            {
                case Load l:
                    Programs.SetReg(th, p, l.Reg, n.Mem[l.Loc]);
                    label += $" reads {n.Mem[l.Loc]}";
                    break;
                case Store st:
                    n.Mem[st.Loc] = Programs.Eval(th, p, st.Value);
                    break;
                case Rmw r:
                    label += Programs.Rmw(th, p, r, n.Mem);
                    break;
            }
            p.Pc++;
            Programs.Settle(th, p);
            yield return (label, n);
        }
    }
}

/// <summary>
/// Total store order (x86-64): each CPU's stores enter its FIFO store buffer and reach memory later,
/// in order; a load takes the newest buffered store to its location, else memory. smp_mb() and every
/// atomic RMW (a LOCK-prefixed instruction) drain the buffer first; release, acquire, smp_wmb and
/// smp_rmb cost nothing on x86 (compiler barriers). The buffer holds at most the thread's stores.
/// </summary>
public sealed class TsoModel : MemoryModel
{
    public override string Name => "tso";
    public override string Summary => "x86-TSO: per-CPU FIFO store buffers with forwarding; smp_mb and atomic RMWs drain";

    private sealed class TsoState : State
    {
        public Proc[] Procs = [];
        public int[] Mem = [];
        public List<(int Loc, int Val)>[] Buf = [];
        public LitmusTest Test = null!;

        public TsoState Clone() => new()
        {
            Procs = Procs.Select(p => p.Clone()).ToArray(), Mem = (int[])Mem.Clone(), Test = Test,
            Buf = Buf.Select(b => new List<(int, int)>(b)).ToArray(),
        };
        public override string Key()
        {
            var sb = new StringBuilder();
            for (int i = 0; i < Procs.Length; i++)
            {
                Procs[i].Key(sb);
                foreach (var (l, v) in Buf[i]) sb.Append(l).Append('=').Append(v).Append(' ');
                sb.Append('|');
            }
            foreach (int v in Mem) sb.Append(v).Append(',');
            return sb.ToString();
        }
        public override bool Final => Procs.Select((p, i) => p.Pc >= Test.Threads[i].Code.Count && Buf[i].Count == 0).All(b => b);
        public override int Reg(int thread, string reg) => Procs[thread].Regs[Programs.Index(Test.Threads[thread], reg)];
        public override int Memory(int loc) => Mem[loc];
    }

    protected internal override State Initial(LitmusTest t) => new TsoState
    {
        Test = t, Mem = t.Init.ToArray(), Procs = t.Threads.Select(Programs.Start).ToArray(),
        Buf = t.Threads.Select(_ => new List<(int, int)>()).ToArray(),
    };

    protected internal override IEnumerable<(string Label, State Next)> Steps(LitmusTest t, State state)
    {
        var s = (TsoState)state;
        for (int i = 0; i < s.Procs.Length; i++)
        {
            if (s.Buf[i].Count > 0)
            {
                var n = s.Clone();
                var (loc, val) = n.Buf[i][0];
                n.Buf[i].RemoveAt(0);
                n.Mem[loc] = val;
                yield return ($"P{i}'s store buffer: {t.Locations[loc]}={val} reaches memory", n);
            }
            var th = t.Threads[i];
            if (s.Procs[i].Pc >= th.Code.Count) continue;
            var ins = th.Code[s.Procs[i].Pc];
            // smp_mb__before_atomic/__after_atomic are barrier() on x86: the locked RMW beside them drains.
            bool drains = ins is Rmw || (ins is Fence { Kind: FenceKind.Mb } && !ins.Text.StartsWith("smp_mb__", StringComparison.Ordinal));
            if (drains && s.Buf[i].Count > 0) continue;
            var m = s.Clone();
            var p = m.Procs[i];
            string label = $"P{i}: {ins.Text}";
            switch (ins)
            {
                case Load l:
                {
                    int v = m.Mem[l.Loc];
                    string from = "memory";
                    for (int k = m.Buf[i].Count - 1; k >= 0; k--)
                        if (m.Buf[i][k].Loc == l.Loc) { v = m.Buf[i][k].Val; from = "its own store buffer"; break; }
                    Programs.SetReg(th, p, l.Reg, v);
                    label += $" reads {v} from {from}";
                    var pending = PendingElsewhere(t, s, i, l.Loc);
                    if (from == "memory" && pending is not null) label += $" ({pending} is still in a store buffer, not visible to P{i})";
                    break;
                }
                case Store st:
                {
                    int v = Programs.Eval(th, p, st.Value);
                    m.Buf[i].Add((st.Loc, v));
                    label += " enters the store buffer";
                    break;
                }
                case Rmw r:
                    label += Programs.Rmw(th, p, r, m.Mem);
                    break;
            }
            p.Pc++;
            Programs.Settle(th, p);
            yield return (label, m);
        }
    }

    private static string? PendingElsewhere(LitmusTest t, TsoState s, int self, int loc)
    {
        for (int j = 0; j < s.Buf.Length; j++)
            if (j != self)
                foreach (var (l, v) in s.Buf[j])
                    if (l == loc) return $"P{j}'s {t.Locations[loc]}={v}";
        return null;
    }
}
