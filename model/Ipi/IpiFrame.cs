using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The state of a design whose own variables outgrow <see cref="IpiState.Vars"/>: the state every design sees
/// (<see cref="Core"/>), then the rest of the design's bytes. A design is explored in the smallest state its
/// variables fit (<see cref="IpiSpecs.For"/>), so a design with two variables pays for 16 bytes and one with
/// a hundred for 128. Designs never see this type: they reach every variable through <see cref="IpiKernel.Shared"/>
/// and <see cref="IpiKernel.Local"/>, given the core.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct IpiFrame<TMore> where TMore : unmanaged
{
    public IpiState Core;
    /// <summary>The design's bytes from <see cref="IpiState.InlineDesignBytes"/> on.</summary>
    public TMore More;
}

// The sizes a design's variables are explored in beyond the 16 bytes in IpiState: 64, 128 and 256 in all.
[InlineArray(48)] public struct MoreVars48 { private byte _e; }
[InlineArray(112)] public struct MoreVars112 { private byte _e; }
[InlineArray(240)] public struct MoreVars240 { private byte _e; }

/// <summary>
/// The frame whose core the current thread's design code runs on, while a wide specification runs it. A
/// variable past the core's 16 bytes lies in that frame, so it is reached only from that core: a design that
/// copies the state and passes the copy is told so (a step contract), never handed bytes of another state.
/// </summary>
internal static unsafe class IpiFrames
{
    [ThreadStatic] private static byte* t_core;
    [ThreadStatic] private static byte* t_more;
    [ThreadStatic] private static int t_length;

    /// <summary>Byte <paramref name="at"/> of the variables past the core's, for the core <paramref name="s"/> of the current frame.</summary>
    public static ref byte More(ref IpiState s, int at)
    {
        if (Unsafe.AsPointer(ref s) != t_core)
            throw new StepContractException($"a step reached design variable byte {IpiState.InlineDesignBytes + at} of a state it was not given (a copy of it?): the design's variables past the first {IpiState.InlineDesignBytes} bytes are reached only through the state the step, predicate or Init was passed");
        if ((uint)at >= (uint)t_length) throw new InvalidOperationException($"design variable byte {IpiState.InlineDesignBytes + at} is past the frame's {IpiState.InlineDesignBytes + t_length}");
        return ref t_more[at];
    }

    /// <summary>Makes the frame at <paramref name="core"/> and <paramref name="more"/> the current one until the scope is disposed; the memory must not move meanwhile (a local, or pinned).</summary>
    public static Scope Enter(IpiState* core, byte* more, int length)
    {
        var scope = new Scope(t_core, t_more, t_length);
        t_core = (byte*)core;
        t_more = more;
        t_length = length;
        return scope;
    }

    /// <summary>Restores the frame that was current before (frames nest when a step's explanation re-runs it).</summary>
    public readonly ref struct Scope(byte* core, byte* more, int length)
    {
        public void Dispose()
        {
            t_core = core;
            t_more = more;
            t_length = length;
        }
    }
}
