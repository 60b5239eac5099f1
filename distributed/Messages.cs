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
}

/// <summary>A node's new states of a level, in (parent, step) order: their keys, and per property the position of the first that has it.</summary>
[GenerateSerializer, Immutable]
public sealed class InsertResult
{
    [Id(0)] public ulong[] Keys { get; init; } = [];
    /// <summary>Per property (always and sometimes), the index in <see cref="Keys"/> of the first state that has it, or -1.</summary>
    [Id(1)] public int[] FirstWith { get; init; } = [];
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
