using Multikernel.Model.Checking;

namespace Multikernel.Properties.Explorer;

public sealed record ExploreOptions
{
    /// <summary>Stop (bound hit, no verdict for what is undecided) at this many distinct states.</summary>
    public long MaxStates { get; init; } = 100_000_000;
    /// <summary>Do not expand states at this depth; a state there with successors is a bound hit.</summary>
    public int MaxDepth { get; init; } = int.MaxValue;
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>How eventually-properties are judged on cycles (they are always judged on terminal states).</summary>
    public Liveness Liveness { get; init; } = Liveness.Search;
    /// <summary>
    /// Size the visited set for this many states from the start (the CLI takes it from an explicit
    /// --max-states): no resize during the run, each of which touches fresh memory for the whole table.
    /// </summary>
    public long? ExpectedStates { get; init; }
    /// <summary>Threads of the search; the result is the same at any count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Stop as soon as every property is decided (an audit needs no more).</summary>
    public bool StopWhenAllViolated { get; init; } = true;
    /// <summary>
    /// Stop (bound hit, no verdict for what is undecided) before the search holds more than this many
    /// bytes: store, frontier, buffers, the next resize and arrays not yet collected; default half of the
    /// memory the container (or the machine) allows (<see cref="MemoryLimit"/>).
    /// </summary>
    public long MaxMemory { get; init; } = DefaultMaxMemory;

    public static long DefaultMaxMemory => MemoryLimit.DefaultBound;
    /// <summary>Stop at the first violation BFS meets (shortest for its property); the other properties are left undecided.</summary>
    public bool StopAtFirstViolation { get; init; }
    /// <summary>Bitstate mode (lossy, safety only): the visited set is a bit array of this many bytes; 0: exact fingerprints.</summary>
    public long BitstateBytes { get; init; }
    /// <summary>Bitstate mode: the seed of the hash functions (0: the default ones); each search of a swarm has its own.</summary>
    public ulong BitstateSeed { get; init; }
    /// <summary>Judge eventually-properties on any pending cycle, ignoring the fairness the spec declares (--unfair).</summary>
    public bool Unfair { get; init; }
    /// <summary>Called about once a second of a long run, on the exploring thread.</summary>
    public Action<ExploreProgress>? Progress { get; init; }
}

public enum Verdict { Holds, Violated, Unknown }

/// <summary>How cycles on which an eventually-obligation stays pending are found.</summary>
public enum Liveness
{
    /// <summary>Not at all (safety only): eventually-properties are judged on terminal states only.</summary>
    None,
    /// <summary>After the BFS, a depth-first search over the pending states, re-generating their steps: no stored graph.</summary>
    Search,
    /// <summary>Keep every edge during the BFS, then Tarjan's SCC over the pending sub-graph (costs ~30 more bytes per state).</summary>
    Graph,
}

/// <summary>Where a running exploration is: for a progress line.</summary>
public readonly record struct ExploreProgress(long States, long Transitions, int Depth, long Frontier, long Bytes, TimeSpan Elapsed);

public enum Bound { None, States, Depth, Time, Memory }

/// <summary>What the exploration says about one property.</summary>
public sealed record PropertyOutcome(Property Property, Verdict Verdict, Trace? Trace, string? Reason = null);

/// <summary>One state of a trace: the step that led to it (null for the initial state) and its variables.</summary>
public sealed record TraceState(string? Step, IReadOnlyList<TraceVar> Vars);

/// <summary>
/// A counterexample, rebuilt by re-executing the specification: the initial state
/// index and, per step, the position of the step in the enabled list (enough to
/// replay it), with the rendered states. <see cref="LoopIndex"/> is set for a lasso
/// (the last state steps back to that index) and for a terminal state (it equals
/// the last index: the behaviour stops there with the obligation pending).
/// </summary>
public sealed record Trace(
    string Spec,
    Property Property,
    int InitialIndex,
    IReadOnlyList<int> Choices,
    IReadOnlyList<TraceState> States,
    int? LoopIndex)
{
    public int Length => States.Count - 1;
    /// <summary>Why the property fails at the end, in values (the invariant's own words), when the spec can say.</summary>
    public string? Why { get; init; }
    /// <summary>The last step threw.</summary>
    public bool Crashed { get; init; }
    /// <summary>The last step broke the design's step contract (and so <see cref="Crashed"/> too).</summary>
    public bool ContractBroken { get; init; }
    /// <summary>For a lasso judged under weak fairness: the actors that each run in the loop or are disabled on it.</summary>
    public IReadOnlyList<string>? FairTo { get; init; }
    /// <summary>Found by breadth-first search: no shorter trace breaks the property (false for a trace read back from a file).</summary>
    public bool Shortest { get; init; }
}

public sealed record ExploreReport(
    string Spec,
    IReadOnlyList<PropertyOutcome> Outcomes,
    long States,
    long Transitions,
    int Depth,
    double Seconds,
    long StoreBytes,
    long PeakFrontierBytes,
    bool Graph,
    Bound Bound,
    bool StoppedEarly)
{
    /// <summary>--first: the run stopped at its first violation; the other properties are undecided.</summary>
    public bool StoppedAtFirst { get; init; }
    /// <summary>Threads the search ran on.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>Cycles were searched for without a stored graph (the entries to the pending states are in the store).</summary>
    public bool CycleSearch { get; init; }
    /// <summary>Of <see cref="Seconds"/>, the time spent looking for pending cycles after the BFS.</summary>
    public double CycleSeconds { get; init; }
    /// <summary>How many times the exact visited set grew (each writes the whole table anew).</summary>
    public int Resizes { get; init; }
    /// <summary>The peak of what the search held by its own count (checked against <see cref="ExploreOptions.MaxMemory"/>).</summary>
    public long PeakHeldBytes { get; init; }
    /// <summary>Bitstate runs: the chance, at the end, that a state was wrongly taken as visited.</summary>
    public double? MissProbability { get; init; }
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
    public double BytesPerState => States > 0 ? (double)StoreBytes / States : 0;

    public Verdict Verdict =>
        Outcomes.Any(o => o.Verdict == Verdict.Violated) ? Verdict.Violated :
        Outcomes.Any(o => o.Verdict == Verdict.Unknown) ? Verdict.Unknown : Verdict.Holds;
}
