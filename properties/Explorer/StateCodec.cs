using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// The packed form a level's states take in its buffers (Spin's and TLC's stores keep states whole;
/// here only the frontier does, and compactly): a state's bytes XORed with a reference state (the
/// first initial state), of which only the bytes that differ are kept. Per 8-byte word of the state,
/// one bit says whether it differs; per word that does, one byte says which of its bytes do, then
/// those bytes. A state of a model where most fields keep their initial value (slots, senders and
/// handlers the bounds leave unused) packs to a fifth of its size. Exact: it decodes to the same bytes.
/// </summary>
internal static unsafe class StateCodec<TState> where TState : unmanaged
{
    private static readonly int Size = sizeof(TState);
    private static readonly int Words = (Size + 7) / 8;
    private static readonly int MaskBytes = (Words + 7) / 8;

    /// <summary>The most bytes a packed state takes.</summary>
    public static readonly int MaxBytes = MaskBytes + Words + Size;

    /// <summary>Packs <paramref name="s"/> against <paramref name="reference"/> into <paramref name="to"/> (at least <see cref="MaxBytes"/>); the bytes written.</summary>
    public static int Encode(in TState s, in TState reference, byte* to)
    {
        // By reference, not pointer: s may lie in a buffer the GC moves.
        ref byte a = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in s));
        ref byte r = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in reference));
        byte* mask = to;
        for (int i = 0; i < MaskBytes; i++) mask[i] = 0;
        byte* o = to + MaskBytes;
        for (int w = 0; w < Words; w++)
        {
            int at = w * 8;
            ulong x = Word(ref a, at) ^ Word(ref r, at);
            if (x == 0) continue;
            mask[w >> 3] |= (byte)(1 << (w & 7));
            // Which bytes of the word are non-zero, one bit each.
            ulong t = x | (x >> 4);
            t |= t >> 2;
            t |= t >> 1;
            t &= 0x0101010101010101UL;
            byte bytes = (byte)((t * 0x0102040810204080UL) >> 56);
            *o++ = bytes;
            for (uint b = bytes; b != 0; b &= b - 1)
                *o++ = (byte)(x >> (8 * BitOperations.TrailingZeroCount(b)));
        }
        return (int)(o - to);
    }

    /// <summary>The state packed at <paramref name="from"/> against <paramref name="reference"/>.</summary>
    public static void Decode(byte* from, in TState reference, out TState s)
    {
        s = reference;
        ref byte a = ref Unsafe.As<TState, byte>(ref s);
        byte* i = from + MaskBytes;
        for (int m = 0; m < MaskBytes; m++)
            for (uint words = from[m]; words != 0; words &= words - 1)
            {
                int at = 8 * (8 * m + BitOperations.TrailingZeroCount(words));
                for (uint b = *i++; b != 0; b &= b - 1)
                    Unsafe.Add(ref a, at + BitOperations.TrailingZeroCount(b)) ^= *i++;
            }
    }

    // The word at byte at, the bytes past the state's end read as zero.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ref byte p, int at)
    {
        if (at + 8 <= Size) return Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, at));
        ulong x = 0;
        for (int k = Size - at - 1; k >= 0; k--) x = (x << 8) | Unsafe.Add(ref p, at + k);
        return x;
    }
}

/// <summary>
/// Packed states appended one after another, addressed by their offset. It grows by half (the caller
/// charges the new array first, <see cref="GrowBytes"/>) and is reused level after level.
/// </summary>
internal sealed unsafe class PackedStates
{
    private byte[] _bytes = new byte[256];
    private int _end;

    public long Bytes => _bytes.Length;
    public int Length => _end;

    public void Clear() => _end = 0;

    /// <summary>
    /// The bytes of the array that must replace this one before a state of <typeparamref name="TState"/> fits;
    /// 0 when it fits; -1 when no array can hold it (the largest one is full).
    /// </summary>
    public long GrowBytes<TState>() where TState : unmanaged
    {
        long need = (long)_end + StateCodec<TState>.MaxBytes;
        if (need <= _bytes.Length) return 0;
        long n = Math.Min(Math.Max(need, _bytes.Length + (_bytes.Length >> 1)), Array.MaxLength);
        return n < need ? -1 : n;
    }

    /// <summary>Packs <paramref name="s"/> at the end (after <see cref="GrowBytes"/> was charged); its offset.</summary>
    public int Add<TState>(in TState s, in TState reference) where TState : unmanaged
    {
        long grow = GrowBytes<TState>();
        if (grow > 0) Array.Resize(ref _bytes, (int)grow);
        int at = _end;
        fixed (byte* to = &_bytes[at])
            _end += StateCodec<TState>.Encode(s, reference, to);
        return at;
    }

    public void Get<TState>(int at, in TState reference, out TState s) where TState : unmanaged
    {
        fixed (byte* from = &_bytes[at])
            StateCodec<TState>.Decode(from, reference, out s);
    }
}
