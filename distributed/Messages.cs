namespace Multikernel.Distributed;

/// <summary>What a node needs to take part in a run: the specification (by name), its place in the cluster and the search's limits.</summary>
[GenerateSerializer, Immutable]
public sealed class NodePlan
{
    /// <summary>The specification, as <see cref="ISpecSource"/> resolves it on every node.</summary>
    [Id(0)] public string Spec { get; init; } = "";
    [Id(1)] public int Node { get; init; }
    /// <summary>The node grains' keys, by node index (each names the silo that owns its partition).</summary>
    [Id(2)] public string[] Nodes { get; init; } = [];
    [Id(3)] public int MaxDepth { get; init; } = int.MaxValue;
    /// <summary>Eventually-obligations are judged on every state (the cycle search follows): the pending states and entries are kept.</summary>
    [Id(4)] public bool PendingAll { get; init; }
    /// <summary>--max-memory, bytes, for this node alone; 0: the node's own default (half of its machine's or container's memory).</summary>
    [Id(5)] public long MaxMemory { get; init; }
}

/// <summary>A level's expansion, as the coordinator asks it of a node.</summary>
[GenerateSerializer, Immutable]
public sealed class ExpandPlan
{
    [Id(0)] public int Depth { get; init; }
    /// <summary>Bytes the coordinator holds in this node's process (node 0's: the parent links), charged to its bound too.</summary>
    [Id(1)] public long Elsewhere { get; init; }
    /// <summary>What is left of --time-limit, in ticks (checked between batches of the frontier), or -1 for none.</summary>
    [Id(2)] public long RemainingTicks { get; init; } = -1;
}

/// <summary>What a node's expansion of its part of a level found.</summary>
[GenerateSerializer, Immutable]
public sealed class ExpandSummary
{
    [Id(0)] public long Transitions { get; init; }
    /// <summary>Per property, the smallest id of a terminal state owing it (eventually-properties), or -1.</summary>
    [Id(1)] public long[] Terminal { get; init; } = [];
    /// <summary>The first crash in BFS order: (id &lt;&lt; 8) | (step + 1), or long.MaxValue.</summary>
    [Id(2)] public long CrashKey { get; init; } = long.MaxValue;
    [Id(3)] public string? CrashMessage { get; init; }
    [Id(4)] public bool CrashIsContract { get; init; }
    [Id(5)] public bool DepthBound { get; init; }
    /// <summary>Candidate bytes sent to other nodes.</summary>
    [Id(6)] public long BytesSent { get; init; }
    /// <summary>The process's peak resident set so far (VmHWM), 0 where it cannot be read.</summary>
    [Id(7)] public long PeakRss { get; init; }
    /// <summary>What this node was doing when its memory bound stopped it ("expanding", "receiving …"), or null.</summary>
    [Id(8)] public string? MemoryHit { get; init; }
    /// <summary>The time limit passed while this node expanded: the level is not whole.</summary>
    [Id(9)] public bool TimeBound { get; init; }
    /// <summary>Frontier states expanded, of <see cref="Frontier"/>.</summary>
    [Id(10)] public long Expanded { get; init; }
    [Id(11)] public long Frontier { get; init; }
    /// <summary>The bytes the node held by its own count, and its bound.</summary>
    [Id(12)] public long Held { get; init; }
    [Id(13)] public long Limit { get; init; }
    /// <summary>The node whose refusal of a batch (its memory bound) stopped this one's expansion, or -1.</summary>
    [Id(14)] public int StoppedBy { get; init; } = -1;
}

/// <summary>A node's new states of a level, in (parent, step) order: their keys, and per property the position of the first that has it.</summary>
[GenerateSerializer, Immutable]
public sealed class InsertResult
{
    [Id(0)] public ulong[] Keys { get; init; } = [];
    /// <summary>Per property (always and sometimes), the index in <see cref="Keys"/> of the first state that has it, or -1.</summary>
    [Id(1)] public int[] FirstWith { get; init; } = [];
    /// <summary>What the node's memory bound stopped ("inserting …"), nothing inserted; or null.</summary>
    [Id(2)] public string? MemoryHit { get; init; }
    [Id(3)] public long Held { get; init; }
    [Id(4)] public long Limit { get; init; }
    /// <summary>The time limit passed while the node merged its candidates: the level is not whole.</summary>
    [Id(5)] public bool TimeBound { get; init; }
}

/// <summary>A page of a node's pending states, for the cycle search on the coordinator.</summary>
[GenerateSerializer, Immutable]
public sealed class PendingPage
{
    /// <summary>Fingerprints of states owing an eventually-obligation.</summary>
    [Id(0)] public ulong[] Pending { get; init; } = [];
    /// <summary>Entries (where an obligation became pending): ids, bits and the states' bytes.</summary>
    [Id(1)] public uint[] EntryIds { get; init; } = [];
    [Id(2)] public ulong[] EntryBits { get; init; } = [];
    [Id(3)] public byte[] EntryStates { get; init; } = [];
    [Id(4)] public bool More { get; init; }
}
