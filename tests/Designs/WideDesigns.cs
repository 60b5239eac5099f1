using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;

namespace Multikernel.Tests.Designs;

/// <summary>
/// <see cref="LazyInitRing"/> with its two variables moved past the state's first 16 bytes: <c>pad</c> shared
/// statistics words in front of ring_ready and <c>localPad</c> scratch locals in front of saw_unready. Init sets
/// each statistic to its number and every send waits until the last one reads so, which always holds when the
/// frame is read right; so it must explore exactly as LazyInitRing does, in a state 64, 128 or 256 bytes of
/// variables wide, and find the same lost message.
/// </summary>
public class PaddedLazyInit : RingDesign
{
    private readonly int _pad, _localPad;

    public PaddedLazyInit() : this("my-padded-lazy-init", pad: 40, localPad: 10) { }
    protected PaddedLazyInit(string name, int pad, int localPad) : base(name) => (_pad, _localPad) = (pad, localPad);

    public override string Summary => $"example: the lazily initialised ring, its variables behind {_pad} shared statistics and {_localPad} scratch locals";
    public override IReadOnlyList<string> SharedNames => [.. Enumerable.Range(0, _pad).Select(i => $"stat{i}"), "ring_ready"];
    public override IReadOnlyList<string> LocalNames => [.. Enumerable.Range(0, _localPad).Select(i => $"scratch{i}"), "saw_unready"];

    public override void Init(ref IpiState s, IpiKernel k)
    {
        for (int i = 0; i < _pad; i++) k.Shared(ref s, i) = (byte)(i + 1);
    }

    public override bool SendBlocked(in IpiState s, int cpu, IpiKernel k) => k.SharedValue(s, _pad - 1) != _pad;

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [("if (!READ_ONCE(ring->ready))", CheckReady), ("ring->head = ring->tail = 0; WRITE_ONCE(ring->ready, 1);", InitRing), .. base.Program];

    private bool CheckReady(ref IpiState s, int cpu, IpiKernel k)
    {
        k.Local(ref s, cpu, _localPad) = (byte)(k.Shared(ref s, _pad) == 0 ? 1 : 0);
        return true;
    }

    private bool InitRing(ref IpiState s, int cpu, IpiKernel k)
    {
        if (k.Local(ref s, cpu, _localPad) != 0) { s.Head = s.Tail = 0; k.Shared(ref s, _pad) = 1; }
        return true;
    }
}

/// <summary>The padded ring in the widest state: 201 shared variables and 11 locals a CPU (223 bytes at two senders).</summary>
public sealed class PaddedLazyInitWidest : PaddedLazyInit
{
    public PaddedLazyInitWidest() : base("my-padded-lazy-init-widest", pad: 200, localPad: 10) { }
}

/// <summary>A design that copies the state and sets a variable past its first 16 bytes in the copy: a step contract, never another state's bytes.</summary>
public sealed class WideVariableOnACopy : RingDesign
{
    public WideVariableOnACopy() : base("my-wide-variable-on-a-copy") { }

    public override string Summary => "example: the claim sets its 20th shared variable in a copy of the state";
    public override IReadOnlyList<string> SharedNames => [.. Enumerable.Range(0, 20).Select(i => $"v{i}")];

    protected override IReadOnlyList<(string Line, SendStep Run)> Program =>
        [.. base.Program.Select(p => p.Line == Claim ? (Claim, (SendStep)ClaimOnACopy) : p)];

    private bool ClaimOnACopy(ref IpiState s, int cpu, IpiKernel k)
    {
        var copy = s;
        k.Shared(ref copy, 19) = 1;
        return ClaimStep(ref s, cpu, k);
    }
}

/// <summary>240 shared variables and 6 locals a CPU: 252 bytes at two senders, 258 at three (refused: a design has at most 256).</summary>
public sealed class TooWide : RingDesign
{
    public TooWide() : base("my-too-wide") { }

    public override string Summary => "example: 240 shared variables and 6 locals per CPU";
    public override IReadOnlyList<string> SharedNames => [.. Enumerable.Range(0, 240).Select(i => $"v{i}")];
    public override IReadOnlyList<string> LocalNames => [.. Enumerable.Range(0, 6).Select(i => $"l{i}")];
}
