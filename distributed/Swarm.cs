using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Distributed;

/// <summary>One search of a swarm: the spec, its seed (hash functions and order), the bitstate array and bounds.</summary>
[GenerateSerializer, Immutable]
public sealed class SwarmPlan
{
    [Id(0)] public string Spec { get; init; } = "";
    [Id(1)] public ulong Seed { get; init; }
    [Id(2)] public long BitstateBytes { get; init; }
    [Id(3)] public long MaxStates { get; init; }
    [Id(4)] public int MaxDepth { get; init; }
    [Id(5)] public bool StopAtFirst { get; init; }
    [Id(6)] public bool StopWhenAllViolated { get; init; }
    /// <summary>--max-memory for this node's search; 0: the node's own default.</summary>
    [Id(7)] public long MaxMemory { get; init; }
    /// <summary>--time-limit, in ticks, or -1 for none.</summary>
    [Id(8)] public long TimeLimitTicks { get; init; } = -1;
}

/// <summary>What one search of a swarm found: counts, and per property its verdict and, for a violation, the steps in the spec's own order.</summary>
[GenerateSerializer, Immutable]
public sealed class SwarmResult
{
    [Id(0)] public long States { get; init; }
    [Id(1)] public long Transitions { get; init; }
    [Id(2)] public int Depth { get; init; }
    [Id(3)] public double MissProbability { get; init; }
    [Id(4)] public int Bound { get; init; }
    [Id(5)] public bool StoppedEarly { get; init; }
    /// <summary>Per property: 0 holds, 1 violated, 2 unknown (as <see cref="Verdict"/>).</summary>
    [Id(6)] public int[] Verdicts { get; init; } = [];
    /// <summary>Per property: the reason the search gave.</summary>
    [Id(7)] public string?[] Reasons { get; init; } = [];
    /// <summary>Per violated property: the initial state and the choices (positions in the spec's own enabled lists); empty otherwise.</summary>
    [Id(8)] public int[] Initial { get; init; } = [];
    [Id(9)] public int[][] Choices { get; init; } = [];
    [Id(10)] public int[]?[] Loops { get; init; } = [];
    [Id(11)] public long PeakRss { get; init; }
}

/// <summary>
/// Holzmann's swarm verification: with --bitstate on a cluster every node runs a whole bitstate search of its
/// own — its own hash functions (<see cref="ExploreOptions.BitstateSeed"/>) and its own search order (each
/// state's steps taken in an order of the seed) — and the coordinator unites their findings. Node 0 is the
/// one-process search (seed 0, the spec's order): the swarm finds at least what one process finds.
/// </summary>
public static class Swarm
{
    public static ulong SeedOf(int node) => node == 0 ? 0 : Mix(0x9e3779b97f4a7c15UL * (ulong)node);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    /// <summary>Runs one search of the swarm on this node.</summary>
    internal static SwarmResult Search(ISpecHandle spec, SwarmPlan plan) => spec.Accept(new One(plan));

    private sealed class One(SwarmPlan plan) : ISpecVisitor<SwarmResult>
    {
        public SwarmResult Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            var ordered = plan.Seed == 0 ? spec : new Shuffled<TState, TAction>(spec, plan.Seed);
            var r = Explorer.Run(ordered, new ExploreOptions
            {
                BitstateBytes = plan.BitstateBytes, BitstateSeed = plan.Seed, MaxStates = plan.MaxStates, MaxDepth = plan.MaxDepth,
                StopAtFirstViolation = plan.StopAtFirst, StopWhenAllViolated = plan.StopWhenAllViolated, Threads = 1, Liveness = Liveness.None,
                MaxMemory = plan.MaxMemory > 0 ? plan.MaxMemory : ExploreOptions.DefaultMaxMemory,
                TimeLimit = plan.TimeLimitTicks < 0 ? null : TimeSpan.FromTicks(plan.TimeLimitTicks),
            });
            int n = r.Outcomes.Count;
            var initial = new int[n];
            var choices = new int[n][];
            var loops = new int[n][];
            for (int p = 0; p < n; p++)
            {
                choices[p] = [];
                if (r.Outcomes[p].Trace is not { } t) continue;
                initial[p] = t.InitialIndex;
                // The steps in the spec's own order: what the coordinator replays.
                choices[p] = ordered is Shuffled<TState, TAction> sh ? sh.Original(t.InitialIndex, t.Choices) : [.. t.Choices];
            }
            return new SwarmResult
            {
                States = r.States, Transitions = r.Transitions, Depth = r.Depth, MissProbability = r.MissProbability ?? 0, Bound = (int)r.Bound,
                StoppedEarly = r.StoppedEarly, Verdicts = [.. r.Outcomes.Select(o => (int)o.Verdict)], Reasons = [.. r.Outcomes.Select(o => o.Reason)],
                Initial = initial, Choices = choices, Loops = loops, PeakRss = NodeSearch<byte, byte>.PeakRss(),
            };
        }
    }

    /// <summary>
    /// Unites a swarm's results: a property violated by any search is violated, with the shortest trace any
    /// found (re-executed here, on the coordinator's spec); a sometimes-property reached by any is reached;
    /// otherwise undecided, with the combined miss estimate: a state is missed by every search only if each
    /// wrongly took it as visited, Π p_i if their hash functions are independent.
    /// </summary>
    public static ExploreReport Combine(ISpecHandle spec, IReadOnlyList<SwarmResult> results) => spec.Accept(new Uniter(results));

    private sealed class Uniter(IReadOnlyList<SwarmResult> results) : ISpecVisitor<ExploreReport>
    {
        public ExploreReport Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            Property[] props = [.. spec.Properties, Explorer.NoCrash];
            double miss = 1;
            foreach (var r in results) miss *= r.MissProbability;
            var outcomes = new List<PropertyOutcome>();
            for (int p = 0; p < props.Length; p++)
            {
                var prop = props[p];
                // The shortest violation any search found (the first node's among equals).
                int best = -1;
                for (int k = 0; k < results.Count; k++)
                    if (results[k].Verdicts[p] == (int)Verdict.Violated && (best < 0 || results[k].Choices[p].Length < results[best].Choices[p].Length))
                        best = k;
                if (best >= 0)
                {
                    var trace = Explorer.Replay(spec, prop, results[best].Initial[p], results[best].Choices[p], null, p == props.Length - 1 ? props.Length - 1 : p);
                    outcomes.Add(new(trace.ContractBroken ? StepContractException.Property : prop, Verdict.Violated, trace));
                    continue;
                }
                var reached = results.Where(r => r.Verdicts[p] == (int)Verdict.Holds && prop.Kind == PropertyKind.Sometimes).ToList();
                if (reached.Count > 0) { outcomes.Add(new(prop, Verdict.Holds, null, reached.MinBy(r => r.Reasons[p]?.Length ?? 0)!.Reasons[p])); continue; }
                string why = results.All(r => r.Bound == 0 && !r.StoppedEarly)
                    ? string.Create(CultureInfo.InvariantCulture, $"probably holds (swarm of {results.Count} bitstate searches, each its own hash functions and order: a state missed by all with probability about {miss:G3}{(prop.Kind == PropertyKind.Eventually ? "; cycles not checked" : "")})")
                    : results[0].Reasons[p] ?? "not decided";
                outcomes.Add(new(prop, Verdict.Unknown, null, why));
            }
            var most = results.MaxBy(r => r.States)!;
            var bound = results.Select(r => (Bound)r.Bound).FirstOrDefault(b => b != Bound.None);
            return new ExploreReport(spec.Name, outcomes, most.States, most.Transitions, results.Max(r => r.Depth), 0, 0, 0, false, bound,
                results.Any(r => r.StoppedEarly)) { MissProbability = miss, Threads = 1 };
        }
    }

    /// <summary>The spec with each state's steps in an order of the seed: a swarm search's own order; <see cref="Original"/> maps its choices back.</summary>
    private sealed class Shuffled<TState, TAction>(ISpec<TState, TAction> spec, ulong seed) : ISpec<TState, TAction>
        where TState : unmanaged where TAction : unmanaged
    {
        public string Name => spec.Name;
        public IReadOnlyList<Property> Properties => spec.Properties;
        public IReadOnlyList<string> FairActors => spec.FairActors;
        public TResult Accept<TResult>(ISpecVisitor<TResult> visitor) => visitor.Visit(this);
        public void Initial(List<TState> into) => spec.Initial(into);
        public TState Next(in TState s, in TAction action) => spec.Next(s, action);
        public ulong Violated(in TState s) => spec.Violated(s);
        public ulong Pending(in TState s) => spec.Pending(s);
        public ulong Reached(in TState s) => spec.Reached(s);
        public string Describe(in TState before, in TAction action) => spec.Describe(before, action);
        public void Render(in TState s, List<TraceVar> into) => spec.Render(s, into);
        public string? Explain(in TState before, TAction? last, in TState after, int property) => spec.Explain(before, last, after, property);
        public int Actor(in TAction action) => spec.Actor(action);

        public int Enabled(in TState s, Span<TAction> into)
        {
            int n = spec.Enabled(s, into);
            Span<int> order = stackalloc int[n];
            Order(s, order);
            Span<TAction> copy = stackalloc TAction[n];
            into[..n].CopyTo(copy);
            for (int i = 0; i < n; i++) into[i] = copy[order[i]];
            return n;
        }

        /// <summary>Position i of the shuffled list is position order[i] of the spec's: Fisher-Yates from the state's fingerprint and the seed.</summary>
        private void Order(in TState s, Span<int> order)
        {
            for (int i = 0; i < order.Length; i++) order[i] = i;
            ulong x = Fingerprint.Of(s) ^ seed;
            for (int i = order.Length - 1; i > 0; i--)
            {
                x = Mix(x + 0x9e3779b97f4a7c15UL);
                int j = (int)(x % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        public int[] Original(int initial, IReadOnlyList<int> choices)
        {
            var states = new List<TState>();
            spec.Initial(states);
            var s = states[initial];
            var result = new int[choices.Count];
            Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
            Span<int> all = stackalloc int[SpecLimits.MaxEnabled];
            for (int c = 0; c < choices.Count; c++)
            {
                int n = spec.Enabled(s, actions);
                var order = all[..n];
                Order(s, order);
                result[c] = order[choices[c]];
                if (c + 1 < choices.Count) s = spec.Next(s, actions[result[c]]);
            }
            return result;
        }
    }
}
