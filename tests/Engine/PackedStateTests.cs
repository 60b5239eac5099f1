using System.Runtime.CompilerServices;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>What the explorer's memory savings must not change: a packed state unpacks to its bytes, and a resize that lets go of the old table as it reads it keeps every fingerprint.</summary>
public class PackedStateTests
{
    /// <summary>13 bytes: the last 8-byte word is partial, as IpiState's (119 bytes) is.</summary>
    [InlineArray(13)] private struct Odd { private byte _e; }

    [Fact]
    public unsafe void A_packed_state_unpacks_to_the_same_bytes_against_any_basis()
    {
        var rng = new Random(25);
        byte* buffer = stackalloc byte[StateCodec<Odd>.MaxBytes];
        for (int n = 0; n < 20_000; n++)
        {
            Odd s = default, basis = default;
            // Mostly equal bytes, as neighbouring states are; sometimes all different.
            for (int i = 0; i < 13; i++)
            {
                basis[i] = (byte)rng.Next(256);
                s[i] = rng.Next(4) == 0 || n % 97 == 0 ? (byte)rng.Next(256) : basis[i];
            }
            int length = StateCodec<Odd>.Encode(s, basis, buffer);
            Assert.InRange(length, 1, StateCodec<Odd>.MaxBytes);
            StateCodec<Odd>.Decode(buffer, basis, out var back);
            for (int i = 0; i < 13; i++) Assert.Equal(s[i], back[i]);
        }
        // A state equal to its basis is its word mask alone.
        Odd same = default;
        same[12] = 7;
        Assert.Equal(1, StateCodec<Odd>.Encode(same, same, buffer));
    }

    /// <summary>150 bytes: two whole 64-byte stretches and a tail whose last word is partial (IpiState is 146).</summary>
    [InlineArray(150)] private struct Wide { private byte _e; }

    /// <summary>
    /// Where the CPU has AVX-512 VBMI2, states of 64 bytes or more are packed 64 bytes at a time: into the
    /// same bytes as word by word, and either unpacks what the other packed.
    /// </summary>
    [Fact]
    public unsafe void Packing_64_bytes_at_a_time_gives_the_bytes_of_packing_word_by_word()
    {
        var rng = new Random(146);
        byte* vector = stackalloc byte[StateCodec<Wide>.MaxBytes], words = stackalloc byte[StateCodec<Wide>.MaxBytes];
        for (int n = 0; n < 20_000; n++)
        {
            Wide s = default, basis = default;
            int changes = n % 5 == 0 ? 150 : rng.Next(12); // few bytes differ, as between neighbours; sometimes all
            for (int i = 0; i < 150; i++) basis[i] = (byte)rng.Next(256);
            s = basis;
            for (int c = 0; c < changes; c++) s[rng.Next(150)] ^= (byte)(1 + rng.Next(255));
            if (n % 7 == 0) s[149] ^= 0x5a; // the partial last word
            int length = StateCodec<Wide>.Encode(s, basis, vector);
            int expected = StateCodec<Wide>.EncodeWords(s, basis, words);
            Assert.Equal(expected, length);
            Assert.True(new ReadOnlySpan<byte>(words, expected).SequenceEqual(new ReadOnlySpan<byte>(vector, length)), $"case {n}: packed differently");
            StateCodec<Wide>.Decode(words, basis, out var back);
            StateCodec<Wide>.DecodeWords(vector, basis, out var back2);
            for (int i = 0; i < 150; i++)
            {
                Assert.Equal(s[i], back[i]);
                Assert.Equal(s[i], back2[i]);
            }
        }
    }

    [Fact]
    public void A_resize_that_releases_the_old_table_as_it_goes_keeps_every_fingerprint()
    {
        using var crew = new Crew(2);
        var set = new FingerprintSet(1 << 16) { GrowCrew = crew };
        var rng = new Random(19);
        var fps = new List<ulong>();
        for (int i = 0; i < 3_000_000; i++)
        {
            // Clusters at the cut between the two threads' stretches and at the wrap.
            ulong fp = rng.Next(16) == 0 ? (rng.Next(2) == 0 ? ulong.MaxValue : 1UL << 63) - (ulong)rng.Next(4096)
                                         : ((ulong)rng.NextInt64() << 1) ^ (ulong)rng.NextInt64() | 1;
            if (set.Add(fp)) fps.Add(fp);
        }
        // Two threads' stretches of several 2 MiB pages each: pages were let go of during the resizes.
        Assert.True(set.Capacity > 8 * HugeTable.PageSlots, "the table never grew to where a resize lets pages go");
        Assert.Equal(fps.Count, set.Count);
        foreach (var fp in fps) Assert.True(set.Contains(fp));
    }
}
