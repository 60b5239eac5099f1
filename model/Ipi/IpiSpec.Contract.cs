using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The rules a design's step must keep, checked after every step: a broken one is a
/// <see cref="StepContractException"/>, reported at the step that broke it, never a run that goes on
/// in a state no kernel could reach (a finished sender wrapping round into another CPU's message).
/// Runs on every transition: nothing here allocates unless a rule is broken.
/// </summary>
public sealed partial class IpiSpec
{
    /// <summary>The design's step and variable counts, read once in the constructor (a design's lists may be built on each call).</summary>
    private readonly (int SendSteps, int Locals, int Shared, int UnregisterSteps, int DestroySteps) _shape;

    /// <summary>Masks of <see cref="IpiState.Vars"/>' two words: the bytes past what the design declares at these bounds (none in a design that needs more).</summary>
    private readonly ulong _undeclared0, _undeclared1;

    private static (ulong, ulong) Undeclared(int used) =>
        (used >= 8 ? 0 : ~0UL << (8 * used), used >= 16 ? 0 : used <= 8 ? ~0UL : ~0UL << (8 * (used - 8)));

    private static (int, int, int, int, int) ShapeOf(IpiDesign d) =>
        (d.SendSteps.Count, d.LocalNames.Count, d.SharedNames.Count, d.UnregisterSteps.Count, d.DestroySteps.Count);

    /// <param name="moreBefore">The design's variables past the state's, before the step (empty in a state that holds them all).</param>
    internal void CheckContract(in IpiState before, in IpiState after, in IpiAction a, ReadOnlySpan<byte> moreBefore, ReadOnlySpan<byte> moreAfter)
    {
        var shape = _shape;
        for (int c = 0; c < Bounds.Senders; c++)
        {
            ref readonly var was = ref before.Senders[c];
            ref readonly var now = ref after.Senders[c];
            if (a.Actor != IpiActor.Sender || a.Index != c)
            {
                if (!Same(was, now) || !SameLocals(before, moreBefore, after, moreAfter, c, shape.Locals))
                    throw Broken(a, $"changed {_k.SenderName(c)}'s send state (pc, message, claimed slot or locals), which only that CPU's own steps may change");
                continue;
            }
            if (now.K != was.K)
            {
                // k.Return() moved the CPU to its next message: the step must end there.
                byte expected = now.K < Bounds.Messages ? (byte)0 : SenderCpu.Done;
                if (now.K != was.K + 1 || now.Pc != expected)
                    throw Broken(a, $"ran on after multikernel_send_ipi_data() returned (a step went on after k.Return(): pc {now.Pc}, message {now.K}); a step that returns must return false");
            }
            else if (now.Pc == SenderCpu.Done)
                throw Broken(a, "finished without k.Return(): the send never returned a value to its caller");
            else if (now.Pc >= shape.SendSteps)
                throw Broken(a, $"moved its program counter to {now.Pc}, past its {shape.SendSteps} send steps");
        }
        // Bytes of the design's variables past what it declared: written only by reaching round the accessors.
        int used = _k.DesignBytesUsed, moreUsed = Math.Max(0, used - IpiState.InlineDesignBytes);
        if (!SameUndeclared(before.Vars, after.Vars) || !moreBefore[moreUsed..].SequenceEqual(moreAfter[moreUsed..]))
            for (int v = used; v < IpiState.InlineDesignBytes + moreBefore.Length; v++)
                if (Byte(after, moreAfter, v) != Byte(before, moreBefore, v)) throw Broken(a, $"wrote byte {v} of the design's variables, which it does not declare (SharedNames has {shape.Shared}, LocalNames has {shape.Locals})");
        // The history the properties are judged from only grows: no step may take back a recorded
        // violation, a send's result, a delivery or a spoiled message (the kernel facade never does).
        if ((before.Broken & ~after.Broken) != 0 || (before.Accepted & ~after.Accepted) != 0 || (before.Rejected & ~after.Rejected) != 0
            || (before.Spoiled & ~after.Spoiled) != 0 || !Grew(before.Delivered, after.Delivered))
            throw Broken(a, "took back recorded history (a violation, a send's result, a delivery or a spoiled message), which only grows");
        if (after.UnregisterPc > shape.UnregisterSteps)
            throw Broken(a, $"moved unregister's program counter to {after.UnregisterPc}, past its {shape.UnregisterSteps} steps");
        if (after.DestroyPc > shape.DestroySteps)
            throw Broken(a, $"moved destroy's program counter to {after.DestroyPc}, past its {shape.DestroySteps} steps");
    }

    /// <summary>The broken rule, named with the actor whose step broke it.</summary>
    private StepContractException Broken(in IpiAction a, string rule) =>
        new($"{(a.Actor == IpiActor.Sender ? _k.SenderName(a.Index) : "a step of " + a.Actor.ToString().ToLowerInvariant())} {rule}");

    /// <summary>
    /// Every 2-bit delivery count in <paramref name="after"/> is at least its value in <paramref name="before"/>:
    /// all 32 fields at once (a field is smaller when its high bit is, or its high bits are equal and its low bit is).
    /// </summary>
    private static bool Grew(ulong before, ulong after)
    {
        const ulong low = 0x5555_5555_5555_5555UL;
        ulong ah = (before >> 1) & low, bh = (after >> 1) & low, al = before & low, bl = after & low;
        return ((ah & ~bh) | (~(ah ^ bh) & al & ~bl)) == 0;
    }

    /// <summary>The design's undeclared bytes (from <see cref="IpiKernel.DesignBytesUsed"/> on) are the same in both: two words compared under a mask.</summary>
    private bool SameUndeclared(in DesignVars x, in DesignVars y)
    {
        ref byte xb = ref Unsafe.As<DesignVars, byte>(ref Unsafe.AsRef(in x));
        ref byte yb = ref Unsafe.As<DesignVars, byte>(ref Unsafe.AsRef(in y));
        ulong d0 = Unsafe.ReadUnaligned<ulong>(ref xb) ^ Unsafe.ReadUnaligned<ulong>(ref yb);
        ulong d1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref xb, 8)) ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref yb, 8));
        return ((d0 & _undeclared0) | (d1 & _undeclared1)) == 0;
    }

    private bool SameLocals(in IpiState x, ReadOnlySpan<byte> moreX, in IpiState y, ReadOnlySpan<byte> moreY, int cpu, int locals)
    {
        for (int i = 0; i < locals; i++)
            if (Byte(x, moreX, _k.LocalIndex(cpu, i)) != Byte(y, moreY, _k.LocalIndex(cpu, i))) return false;
        return true;
    }

    /// <summary>Byte <paramref name="i"/> of the design's variables, of a state and the bytes past it.</summary>
    private static byte Byte(in IpiState s, ReadOnlySpan<byte> more, int i) => i < IpiState.InlineDesignBytes ? s.Vars[i] : more[i - IpiState.InlineDesignBytes];

    private static bool Same(in SenderCpu x, in SenderCpu y) =>
        Unsafe.As<SenderCpu, uint>(ref Unsafe.AsRef(in x)) == Unsafe.As<SenderCpu, uint>(ref Unsafe.AsRef(in y));
}
