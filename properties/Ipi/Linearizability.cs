using System.Collections.Immutable;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Multikernel.Impl.Ipi;
using Multikernel.Model.Ipi;
using Multikernel.Model.Kernel;

namespace Multikernel.Properties.Ipi;

public enum LinOpKind { Send, SendPfn, Create, Destroy, Unregister, Interrupt }

/// <summary>One call of a concurrent history.</summary>
public sealed record LinOp(LinOpKind Kind, int Instance, int Size = 0, ulong Type = 0, byte Seed = 0, int Handle = 0)
{
    public override string ToString() => Kind switch
    {
        LinOpKind.Send => $"SendIpiData({Instance}, {Size} bytes from 0x{Seed:x2}, type {Type})",
        LinOpKind.SendPfn => $"mk_send_pfn({Instance}, 0x{Seed:x})",
        LinOpKind.Create => $"CreateInstance({Instance})",
        LinOpKind.Destroy => $"DestroyInstance({Instance})",
        LinOpKind.Unregister => $"UnregisterHandler({Handle})",
        _ => $"interrupt on instance {Instance}",
    };
}

/// <summary>What one call returned, and when it was invoked and returned (ticks of one shared counter).</summary>
public sealed record LinResult(int Rc, ImmutableArray<IpiDelivery> Deliveries, long Invoked, long Returned);

/// <summary>
/// Linearizability of short concurrent histories: two sender CPUs and, optionally, the
/// receiving CPU run 2–4 calls each on the implementation, all at once. The results must be
/// explained by one interleaving of the reference design's atomic steps (claim, publish,
/// take one message, the drain stopping; create, destroy, unregister) that keeps each
/// thread's order and the real-time order of calls that did not overlap. The search is
/// direct: depth first over the steps, pruned by the observed results, memoised.
/// </summary>
public static class Linearizability
{
    public const int Ring = 2;
    /// <summary>Handlers 1 (type 1) and 2 (type 2) are registered before the history starts; instances 0 and 1 exist.</summary>
    private static readonly ulong[] HandlerTypes = [1, 2];

    public static Gen<LinOp[][]> Histories
    {
        get
        {
            var inst = Gen.Elements(0, 1);
            var send = from i in inst from n in Gen.Elements(0, 1, 8) from t in Gen.Elements(1UL, 2UL) from s in Gen.Choose(0, 255)
                       select new LinOp(LinOpKind.Send, i, n, t, (byte)s);
            var other = Gen.OneOf(
                inst.Select(i => new LinOp(LinOpKind.SendPfn, i, Seed: 7)),
                Gen.Constant(new LinOp(LinOpKind.Destroy, 1)),
                Gen.Constant(new LinOp(LinOpKind.Create, 1)),
                Gen.Elements(1, 2).Select(h => new LinOp(LinOpKind.Unregister, 0, Handle: h)));
            var senderOp = Gen.Frequency((4, send), (1, other));
            var sender = Gen.Choose(2, 4).SelectMany(n => senderOp.ArrayOf(n));
            var receiver = Gen.Choose(0, 3).SelectMany(n => inst.Select(i => new LinOp(LinOpKind.Interrupt, i)).ArrayOf(n));
            return from a in sender from b in sender from r in receiver
                   select r.Length == 0 ? new[] { a, b } : new[] { a, b, r };
        }
    }

    /// <summary>The property: every generated history run on the implementation has a witness interleaving.</summary>
    public static Property Property(MkIpiDefects defects = MkIpiDefects.None) =>
        Prop.ForAll(Arb.From(Histories), threads =>
        {
            var (results, finals) = Execute(threads, defects);
            return Explain(threads, results, finals) is { } why ? false.Label(why) : true.ToProperty();
        });

    /// <summary>Run the threads at once on a fresh implementation; then drain both instances.</summary>
    public static (LinResult[][] Results, ImmutableArray<IpiDelivery>[] Finals) Execute(LinOp[][] threads, MkIpiDefects defects)
    {
        using var h = new IpiHarness(Ring, defects);
        h.Ipi.CreateInstance(0);
        h.Ipi.CreateInstance(1);
        foreach (var t in HandlerTypes) h.Register(t);
        long clock = 0;
        var results = threads.Select(t => new LinResult[t.Length]).ToArray();
        using var start = new Barrier(threads.Length);
        var workers = threads.Select((ops, cpu) => new Thread(() =>
        {
            MkIpi.BindThreadToCpu(cpu);
            start.SignalAndWait();
            for (int k = 0; k < ops.Length; k++)
            {
                long inv = Interlocked.Increment(ref clock);
                int rc = Call(h, ops[k]);
                var calls = ops[k].Kind == LinOpKind.Interrupt ? h.TakeDeliveries() : [];
                results[cpu][k] = new LinResult(rc, calls, inv, Interlocked.Increment(ref clock));
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        var finals = new ImmutableArray<IpiDelivery>[2];
        for (int i = 0; i < 2; i++) { h.Ipi.HandleInterrupt(i); finals[i] = h.TakeDeliveries(); }
        return (results, finals);
    }

    private static int Call(IpiHarness h, LinOp op) => op.Kind switch
    {
        LinOpKind.Send => h.Ipi.SendIpiData(op.Instance, IpiHarness.Payload(op.Size, op.Seed), op.Type),
        LinOpKind.SendPfn => h.Ipi.SendPfn(op.Instance, op.Seed),
        LinOpKind.Create => h.Ipi.CreateInstance(op.Instance),
        LinOpKind.Destroy => h.Ipi.DestroyInstance(op.Instance),
        LinOpKind.Unregister => h.Ipi.UnregisterHandler(op.Handle),
        _ => h.Ipi.HandleInterrupt(op.Instance),
    };

    /// <summary>Null when some interleaving of the specification explains the results; otherwise the history, for the report.</summary>
    public static string? Explain(LinOp[][] threads, LinResult[][] results, ImmutableArray<IpiDelivery>[] finals)
    {
        var model = new IpiApiModel(Ring).CreateInstance(0).Next.CreateInstance(1).Next;
        foreach (var t in HandlerTypes) model = model.RegisterHandler(true, t).Next;
        var search = new Search(threads, results, finals);
        return search.From(model, new int[threads.Length], new int[threads.Length], new int[threads.Length])
            ? null
            : "no interleaving of the specification explains:\n" + Describe(threads, results, finals);
    }

    private static string Describe(LinOp[][] threads, LinResult[][] results, ImmutableArray<IpiDelivery>[] finals)
    {
        var sb = new StringBuilder();
        for (int t = 0; t < threads.Length; t++)
            for (int k = 0; k < threads[t].Length; k++)
            {
                var r = results[t][k];
                sb.Append($"  cpu {t} [{r.Invoked,2}..{r.Returned,2}] {threads[t][k]} = {Errno.Name(r.Rc)}");
                if (!r.Deliveries.IsEmpty) sb.Append($" [{string.Join("; ", r.Deliveries)}]");
                sb.AppendLine();
            }
        for (int i = 0; i < finals.Length; i++) sb.AppendLine($"  final drain of instance {i}: [{string.Join("; ", finals[i])}]");
        return sb.ToString();
    }

    /// <summary>
    /// Depth-first search. Per thread: the call it is in (op), the step inside the call
    /// (phase: 1 after a send's claim; for a drain, messages taken so far), and for a drain
    /// how many of its observed callbacks are already explained (seen).
    /// </summary>
    private sealed class Search(LinOp[][] threads, LinResult[][] results, ImmutableArray<IpiDelivery>[] finals)
    {
        private readonly HashSet<string> _dead = [];

        public bool From(IpiApiModel m, int[] op, int[] phase, int[] seen)
        {
            bool done = true;
            for (int t = 0; t < threads.Length; t++) done &= op[t] == threads[t].Length;
            if (done) return FinalsAgree(m);
            string key = $"{string.Join(",", op)}/{string.Join(",", phase)}/{string.Join(",", seen)}/{m.Key()}";
            if (_dead.Contains(key)) return false;
            for (int t = 0; t < threads.Length; t++)
            {
                if (op[t] == threads[t].Length) continue;
                if (phase[t] == 0 && seen[t] == 0 && !MayStart(t, op)) continue;
                foreach (var (next, nop, nphase, nseen) in Steps(m, t, op[t], phase[t], seen[t]))
                {
                    var o = (int[])op.Clone(); var p = (int[])phase.Clone(); var s = (int[])seen.Clone();
                    o[t] = nop; p[t] = nphase; s[t] = nseen;
                    if (From(next, o, p, s)) return true;
                }
            }
            _dead.Add(key);
            return false;
        }

        /// <summary>A call may start only after every call that returned before it was invoked has finished.</summary>
        private bool MayStart(int t, int[] op)
        {
            long invoked = results[t][op[t]].Invoked;
            for (int u = 0; u < threads.Length; u++)
                for (int k = op[u]; k < threads[u].Length; k++)
                    if (u != t && results[u][k].Returned < invoked) return false;
            return true;
        }

        private IEnumerable<(IpiApiModel, int, int, int)> Steps(IpiApiModel m, int t, int k, int phase, int seen)
        {
            var op = threads[t][k];
            var want = results[t][k];
            int owner = t * 16 + k + 1;
            switch (op.Kind)
            {
                case LinOpKind.Send or LinOpKind.SendPfn when phase == 0:
                {
                    var data = op.Kind == LinOpKind.Send ? IpiHarness.Payload(op.Size, op.Seed) : BitConverter.GetBytes((ulong)op.Seed);
                    var type = op.Kind == LinOpKind.Send ? op.Type : IpiConstants.MkPfnIpiType;
                    var (rc, next) = m.Claim(op.Instance, data, type, t, owner);
                    if (rc == want.Rc) yield return rc == 0 ? (next, k, 1, 0) : (next, k + 1, 0, 0);
                    break;
                }
                case LinOpKind.Send or LinOpKind.SendPfn:
                {
                    var (rc, next) = m.Publish(op.Instance, owner);
                    if (rc == want.Rc) yield return (next, k + 1, 0, 0);
                    break;
                }
                case LinOpKind.Destroy when !m.CanDestroy(op.Instance):
                    break; // synchronize_rcu() waits for a send in flight: not yet
                case LinOpKind.Create or LinOpKind.Destroy or LinOpKind.Unregister:
                {
                    var (rc, next) = op.Kind switch
                    {
                        LinOpKind.Create => m.CreateInstance(op.Instance),
                        LinOpKind.Destroy => m.DestroyInstance(op.Instance),
                        _ => m.UnregisterHandler(op.Handle),
                    };
                    if (rc == want.Rc) yield return (next, k + 1, 0, 0);
                    break;
                }
                default: // a drain: take one more message, or stop
                {
                    if (want.Rc < 0)
                    {
                        if (m.Interrupt(op.Instance).Rc == want.Rc) yield return (m, k + 1, 0, 0);
                        break;
                    }
                    if (!m.Instances.ContainsKey(op.Instance)) break;
                    var (taken, calls, next) = m.TakeOne(op.Instance);
                    if (taken)
                    {
                        if (phase < want.Rc && seen + calls.Length <= want.Deliveries.Length &&
                            calls.SequenceEqual(want.Deliveries.Skip(seen).Take(calls.Length)))
                            yield return (next, k, phase + 1, seen + calls.Length);
                    }
                    else if (phase == want.Rc && seen == want.Deliveries.Length)
                        yield return (m, k + 1, 0, 0);
                    break;
                }
            }
        }

        private bool FinalsAgree(IpiApiModel m)
        {
            for (int i = 0; i < finals.Length; i++)
            {
                var (_, calls, next) = m.Interrupt(i);
                if (!calls.SequenceEqual(finals[i])) return false;
                m = next;
            }
            return true;
        }
    }
}
