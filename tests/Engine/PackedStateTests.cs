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
