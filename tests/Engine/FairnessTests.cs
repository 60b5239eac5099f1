using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>
/// Eventually-properties under the weak fairness a spec declares: a cycle in which an actor that is
/// enabled throughout never runs is not a behaviour of the kernel; a cycle in which it runs, or is
/// disabled somewhere, is; and an actor declared unfair (a hostile host) is owed nothing.
/// </summary>
public class FairnessTests
{
    private static PropertyOutcome Judge(ISpec<byte, byte> spec, Liveness liveness = Liveness.Search, int threads = 1) =>
        Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = false, Liveness = liveness, Threads = threads }).Outcomes[0];

    [Theory]
    [InlineData(Liveness.Search)]
    [InlineData(Liveness.Graph)]
    public void A_spinning_cpu_does_not_starve_a_timer_that_is_enabled_throughout(Liveness liveness)
    {
        // No fairness declared: the spin is a violation. The timer fair: it must fire, and that discharges.
        Assert.Equal(Verdict.Violated, Judge(new SpinAndTimer(fair: FairTo.None), liveness).Verdict);
        Assert.Equal(Verdict.Holds, Judge(new SpinAndTimer(fair: FairTo.Both), liveness).Verdict);
        // The timer owed nothing (as a hostile host is): the spin alone is fair, and a violation.
        var o = Judge(new SpinAndTimer(fair: FairTo.SpinOnly), liveness);
        Assert.Equal(Verdict.Violated, o.Verdict);
        Assert.Equal(["spinner"], o.Trace!.FairTo!);
    }

    [Fact]
    public void A_timer_disabled_somewhere_on_the_loop_is_not_owed_a_step_and_the_lasso_passes_there()
    {
        var o = Judge(new SpinAndTimer(fair: FairTo.Both, timerOnlyAtZero: true));
        Assert.Equal(Verdict.Violated, o.Verdict);
        var t = o.Trace!;
        Assert.True(t.LoopIndex < t.Length, "a lasso, not a stuck state");
        Assert.Equal(["spinner", "timer"], t.FairTo!);
        // The loop must pass through spinner pc 1, where the timer is disabled.
        Assert.Contains(t.States.Skip(t.LoopIndex!.Value), s => s.Vars.Any(v => v.Name == "pc" && v.Value.ToString() == "1"));
        Assert.Contains("a fair cycle: spinner, timer", Multikernel.Properties.Traces.TraceText.Format(t), StringComparison.Ordinal);
    }

    /// <summary>
    /// Held to a brute force that shares nothing with the search: a fair cycle exists exactly when some
    /// set of reachable pending states is strongly connected through an edge inside it and every fair
    /// actor enabled in all of them takes an edge inside it. Every lasso found is checked to be fair.
    /// </summary>
    [Fact]
    public void The_fair_search_agrees_with_a_brute_force_over_state_sets_on_random_graphs()
    {
        int violated = 0, holds = 0, unfairOnly = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var spec = new LabelledGraph(seed);
            bool expected = spec.StuckReachable() || spec.FairSetExists();
            foreach (var mode in new[] { Liveness.Search, Liveness.Graph })
            {
                var o = Judge(spec, mode, threads: 1 + seed % 2);
                Assert.True(expected == (o.Verdict == Verdict.Violated), $"seed {seed}, {mode}: brute force says {(expected ? "violated" : "holds")}, the search {o.Verdict}");
                if (o.Trace is { LoopIndex: int li } t && li < t.Length) Assert.True(spec.LoopIsFair(t, li), $"seed {seed}, {mode}: the lasso's loop is not fair");
            }
            if (!expected) { holds++; if (spec.AnyPendingCycle()) unfairOnly++; continue; }
            violated++;
        }
        Assert.True(violated > 80 && holds > 80 && unfairOnly > 20, $"violated {violated}, holds {holds} ({unfairOnly} with only unfair cycles): not a varied sample");
    }

    [Theory]
    [InlineData(Liveness.Search)]
    [InlineData(Liveness.Graph)]
    public void Unfair_judges_on_any_cycle_and_finds_the_starving_lasso(Liveness liveness)
    {
        var o = Explorer.Run(new SpinAndTimer(fair: FairTo.Both), new ExploreOptions { StopWhenAllViolated = false, Liveness = liveness, Unfair = true }).Outcomes[0];
        Assert.Equal(Verdict.Violated, o.Verdict);
        Assert.Null(o.Trace!.FairTo);
    }

    /// <summary>
    /// The balloon seed's reaches-target, with the environment outside the protocol off: the only
    /// cycles that keep the balloon off its target starve the poll timer, which the kernel fires.
    /// </summary>
    [Theory]
    [InlineData(Liveness.Search)]
    [InlineData(Liveness.Graph)]
    public void The_balloon_seed_reaches_its_target_under_fairness_and_not_without(Liveness liveness)
    {
        var (m, d) = Multikernel.Cli.Registry.Mechanisms.Resolve("balloon/balloon-rfc", "test");
        var spec = m.Model.Specification(d, m.Model.ParseBounds("high-pfn=no huge-target=no"))!;
        Verdict Of(bool unfair) => Explorer.Run(spec, new ExploreOptions { Liveness = liveness, Unfair = unfair, StopWhenAllViolated = false })
            .Outcomes.Single(o => o.Property.Name == "reaches-target").Verdict;
        Assert.Equal(Verdict.Holds, Of(unfair: false));
        Assert.Equal(Verdict.Violated, Of(unfair: true));
    }

    public enum FairTo { None, SpinOnly, Both }

    /// <summary>A CPU spinning between pc 0 and 1 with an obligation pending; a timer whose step discharges it.</summary>
    private sealed class SpinAndTimer(FairTo fair, bool timerOnlyAtZero = false) : ISpec<byte, byte>
    {
        private const byte Done = 2;
        public string Name => "test/spin-and-timer";
        public IReadOnlyList<Property> Properties { get; } = [new("discharged", PropertyKind.Eventually, "the timer fires", "test")];
        public IReadOnlyList<string> FairActors => fair switch { FairTo.None => [], FairTo.SpinOnly => ["spinner"], _ => ["spinner", "timer"] };
        public int Actor(in byte action) => action == 0 ? 0 : fair == FairTo.Both ? 1 : -1;
        public void Initial(List<byte> into) => into.Add(0);

        public int Enabled(in byte s, Span<byte> into)
        {
            if (s == Done) return 0;
            int n = 0;
            into[n++] = 0;                                        // spinner: pc ^= 1
            if (!timerOnlyAtZero || s == 0) into[n++] = 1;        // timer: done
            return n;
        }

        public byte Next(in byte s, in byte a) => a == 0 ? (byte)(s ^ 1) : Done;
        public ulong Violated(in byte s) => 0;
        public ulong Pending(in byte s) => s == Done ? 0UL : 1UL;
        public void Render(in byte s, List<TraceVar> into) => into.Add(new("pc", new TraceValue.Int(s)));
    }

    /// <summary>A random graph of up to 9 states whose edges are labelled with one of three fair actors or none.</summary>
    private sealed class LabelledGraph : ISpec<byte, byte>
    {
        private readonly (int To, int Actor)[][] _next;
        private readonly bool[] _pending;

        public LabelledGraph(int seed)
        {
            var rng = new Random(seed);
            int n = rng.Next(2, 10);
            _next = new (int, int)[n][];
            _pending = new bool[n];
            double share = 0.3 + 0.7 * rng.NextDouble();
            for (int v = 0; v < n; v++)
            {
                _next[v] = Enumerable.Range(0, rng.NextDouble() < 0.05 ? 0 : rng.Next(1, 5)).Select(_ => (rng.Next(n), rng.Next(-1, 3))).ToArray();
                _pending[v] = rng.NextDouble() < share;
            }
        }

        public string Name => "test/labelled-graph";
        public IReadOnlyList<Property> Properties { get; } = [new("discharged", PropertyKind.Eventually, "leaves the pending states", "test")];
        public IReadOnlyList<string> FairActors { get; } = ["a0", "a1", "a2"];
        public int Actor(in byte action) => action >> 4 is var a && a == 3 ? -1 : a;
        public void Initial(List<byte> into) => into.Add(0);

        public int Enabled(in byte s, Span<byte> into)
        {
            var next = _next[s];
            for (int k = 0; k < next.Length; k++) into[k] = (byte)(k | ((next[k].Actor < 0 ? 3 : next[k].Actor) << 4));
            return next.Length;
        }

        public byte Next(in byte s, in byte a) => (byte)_next[s][a & 15].To;
        public ulong Violated(in byte s) => 0;
        public ulong Pending(in byte s) => _pending[s] ? 1UL : 0;
        public void Render(in byte s, List<TraceVar> into) => into.Add(new("node", new TraceValue.Int(s)));

        private HashSet<int> Reachable()
        {
            var seen = new HashSet<int> { 0 };
            var queue = new Queue<int>([0]);
            while (queue.Count > 0) foreach (var (to, _) in _next[queue.Dequeue()]) if (seen.Add(to)) queue.Enqueue(to);
            return seen;
        }

        private int EnabledActors(int v) => _next[v].Where(e => e.Actor >= 0).Aggregate(0, (m, e) => m | 1 << e.Actor);

        public bool StuckReachable() => Reachable().Any(v => _pending[v] && _next[v].Length == 0);

        public bool AnyPendingCycle() => Sets().Any(_ => true);

        public bool FairSetExists() => Sets().Any(set =>
        {
            int everywhere = 7, taken = 0;
            foreach (int v in set)
            {
                everywhere &= EnabledActors(v);
                foreach (var (to, actor) in _next[v]) if (set.Contains(to) && actor >= 0) taken |= 1 << actor;
            }
            return (everywhere & ~taken) == 0;
        });

        /// <summary>Every set of reachable pending states strongly connected through edges inside it (a loop on one state counts).</summary>
        private IEnumerable<HashSet<int>> Sets()
        {
            var nodes = Reachable().Where(v => _pending[v]).Order().ToArray();
            for (int mask = 1; mask < 1 << nodes.Length; mask++)
            {
                var set = new HashSet<int>(Enumerable.Range(0, nodes.Length).Where(i => (mask >> i & 1) != 0).Select(i => nodes[i]));
                if (set.All(v => set.All(w => Reaches(set, v, w)))) yield return set;
            }
        }

        /// <summary>Whether <paramref name="to"/> is reachable from <paramref name="from"/> in one or more steps inside <paramref name="set"/>.</summary>
        private bool Reaches(HashSet<int> set, int from, int to)
        {
            var seen = new HashSet<int>();
            var queue = new Queue<int>([from]);
            while (queue.Count > 0)
                foreach (var (w, _) in _next[queue.Dequeue()])
                {
                    if (!set.Contains(w)) continue;
                    if (w == to) return true;
                    if (seen.Add(w)) queue.Enqueue(w);
                }
            return false;
        }

        /// <summary>Each fair actor takes a step in the loop or is disabled in one of its states.</summary>
        public bool LoopIsFair(Trace t, int loopStart)
        {
            int node = NodeOf(t, loopStart), satisfied = 0;
            for (int i = loopStart; i < t.Length; i++)
            {
                satisfied |= ~EnabledActors(node) & 7;
                var (to, actor) = _next[node][t.Choices[i]];
                if (actor >= 0) satisfied |= 1 << actor;
                node = to;
            }
            return satisfied == 7 && node == NodeOf(t, loopStart);
        }

        private static int NodeOf(Trace t, int i) => int.Parse(t.States[i].Vars.Single(v => v.Name == "node").Value.ToString()!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
