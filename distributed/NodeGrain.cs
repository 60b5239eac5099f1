using Multikernel.Model.Checking;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Multikernel.Distributed;

/// <summary>One node's partition of a run: a grain on the silo its key names (<see cref="NodePlacement"/>).</summary>
public interface INodeGrain : IGrainWithStringKey
{
    Task Start(NodePlan plan);
    /// <summary>A batch of candidate records from node <paramref name="from"/> (the coordinator is node count); false: refused by the node's memory bound.</summary>
    Task<bool> Receive(int from, byte[] batch);
    Task<ExpandSummary> Expand(ExpandPlan plan);
    /// <summary>Merges the level's candidates; stops (TimeBound) when <paramref name="remainingTicks"/> (-1: no limit) pass.</summary>
    Task<InsertResult> Insert(long remainingTicks);
    Task Commit(uint[] ids);
    Task<PendingPage> Pending(long from, int max);
    Task<byte[]> Checkpoint(int from, int max);
    /// <summary>Checkpointed records this node owns; false: refused by its memory bound.</summary>
    Task<bool> Load(byte[] records, bool frontier);
    Task Loaded();
    /// <summary>A whole bitstate search of this node's own (a swarm's member), run off the grain's scheduler.</summary>
    Task<SwarmResult> Swarm(SwarmPlan plan);
    Task Stop();
}

/// <summary>
/// The grain of a node: reentrant, so that the batches other nodes send while it expands are taken
/// in (the expansion itself runs off the grain's scheduler, on the thread pool).
/// </summary>
[Reentrant, NodePlacement]
internal sealed class NodeGrain(ISpecSource specs) : Grain, INodeGrain
{
    private INodeSearch? _search;
    private NodePlan? _plan;

    private INodeSearch Search => _search ?? throw new InvalidOperationException($"node {this.GetPrimaryKeyString()} was not started (or was restarted: its partition is gone)");

    public Task Start(NodePlan plan)
    {
        _plan = plan;
        _search = specs.Resolve(plan.Spec).Accept(new Make(plan));
        return Task.CompletedTask;
    }

    public Task<bool> Receive(int from, byte[] batch) => Task.FromResult(Search.Receive(from, batch));

    public Task<ExpandSummary> Expand(ExpandPlan level)
    {
        var search = Search;
        var plan = _plan!;
        var factory = GrainFactory;
        return Task.Run(() => search.Expand(level, (node, batch) => factory.GetGrain<INodeGrain>(plan.Nodes[node]).Receive(plan.Node, batch)));
    }

    public Task<InsertResult> Insert(long remainingTicks)
    {
        var search = Search;
        return Task.Run(() => search.Insert(remainingTicks));
    }

    public Task Commit(uint[] ids)
    {
        Search.Commit(ids);
        return Task.CompletedTask;
    }

    public Task<PendingPage> Pending(long from, int max) => Task.FromResult(Search.Pending(from, max));

    public Task<byte[]> Checkpoint(int from, int max) => Task.FromResult(Search.Checkpoint(from, max));

    public Task<bool> Load(byte[] records, bool frontier) => Task.FromResult(Search.Load(records, frontier));

    public Task Loaded()
    {
        Search.Loaded();
        return Task.CompletedTask;
    }

    public Task<SwarmResult> Swarm(SwarmPlan plan) => Task.Run(() => Distributed.Swarm.Search(specs.Resolve(plan.Spec), plan));

    public Task Stop()
    {
        _search = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private sealed class Make(NodePlan plan) : ISpecVisitor<INodeSearch>
    {
        public INodeSearch Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            new NodeSearch<TState, TAction>(spec, plan);
    }
}

/// <summary>A node grain lives on the silo its key names ("run/index/silo"): the partition stays where the coordinator put it.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class NodePlacement : PlacementStrategy;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodePlacementAttribute : PlacementAttribute
{
    public NodePlacementAttribute() : base(new NodePlacement()) { }
}

internal sealed class NodePlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        int slash = key.IndexOf('/', key.IndexOf('/', StringComparison.Ordinal) + 1);
        var silo = SiloAddress.FromParsableString(key[(slash + 1)..]);
        foreach (var s in context.GetCompatibleSilos(target))
            if (s.Equals(silo)) return Task.FromResult(s);
        throw new SiloUnavailableException($"node grain {key}: its silo {silo} is not in the cluster");
    }
}
