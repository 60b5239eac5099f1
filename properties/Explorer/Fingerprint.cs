using System.Numerics;
using System.Runtime.InteropServices;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// 64-bit fingerprint of a state's bytes. States are unmanaged, packed structs
/// created from zeroed memory, so equal states have equal bytes. The mixing is
/// xxHash64's round and avalanche: cheap, and good enough that 10^9 states give a
/// collision probability below 3%·10^-2 (n²/2^65).
/// </summary>
public static class Fingerprint
{
    private const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL;

    public static ulong Of<T>(in T state) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in state));
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        ulong h = P3 ^ ((ulong)bytes.Length * P1);
        foreach (ulong w in words)
            h = BitOperations.RotateLeft(h ^ (BitOperations.RotateLeft(w * P2, 31) * P1), 27) * P1 + P3;
        for (int i = words.Length * 8; i < bytes.Length; i++)
            h = BitOperations.RotateLeft(h ^ (bytes[i] * P3), 11) * P1;
        h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
        return h == 0 ? 1 : h; // 0 marks an empty slot in the stores
    }
}
