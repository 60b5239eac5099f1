using System.Runtime.InteropServices;
using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>
/// The rules a design's step must keep, checked after every step: a broken one is a
/// <see cref="StepContractException"/>, reported at the step that broke it, never a run that goes on
/// in a state no kernel could reach (a finished sender wrapping round into another CPU's message).
/// </summary>
public sealed partial class IpiSpec
{
    private void CheckContract(in IpiState before, in IpiState after, in IpiAction a)
    {
        string who = a.Actor == IpiActor.Sender ? _k.SenderName(a.Index) : a.Actor.ToString().ToLowerInvariant();
        for (int c = 0; c < Bounds.Senders; c++)
        {
            var was = before.Senders[c];
            var now = after.Senders[c];
            bool mine = a.Actor == IpiActor.Sender && a.Index == c;
            if (!mine)
            {
                if (!Same(was, now)) throw new StepContractException($"a step of {who} changed {_k.SenderName(c)}'s send state (pc, message, claimed slot or locals), which only that CPU's own steps may change");
                continue;
            }
            if (now.K != was.K)
            {
                // k.Return() moved the CPU to its next message: the step must end there.
                byte expected = now.K < Bounds.Messages ? (byte)0 : SenderCpu.Done;
                if (now.K != was.K + 1 || now.Pc != expected)
                    throw new StepContractException($"{who} ran on after multikernel_send_ipi_data() returned (a step went on after k.Return(): pc {now.Pc}, message {now.K}); a step that returns must return false");
            }
            else if (now.Pc != SenderCpu.Done && now.Pc >= Design.SendSteps.Count)
                throw new StepContractException($"{who}'s program counter {now.Pc} is past its {Design.SendSteps.Count} send steps");
            else if (now.Pc == SenderCpu.Done)
                throw new StepContractException($"{who} finished without k.Return(): the send never returned a value to its caller");
            for (int l = Design.LocalNames.Count; l < IpiState.MaxDesignLocals; l++)
                if (now.Locals[l] != was.Locals[l]) throw new StepContractException($"{who} wrote local {l}, which the design does not declare (LocalNames has {Design.LocalNames.Count})");
        }
        for (int v = Design.SharedNames.Count; v < IpiState.MaxDesignShared; v++)
            if (after.Shared[v] != before.Shared[v]) throw new StepContractException($"a step of {who} wrote shared variable {v}, which the design does not declare (SharedNames has {Design.SharedNames.Count})");
        // The history the properties are judged from only grows: no step may take back a recorded
        // violation, a send's result, a delivery or a spoiled message (the kernel facade never does).
        if ((before.Broken & ~after.Broken) != 0 || (before.Accepted & ~after.Accepted) != 0 || (before.Rejected & ~after.Rejected) != 0
            || (before.Spoiled & ~after.Spoiled) != 0 || !Grew(before.Delivered, after.Delivered))
            throw new StepContractException($"a step of {who} took back recorded history (a violation, a send's result, a delivery or a spoiled message), which only grows");
        if (after.UnregisterPc > Design.UnregisterSteps.Count)
            throw new StepContractException($"unregister's program counter {after.UnregisterPc} is past its {Design.UnregisterSteps.Count} steps");
        if (after.DestroyPc > Design.DestroySteps.Count)
            throw new StepContractException($"destroy's program counter {after.DestroyPc} is past its {Design.DestroySteps.Count} steps");
    }

    /// <summary>Every 2-bit delivery count in <paramref name="after"/> is at least its value in <paramref name="before"/>.</summary>
    private static bool Grew(ulong before, ulong after)
    {
        for (int shift = 0; shift < 64; shift += 2)
            if (((after >> shift) & 3) < ((before >> shift) & 3)) return false;
        return true;
    }

    private static bool Same(in SenderCpu x, in SenderCpu y) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<SenderCpu>(in x)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<SenderCpu>(in y)));
}
