using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The IPI specification of a design whose variables outgrow <see cref="IpiState"/>: <see cref="IpiSpec"/>'s
/// steps and properties, run on the core of a frame that holds the rest of the design's bytes. Every call
/// into the design runs with its frame current (<see cref="IpiFrames"/>), so <see cref="IpiKernel.Shared"/> and
/// <see cref="IpiKernel.Local"/> reach every variable. Sequential consistency only: the weak-memory layer
/// keeps whole <see cref="IpiState"/>s (not modelled for wider designs; refused at construction).
/// </summary>
public sealed unsafe class IpiWideSpec<TMore> : ISpec<IpiFrame<TMore>, IpiAction> where TMore : unmanaged
{
    private static readonly int MoreBytes = sizeof(TMore);
    private readonly IpiSpec _inner;

    internal IpiWideSpec(IpiSpec inner) => _inner = inner;

    public IpiSpec Inner => _inner;
    public string Name => _inner.Name;
    public IReadOnlyList<Property> Properties => _inner.Properties;
    public IReadOnlyList<string> FairActors => _inner.FairActors;
    public int Actor(in IpiAction action) => _inner.Actor(action);
    public string Lane(in IpiAction action) => _inner.Lane(action);

    /// <summary>The frame at <paramref name="f"/> (a local or pinned) is the one design code runs on until disposed.</summary>
    private static IpiFrames.Scope Enter(IpiFrame<TMore>* f) => IpiFrames.Enter(&f->Core, (byte*)&f->More, MoreBytes);

    private static Span<byte> More(ref IpiFrame<TMore> f) => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref f.More, 1));

    public void Initial(List<IpiFrame<TMore>> into)
    {
        var f = default(IpiFrame<TMore>);
        using (Enter(&f)) _inner.Init(ref f.Core);
        into.Add(f);
    }

    public int Enabled(in IpiFrame<TMore> s, Span<IpiAction> into)
    {
        fixed (IpiFrame<TMore>* f = &s)
        using (Enter(f))
            return _inner.Enabled(f->Core, into);
    }

    public IpiFrame<TMore> Next(in IpiFrame<TMore> s, in IpiAction a)
    {
        var t = s;
        using (Enter(&t)) _inner.Step(ref t.Core, a);
        _inner.CheckContract(s.Core, t.Core, a, More(ref Unsafe.AsRef(in s)), More(ref t));
        return t;
    }

    // The properties are judged from the core's ghost history, which no design code computes.
    public ulong Violated(in IpiFrame<TMore> s) => _inner.Violated(s.Core);
    public ulong Pending(in IpiFrame<TMore> s) => _inner.Pending(s.Core);
    public ulong Reached(in IpiFrame<TMore> s) => _inner.Reached(s.Core);

    public string Describe(in IpiFrame<TMore> before, in IpiAction action)
    {
        fixed (IpiFrame<TMore>* f = &before)
        using (Enter(f))
            return _inner.Describe(f->Core, action);
    }

    public void Render(in IpiFrame<TMore> s, List<TraceVar> into)
    {
        fixed (IpiFrame<TMore>* f = &s)
        using (Enter(f))
            _inner.Render(f->Core, into);
    }

    public string? Explain(in IpiFrame<TMore> before, IpiAction? last, in IpiFrame<TMore> after, int property)
    {
        // What the state alone says (an owed message), then the step run again for its reasons.
        if (_inner.Explain(before.Core, null, after.Core, property) is { } why) return why;
        if (last is not { } a || _inner.Properties[property].Kind != PropertyKind.Always) return null;
        var s = before;
        return _inner.ExplainStep(property, () => Next(s, a));
    }
}

/// <summary>The IPI specification of any design, in the smallest state its variables fit.</summary>
public static class IpiSpecs
{
    /// <summary>
    /// <see cref="IpiSpec"/> itself for a design whose variables fit <see cref="IpiState"/> (under a weak memory
    /// model, <see cref="IpiWeakSpec"/> over it); else an <see cref="IpiWideSpec{TMore}"/> of 64, 128 or 256
    /// bytes of variables. Bad bounds, or variables past <see cref="IpiState.MaxDesignBytes"/>, are an
    /// <see cref="ArgumentException"/> naming them.
    /// </summary>
    public static ISpecHandle For(IpiDesign design, IpiBounds bounds)
    {
        var inner = new IpiSpec(design, bounds, inFrame: true);
        int used = inner.Kernel.DesignBytesUsed;
        if (used <= IpiState.InlineDesignBytes)
            return bounds.MemoryModel == IpiMemoryModel.Sc ? inner : new IpiWeakSpec(inner);
        if (bounds.MemoryModel != IpiMemoryModel.Sc)
            throw new ArgumentException($"{design.Name}: {used} bytes of variables at these bounds; under memory-model={bounds.MemoryModel.ToString().ToLowerInvariant()} a design keeps at most {IpiState.InlineDesignBytes} (the weak-memory layer is not modelled for wider designs)");
        return used <= IpiState.InlineDesignBytes + 48 ? new IpiWideSpec<MoreVars48>(inner)
            : used <= IpiState.InlineDesignBytes + 112 ? new IpiWideSpec<MoreVars112>(inner)
            : new IpiWideSpec<MoreVars240>(inner);
    }
}
