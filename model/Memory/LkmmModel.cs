using System.Text;

namespace Multikernel.Model.Memory;

/// <summary>
/// An operational approximation of the Linux kernel memory model: a promise-free, view-based
/// semantics in the style of the promising semantics' release/acquire fragment, with the kernel's
/// fences. Each location has a coherence order of messages; each message carries a view (per
/// location, the oldest message a reader that acquires it may still read) standing for the writes
/// that LKMM's cumul-fence chains order before it. Each thread has views:
/// <list type="bullet">
/// <item>cur: what it may still read and where its writes may go (coherence and acquired order);</item>
/// <item>acq: cur joined with the views of the messages it read (what smp_rmb() makes binding);</item>
/// <item>obs: the views of the messages it read and wrote (what a release or smp_mb() is A-cumulative over);</item>
/// <item>wown: the views of its own writes (what smp_wmb() orders before later writes: not A-cumulative);</item>
/// <item>rel: the view its relaxed writes carry (set by smp_wmb and smp_mb).</item>
/// </list>
/// smp_mb() also meets a global view (the promising semantics' SC-fence view), which gives SB, R and
/// IRIW their Never. Reads happen in program order; a WRITE_ONCE of a constant may run ahead of the
/// pending READ_ONCE, WRITE_ONCE, relaxed RMWs and smp_rmb before it (none to its location), which
/// LKMM does not order before it: that, and only that, is how load buffering arises here (no
/// promises). Dependencies are not tracked. <see cref="LitmusScope"/> says when those limits leave
/// an answer unjustified.
/// </summary>
public sealed class LkmmModel : MemoryModel
{
    /// <summary>A deliberately broken variant, so the calibration is seen to fail (tests only).</summary>
    public enum Defect { None, ReleaseIsOnce, AcquireIsOnce, NoMbGlobalView }

    private readonly Defect _defect;

    public LkmmModel() : this(Defect.None) { }

    public LkmmModel(Defect defect) => _defect = defect;

    public override string Name => _defect == Defect.None ? "lkmm" : $"lkmm-{_defect}";
    public override string Summary => "LKMM, operationally: view-based release/acquire with smp_wmb/rmb/mb, unordered WRITE_ONCE may run early (load buffering), no promises, no dependencies";

    private sealed record Msg(int Loc, int Val, int[] View, int ReadFrom, string Who);

    private sealed class ThreadViews
    {
        public int[] Cur = [], Acq = [], Obs = [], Wown = [], Rel = [];
        public ThreadViews Clone() => new()
        {
            Cur = (int[])Cur.Clone(), Acq = (int[])Acq.Clone(), Obs = (int[])Obs.Clone(), Wown = (int[])Wown.Clone(), Rel = (int[])Rel.Clone(),
        };
    }

    private sealed class LState : State
    {
        public Proc[] Procs = [];
        public ThreadViews[] Views = [];
        public List<Msg> Msgs = [];
        public List<int>[] Mo = [];
        public int[] Global = [];
        public LitmusTest Test = null!;

        public LState Clone() => new()
        {
            Procs = Procs.Select(p => p.Clone()).ToArray(), Views = Views.Select(v => v.Clone()).ToArray(),
            Msgs = new List<Msg>(Msgs), Mo = Mo.Select(m => new List<int>(m)).ToArray(), Global = (int[])Global.Clone(), Test = Test,
        };

        public int Pos(int id) => Mo[Msgs[id].Loc].IndexOf(id);

        public void Join(int[] into, int[] from)
        {
            for (int l = 0; l < into.Length; l++)
                if (Pos(from[l]) > Pos(into[l])) into[l] = from[l];
        }

        private void ViewKey(StringBuilder sb, int[] v)
        {
            foreach (int id in v) sb.Append(Pos(id)).Append(',');
            sb.Append(';');
        }

        public override string Key()
        {
            var sb = new StringBuilder();
            for (int i = 0; i < Procs.Length; i++)
            {
                Procs[i].Key(sb);
                var v = Views[i];
                ViewKey(sb, v.Cur); ViewKey(sb, v.Acq); ViewKey(sb, v.Obs); ViewKey(sb, v.Wown); ViewKey(sb, v.Rel);
                sb.Append('|');
            }
            ViewKey(sb, Global);
            foreach (var mo in Mo)
            {
                foreach (int id in mo)
                {
                    var m = Msgs[id];
                    sb.Append(m.Val).Append('<');
                    ViewKey(sb, m.View);
                    sb.Append(m.ReadFrom < 0 ? -1 : Pos(m.ReadFrom)).Append('>');
                }
                sb.Append('#');
            }
            return sb.ToString();
        }

        public override bool Final => Procs.Select((p, i) => p.Pc >= Test.Threads[i].Code.Count).All(b => b);
        public override int Reg(int thread, string reg) => Procs[thread].Regs[Programs.Index(Test.Threads[thread], reg)];
        public override int Memory(int loc) => Msgs[Mo[loc][^1]].Val;
    }

    protected internal override State Initial(LitmusTest t)
    {
        int n = t.Locations.Count;
        var s = new LState { Test = t, Procs = t.Threads.Select(Programs.Start).ToArray(), Mo = new List<int>[n] };
        var init = Enumerable.Range(0, n).ToArray();
        for (int l = 0; l < n; l++)
        {
            s.Msgs.Add(new Msg(l, t.Init[l], init, -1, "the initial value"));
            s.Mo[l] = [l];
        }
        s.Global = (int[])init.Clone();
        s.Views = t.Threads.Select(_ => new ThreadViews
        {
            Cur = (int[])init.Clone(), Acq = (int[])init.Clone(), Obs = (int[])init.Clone(), Wown = (int[])init.Clone(), Rel = (int[])init.Clone(),
        }).ToArray();
        return s;
    }

    protected internal override IEnumerable<(string Label, State Next)> Steps(LitmusTest t, State state)
    {
        var s = (LState)state;
        for (int i = 0; i < s.Procs.Length; i++)
        {
            var th = t.Threads[i];
            if (s.Procs[i].Pc >= th.Code.Count) continue;
            var ins = th.Code[s.Procs[i].Pc];
            foreach (var step in Execute(t, s, i, ins))
            {
                var p = ((LState)step.Next).Procs[i];
                p.Pc++;
                Programs.Settle(th, p);
                yield return step;
            }
            // A WRITE_ONCE that LKMM does not order after the instructions before it may go first:
            // load buffering without promises, for the reorderings LitmusScope.Passes allows.
            for (int j = s.Procs[i].Pc + 1; j < th.Code.Count && j < 64; j++)
            {
                if ((s.Procs[i].Early & (1UL << j)) != 0 || th.Code[j] is not Store { Ord: Ordering.Once } w) continue;
                if (!LitmusScope.CanGoEarly(th, s.Procs[i].Pc, j, s.Procs[i].Early)) continue;
                foreach (var step in Execute(t, s, i, w))
                {
                    ((LState)step.Next).Procs[i].Early |= 1UL << j;
                    yield return (step.Label + $" (ahead of '{th.Code[s.Procs[i].Pc].Text}' at line {th.Code[s.Procs[i].Pc].Line}, which LKMM does not order before it: visible to other CPUs first)", step.Next);
                }
            }
        }
    }

    private IEnumerable<(string Label, State Next)> Execute(LitmusTest t, LState s, int i, Instr ins)
    {
        string head = $"P{i}: {ins.Text}";
        switch (ins)
        {
            case Fence f:
            {
                var n = s.Clone();
                var v = n.Views[i];
                if (f.Kind == FenceKind.Wmb) n.Join(v.Rel, v.Wown);
                else if (f.Kind == FenceKind.Rmb) n.Join(v.Cur, v.Acq);
                else Mb(n, i);
                yield return (head, n);
                break;
            }
            case Load l:
                foreach (int id in Readable(s, i, l.Loc))
                {
                    var n = s.Clone();
                    int val = Read(n, i, id, l.Ord == Ordering.Acquire && _defect != Defect.AcquireIsOnce);
                    Programs.SetReg(t.Threads[i], n.Procs[i], l.Reg, val);
                    yield return ($"{head} reads {val}{From(t, s, i, id)}", n);
                }
                break;
            case Store st:
            {
                int val = Programs.Eval(t.Threads[i], s.Procs[i], st.Value);
                var mo = s.Mo[st.Loc];
                for (int at = s.Pos(s.Views[i].Cur[st.Loc]) + 1; at <= mo.Count; at++)
                {
                    // Never between an RMW and the message it read: the RMW is atomic.
                    if (at < mo.Count && s.Msgs[mo[at]].ReadFrom == mo[at - 1]) continue;
                    var n = s.Clone();
                    var v = n.Views[i];
                    int[] carried = (int[])v.Rel.Clone();
                    if (st.Ord == Ordering.Release && _defect != Defect.ReleaseIsOnce) { n.Join(carried, v.Cur); n.Join(carried, v.Obs); }
                    Write(n, i, st.Loc, val, at, carried, -1, $"P{i}'s {t.Locations[st.Loc]}={val}");
                    yield return (head + Placed(t, s, st.Loc, at), n);
                }
                break;
            }
            case Rmw r:
            {
                var th = t.Threads[i];
                int operand = Programs.Eval(th, s.Procs[i], r.Operand);
                // A failing cmpxchg is a plain marked read with no ordering (Documentation/atomic_t.txt).
                if (r.Op == RmwOp.Cmpxchg)
                    foreach (int id in Readable(s, i, r.Loc))
                    {
                        if (s.Msgs[id].Val == operand) continue;
                        var n = s.Clone();
                        int val = Read(n, i, id, false);
                        Programs.SetReg(th, n.Procs[i], r.Result, val);
                        yield return ($"{head} fails: reads {val}{From(t, s, i, id)}", n);
                    }
                var before = s.Clone();
                if (r.Ord == Ordering.Full) Mb(before, i);
                foreach (int id in Readable(before, i, r.Loc))
                {
                    var m = before.Msgs[id];
                    if (r.Op == RmwOp.Cmpxchg && m.Val != operand) continue;
                    if (before.Msgs.Any(x => x.ReadFrom == id)) continue;   // another RMW already follows it
                    var n = before.Clone();
                    int old = Read(n, i, id, r.Ord == Ordering.Acquire);
                    int nv = r.Op == RmwOp.Cmpxchg ? Programs.Eval(th, n.Procs[i], r.New!) : Programs.RmwNew(r, old, operand);
                    var v = n.Views[i];
                    int[] carried = (int[])v.Rel.Clone();
                    if (r.Ord is Ordering.Release or Ordering.Full) { n.Join(carried, v.Cur); n.Join(carried, v.Obs); }
                    n.Join(carried, m.View);   // release sequences: the RMW carries what the message it read carried
                    Write(n, i, r.Loc, nv, n.Pos(id) + 1, carried, id, $"P{i}'s {t.Locations[r.Loc]}={nv}");
                    if (r.Ord == Ordering.Full) Mb(n, i);
                    Programs.SetReg(th, n.Procs[i], r.Result, r.ReturnsNew ? nv : old);
                    yield return ($"{head}{(r.Op == RmwOp.Cmpxchg ? " succeeds:" : "")} reads {old}{From(t, before, i, id)}, writes {nv}", n);
                }
                break;
            }
        }
    }

    private static IEnumerable<int> Readable(LState s, int i, int loc)
    {
        var mo = s.Mo[loc];
        for (int at = s.Pos(s.Views[i].Cur[loc]); at < mo.Count; at++) yield return mo[at];
    }

    private static int Read(LState n, int i, int id, bool acquire)
    {
        var v = n.Views[i];
        var m = n.Msgs[id];
        if (n.Pos(id) > n.Pos(v.Cur[m.Loc])) v.Cur[m.Loc] = id;
        n.Join(v.Acq, m.View);
        n.Join(v.Acq, v.Cur);
        n.Join(v.Obs, m.View);
        if (acquire) { n.Join(v.Cur, m.View); n.Join(v.Acq, v.Cur); }
        return m.Val;
    }

    private static void Write(LState n, int i, int loc, int val, int at, int[] carried, int readFrom, string who)
    {
        int id = n.Msgs.Count;
        var view = carried;
        n.Msgs.Add(new Msg(loc, val, view, readFrom, who));
        n.Mo[loc].Insert(at, id);
        view[loc] = id;   // the carried view can only be older at its own location: cur bounds where the write went
        var v = n.Views[i];
        v.Cur[loc] = id;
        n.Join(v.Acq, v.Cur);
        n.Join(v.Obs, view);
        n.Join(v.Wown, view);
    }

    /// <summary>smp_mb(): acquire what was read, meet the global fence view, and carry all of it on later writes.</summary>
    private void Mb(LState n, int i)
    {
        var v = n.Views[i];
        n.Join(v.Cur, v.Acq);
        n.Join(v.Cur, v.Obs);
        if (_defect != Defect.NoMbGlobalView)
        {
            n.Join(v.Cur, n.Global);
            n.Global = (int[])v.Cur.Clone();
        }
        v.Rel = (int[])v.Cur.Clone();
        n.Join(v.Acq, v.Cur);
    }

    /// <summary>Which message a read took, and which newer stores to that location it did not yet see.</summary>
    private static string From(LitmusTest t, LState s, int i, int id)
    {
        var m = s.Msgs[id];
        var mo = s.Mo[m.Loc];
        int at = mo.IndexOf(id);
        string src = m.Who == "the initial value" ? "" : $" from {m.Who}";
        if (at == mo.Count - 1) return src;
        var later = string.Join(", ", mo.Skip(at + 1).Select(x => s.Msgs[x].Who));
        return $"{src} ({later} not yet visible to P{i})";
    }

    private static string Placed(LitmusTest t, LState s, int loc, int at) =>
        at == s.Mo[loc].Count ? "" : $" (coherence order: before {s.Msgs[s.Mo[loc][at]].Who})";
}
