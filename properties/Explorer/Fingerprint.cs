using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// 64-bit fingerprint of a state's bytes. States are unmanaged, packed structs
/// created from zeroed memory, so equal states have equal bytes. The function is xxHash64
/// (four independent lanes over 32-byte stripes, so a 100-byte state costs about a quarter of
/// a one-lane chain, then the tail and the avalanche): good enough that 10^9 states give a
/// collision probability below 3%·10^-2 (n²/2^65).
/// </summary>
public static class Fingerprint
{
    private const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL,
        P4 = 0x85EBCA77C2B2AE63UL, P5 = 0x27D4EB2F165667C5UL;

    public static ulong Of<T>(in T state) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in state));
        ref byte b = ref MemoryMarshal.GetReference(bytes);
        int len = bytes.Length, i = 0;
        ulong h;
        if (len >= 32)
        {
            ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = ~P1 + 1; // seed 0
            for (; i + 32 <= len; i += 32)
            {
                v1 = Round(v1, Read(ref b, i));
                v2 = Round(v2, Read(ref b, i + 8));
                v3 = Round(v3, Read(ref b, i + 16));
                v4 = Round(v4, Read(ref b, i + 24));
            }
            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            h = Merge(Merge(Merge(Merge(h, v1), v2), v3), v4);
        }
        else h = P5;
        h += (ulong)len;
        for (; i + 8 <= len; i += 8) h = BitOperations.RotateLeft(h ^ Round(0, Read(ref b, i)), 27) * P1 + P4;
        if (i + 4 <= len)
        {
            h = BitOperations.RotateLeft(h ^ (Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, i)) * P1), 23) * P2 + P3;
            i += 4;
        }
        for (; i < len; i++) h = BitOperations.RotateLeft(h ^ (Unsafe.Add(ref b, i) * P5), 11) * P1;
        h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
        return h == 0 ? 1 : h; // 0 marks an empty slot in the stores
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(ref byte b, int at) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + input * P2, 31) * P1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Merge(ulong acc, ulong v) => (acc ^ Round(0, v)) * P1 + P4;
}
