using Multikernel.Model.Checking;

namespace Multikernel.Distributed;

/// <summary>
/// How a node builds the specification of a run from its name: every node resolves the same text the
/// same way (the command line's registry: "mechanism/design bounds"), so no code travels, only names.
/// </summary>
public interface ISpecSource
{
    ISpecHandle Resolve(string spec);
}

/// <summary>A specification source of a function.</summary>
public sealed class SpecSource(Func<string, ISpecHandle> resolve) : ISpecSource
{
    public ISpecHandle Resolve(string spec) => resolve(spec);
}
