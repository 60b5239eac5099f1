using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// The packed form a level's states take in its buffers (Spin's and TLC's stores keep states whole;
/// here only the frontier does, and compactly): a state's bytes XORed with a reference state (a near
/// relative, or the first initial state), of which only the bytes that differ are kept. Per 8-byte word
/// of the state, one bit says whether it differs; then, per word that does, one byte says which of its
/// bytes do; then those bytes, in order. A state of a model where most fields keep their initial value
/// (slots, senders and handlers the bounds leave unused) packs to a fifth of its size. Exact: it decodes
/// to the same bytes. The masks come before the bytes so that the bytes of 64 state bytes are stored and
/// loaded in one instruction where the CPU has them (AVX-512 VBMI2's compress and expand); elsewhere
/// word by word, into the same format.
/// </summary>
internal static unsafe class StateCodec<TState> where TState : unmanaged
{
    private static readonly int Size = sizeof(TState);
    private static readonly int Words = (Size + 7) / 8;
    private static readonly int MaskBytes = (Words + 7) / 8;
    /// <summary>64 state bytes (8 words: one byte of the word mask) at a time; the last stretch is loaded overlapping the one before.</summary>
    private static readonly bool Vectors = Vector512.IsHardwareAccelerated && Avx512Vbmi2.IsSupported && Avx512Vbmi.IsSupported && Size >= 64;
    private static readonly int Stretches = (Size + 63) / 64;
    /// <summary>Where the last stretch's 64-byte load starts (it ends at the state's end), and how far that is back from the stretch.</summary>
    private static readonly int TailAt = Size - 64, TailShift = 64 * (Stretches - 1) - (Size - 64);

    /// <summary>The most bytes a packed state takes.</summary>
    public static readonly int MaxBytes = MaskBytes + Words + Size;

    /// <summary>Packs <paramref name="s"/> against <paramref name="reference"/> into <paramref name="to"/> (at least <see cref="MaxBytes"/>); the bytes written.</summary>
    public static int Encode(in TState s, in TState reference, byte* to) =>
        Vectors ? EncodeVector(s, reference, to) : EncodeWords(s, reference, to);

    /// <summary>The state packed at <paramref name="from"/> against <paramref name="reference"/>.</summary>
    public static void Decode(byte* from, in TState reference, out TState s)
    {
        if (Vectors) DecodeVector(from, reference, out s);
        else DecodeWords(from, reference, out s);
    }

    /// <summary>Word by word (any CPU, any size).</summary>
    internal static int EncodeWords(in TState s, in TState reference, byte* to)
    {
        // By reference, not pointer: s may lie in a buffer the GC moves.
        ref byte a = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in s));
        ref byte r = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in reference));
        byte* mask = to;
        for (int i = 0; i < MaskBytes; i++) mask[i] = 0;
        int differ = 0;
        for (int w = 0; w < Words; w++)
            if (Word(ref a, w * 8) != Word(ref r, w * 8))
            {
                mask[w >> 3] |= (byte)(1 << (w & 7));
                differ++;
            }
        byte* bytesOf = to + MaskBytes, o = bytesOf + differ;
        for (int m = 0; m < MaskBytes; m++)
            for (uint words = mask[m]; words != 0; words &= words - 1)
            {
                int at = 8 * (8 * m + BitOperations.TrailingZeroCount(words));
                ulong x = Word(ref a, at) ^ Word(ref r, at);
                byte bytes = NonZeroBytes(x);
                *bytesOf++ = bytes;
                for (uint b = bytes; b != 0; b &= b - 1)
                    *o++ = (byte)(x >> (8 * BitOperations.TrailingZeroCount(b)));
            }
        return (int)(o - to);
    }

    internal static void DecodeWords(byte* from, in TState reference, out TState s)
    {
        s = reference;
        ref byte a = ref Unsafe.As<TState, byte>(ref s);
        int differ = 0;
        for (int m = 0; m < MaskBytes; m++) differ += BitOperations.PopCount(from[m]);
        byte* bytesOf = from + MaskBytes, i = bytesOf + differ;
        for (int m = 0; m < MaskBytes; m++)
            for (uint words = from[m]; words != 0; words &= words - 1)
            {
                int at = 8 * (8 * m + BitOperations.TrailingZeroCount(words));
                for (uint b = *bytesOf++; b != 0; b &= b - 1)
                    Unsafe.Add(ref a, at + BitOperations.TrailingZeroCount(b)) ^= *i++;
            }
    }

    /// <summary>64 bytes at a time: a compare gives which bytes differ, a compress stores them.</summary>
    private static int EncodeVector(in TState s, in TState reference, byte* to)
    {
        ref byte a = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in s));
        ref byte r = ref Unsafe.As<TState, byte>(ref Unsafe.AsRef(in reference));
        // First the word mask (it says where the bytes begin), then the byte masks and the bytes.
        int differ = 0;
        for (int k = 0; k < Stretches; k++)
        {
            byte words = NonZeroBytes(Differs(ref a, ref r, k, out _));
            to[k] = words;
            differ += BitOperations.PopCount(words);
        }
        byte* bytesOf = to + MaskBytes, o = bytesOf + differ;
        for (int k = 0; k < Stretches; k++)
        {
            if (to[k] == 0) continue;
            ulong bits = Differs(ref a, ref r, k, out var x);
            for (uint words = to[k]; words != 0; words &= words - 1)
                *bytesOf++ = (byte)(bits >> (8 * BitOperations.TrailingZeroCount(words)));
            Avx512Vbmi2.CompressStore(o, ToVector(k < Stretches - 1 ? bits : bits << TailShift), x);
            o += BitOperations.PopCount(bits);
        }
        return (int)(o - to);
    }

    private static void DecodeVector(byte* from, in TState reference, out TState s)
    {
        s = reference;
        ref byte a = ref Unsafe.As<TState, byte>(ref s);
        int differ = 0;
        for (int k = 0; k < Stretches; k++) differ += BitOperations.PopCount(from[k]);
        byte* bytesOf = from + MaskBytes, i = bytesOf + differ;
        for (int k = 0; k < Stretches; k++)
        {
            if (from[k] == 0) continue;
            ulong bits = 0;
            for (uint words = from[k]; words != 0; words &= words - 1)
                bits |= (ulong)*bytesOf++ << (8 * BitOperations.TrailingZeroCount(words));
            // The last stretch is loaded and stored ending at the state's end, overlapping the one before.
            int at = k < Stretches - 1 ? 64 * k : TailAt;
            var x = Avx512Vbmi2.ExpandLoad(i, ToVector(k < Stretches - 1 ? bits : bits << TailShift), Vector512<byte>.Zero);
            (Vector512.LoadUnsafe(ref a, (nuint)at) ^ x).StoreUnsafe(ref a, (nuint)at);
            i += BitOperations.PopCount(bits);
        }
    }

    /// <summary>
    /// Which of stretch <paramref name="k"/>'s 64 bytes differ (bit i: byte 64k + i), and the XOR as loaded
    /// (the last stretch's load ends at the state's end, so its bytes sit <see cref="TailShift"/> lanes up).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Differs(ref byte a, ref byte r, int k, out Vector512<byte> x)
    {
        int at = k < Stretches - 1 ? 64 * k : TailAt;
        x = Vector512.LoadUnsafe(ref a, (nuint)at) ^ Vector512.LoadUnsafe(ref r, (nuint)at);
        ulong bits = ~Vector512.Equals(x, Vector512<byte>.Zero).ExtractMostSignificantBits();
        return k < Stretches - 1 ? bits : bits >> TailShift;
    }

    private static readonly Vector512<byte> ByteOfLane = Vector512.Create(
        (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
    private static readonly Vector512<byte> BitOfLane = Vector512.Create((ulong)0x8040201008040201).AsByte();

    /// <summary>A lane mask from 64 bits: lane i all ones where bit i is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> ToVector(ulong bits) =>
        ~Vector512.Equals(Avx512Vbmi.PermuteVar64x8(Vector512.Create(bits).AsByte(), ByteOfLane) & BitOfLane, Vector512<byte>.Zero);

    /// <summary>Which bytes of <paramref name="x"/> are non-zero, one bit each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte NonZeroBytes(ulong x)
    {
        ulong t = x | (x >> 4);
        t |= t >> 2;
        t |= t >> 1;
        t &= 0x0101010101010101UL;
        return (byte)((t * 0x0102040810204080UL) >> 56);
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
