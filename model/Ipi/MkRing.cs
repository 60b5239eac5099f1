namespace Multikernel.Model.Ipi;

/// <summary>
/// The reference ring's index arithmetic, at the width of its free-running counters
/// (8 bits in the explorer's packed state, 32 in the kernel and the implementation).
/// <see cref="Designs.RingDesign"/> runs these functions; proofs/Ipi encodes the same
/// functions for Z3, and a property checks that the two agree on random states.
/// </summary>
public readonly record struct MkRing(uint Size, int CounterBits)
{
    public uint CounterMask => CounterBits >= 32 ? uint.MaxValue : (1u << CounterBits) - 1;

    /// <summary>head - tail: claimed and not yet consumed (wraps with the counters).</summary>
    public uint Occupancy(uint head, uint tail) => (head - tail) & CounterMask;

    /// <summary>if (head - smp_load_acquire(&amp;ring->tail) &gt;= MK_IPI_RING) return -ENOSPC;</summary>
    public bool Full(uint head, uint tail) => Occupancy(head, tail) >= Size;

    /// <summary>head + 1 (claim) or tail + 1 (consume).</summary>
    public uint Advance(uint counter) => (counter + 1) & CounterMask;

    /// <summary>&amp;ring->slots[counter &amp; (MK_IPI_RING - 1)]: the other kernel can write the counters.</summary>
    public uint Slot(uint counter) => counter & (Size - 1);

    /// <summary>
    /// Slot <paramref name="slot"/> holds one of the claimed, unconsumed positions [tail, head).
    /// The ring's invariant: a READY slot is always in this window (published implies claimed
    /// and not yet consumed), so the drain never takes a slot twice or one nobody claimed.
    /// </summary>
    public bool InWindow(uint slot, uint head, uint tail) => ((slot - tail) & (Size - 1)) < Occupancy(head, tail);
}
