using Multikernel.Model.Ipi;
using Multikernel.Proofs.Z3;

namespace Multikernel.Proofs.Ipi;

/// <summary>
/// <see cref="MkRing"/>'s functions as Z3 terms, one for one, at the counters' width
/// (arithmetic wraps modulo 2^width, so no masking is written out). The ring size is a
/// term so that one proof covers every size. A defect of the reference design is
/// encoded the way <see cref="Model.Ipi.Designs.RingDesign"/> runs it.
/// </summary>
public sealed class RingEncoding(BitVec size, Model.Ipi.Designs.RingDesign.Defect defects = default)
{
    private bool Has(Model.Ipi.Designs.RingDesign.Defect m) => (defects & m) != 0;

    public BitVec Size => size;
    public static BitVec Occupancy(BitVec head, BitVec tail) => head - tail;
    public BoolTerm Full(BitVec head, BitVec tail) => Occupancy(head, tail).UGe(size);
    public static BitVec Advance(BitVec counter) => counter + 1;
    public BitVec Slot(BitVec counter) => Has(Model.Ipi.Designs.RingDesign.Defect.NoMask) ? counter : counter & (size - 1);

    /// <summary>Claim may take a position: the design's guard (none without the full check).</summary>
    public BoolTerm ClaimGuard(BitVec head, BitVec tail) =>
        Has(Model.Ipi.Designs.RingDesign.Defect.NoFullCheck) ? Bool(true, head) : !Full(head, tail);

    /// <summary>Consume takes the slot at tail when it is READY, i.e. its position was claimed: tail != head.</summary>
    public static BoolTerm ConsumeGuard(BitVec head, BitVec tail) => !head.Eq(tail);

    /// <summary>MkRing.InWindow: the slot holds a position of [tail, head).</summary>
    public BoolTerm InWindow(BitVec slot, BitVec head, BitVec tail) => ((slot - tail) & (size - 1)).ULt(Occupancy(head, tail));

    /// <summary>The slots' invariant, for one slot and its state: READY only inside the window.</summary>
    public BoolTerm ReadyInWindow(BitVec slot, BitVec state, BitVec head, BitVec tail) =>
        (!state.Eq(Model.Ipi.IpiConstants.SlotReady)) | InWindow(slot, head, tail);

    /// <summary>Consume frees the slot it took (unless the design forgets to).</summary>
    public BitVec AfterConsume(BitVec slot, BitVec state, BitVec tail) =>
        Has(Model.Ipi.Designs.RingDesign.Defect.NoClear) ? state : BitVec.Ite(slot.Eq(Slot(tail)), state.Z3Num(Model.Ipi.IpiConstants.SlotFree), state);

    /// <summary>Publish marks the slot of the claimed position READY.</summary>
    public BitVec AfterPublish(BitVec slot, BitVec state, BitVec position) =>
        BitVec.Ite(slot.Eq(Slot(position)), state.Z3Num(Model.Ipi.IpiConstants.SlotReady), state);

    /// <summary>The occupancy invariant: never more claimed-and-unconsumed positions than slots.</summary>
    public BoolTerm Invariant(BitVec head, BitVec tail) => Occupancy(head, tail).ULe(size);

    private static BoolTerm Bool(bool v, BitVec any) => v ? any.Eq(any) : !any.Eq(any);
}
