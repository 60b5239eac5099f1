using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Properties.Traces;

/// <summary>One step enabled at a position: its place in the enabled list, who takes it, and where it leads.</summary>
/// <param name="Choice">Its position in the enabled list (what a trace's choices record).</param>
/// <param name="Violates">The always-properties false in the state it leads to.</param>
/// <param name="SameAs">The index of a state on the path it leads back to (a cycle), if any.</param>
/// <param name="Threw">What the step threw, if it did (no successor).</param>
public sealed record Successor(int Choice, string Step, string Lane, IReadOnlyList<string> Violates, int? SameAs, string? Threw);

/// <summary>
/// A position in a specification's state space, reached from an initial state by a path of choices
/// (as a trace records them): who took each step (its lane), the properties judged in its state, and
/// the steps enabled there. It re-executes the specification, as <see cref="Explorer.Explorer.Replay"/>
/// does for a trace, so a position is a few numbers and can be shared as a URL.
/// </summary>
public sealed record Walk(
    int InitialCount,
    IReadOnlyList<string> Lanes,
    IReadOnlyList<string> Violated,
    IReadOnlyList<string> Pending,
    IReadOnlyList<string> Reached,
    IReadOnlyList<Successor> Next)
{
    /// <summary>
    /// Walks <paramref name="choices"/> from initial state <paramref name="initial"/>. Throws
    /// <see cref="TraceMismatchException"/> (naming the step) when a choice is not enabled or the initial state does not exist.
    /// A step that throws ends the walk: its lane is kept and nothing is enabled after it.
    /// </summary>
    public static Walk To(ISpecHandle spec, int initial, IReadOnlyList<int> choices) => spec.Accept(new Visitor(initial, choices));

    /// <summary>Who took each step of <paramref name="t"/> (index i - 1 for step i).</summary>
    public static IReadOnlyList<string> LanesOf(ISpecHandle spec, Trace t) => To(spec, t.InitialIndex, t.Choices).Lanes;

    private sealed class Visitor(int initialIndex, IReadOnlyList<int> choices) : ISpecVisitor<Walk>
    {
        public Walk Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged
        {
            var initial = new List<TState>();
            spec.Initial(initial);
            if ((uint)initialIndex >= (uint)initial.Count)
                throw new TraceMismatchException($"initial state {initialIndex} does not exist ({initial.Count} initial state{(initial.Count == 1 ? "" : "s")})");
            var s = initial[initialIndex];
            var path = new List<ulong> { Fingerprint.Of(s) };
            var lanes = new List<string>(choices.Count);
            Span<TAction> actions = stackalloc TAction[SpecLimits.MaxEnabled];
            bool crashed = false;
            for (int i = 0; i < choices.Count && !crashed; i++)
            {
                int n;
                try { n = spec.Enabled(s, actions); }
                catch (Exception e) when (e is not OutOfMemoryException) { lanes.Add("environment"); crashed = true; break; }
                if ((uint)choices[i] >= (uint)n)
                    throw new TraceMismatchException($"step {i + 1}: choice {choices[i]} is not enabled ({n} step{(n == 1 ? "" : "s")} enabled)");
                lanes.Add(LaneOf(spec, actions[choices[i]]));
                try { s = spec.Next(s, actions[choices[i]]); }
                catch (Exception e) when (e is not OutOfMemoryException) { crashed = true; break; }
                path.Add(Fingerprint.Of(s));
            }
            if (crashed) return new Walk(initial.Count, lanes, [], [], [], []);
            var next = new List<Successor>();
            int count;
            try { count = spec.Enabled(s, actions); }
            catch (Exception e) when (e is not OutOfMemoryException) { count = 0; }
            for (int k = 0; k < count; k++)
            {
                var action = actions[k];
                string what;
                try { what = spec.Describe(s, action); }
                catch (Exception e) when (e is not OutOfMemoryException) { what = action.ToString() ?? "?"; }
                try
                {
                    var t = spec.Next(s, action);
                    int same = path.LastIndexOf(Fingerprint.Of(t));
                    next.Add(new Successor(k, what, LaneOf(spec, action), Names(spec, spec.Violated(t), PropertyKind.Always), same >= 0 ? same : null, null));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    next.Add(new Successor(k, what, LaneOf(spec, action), [], null, UserCode.Describe(e)));
                }
            }
            return new Walk(initial.Count, lanes, Names(spec, spec.Violated(s), PropertyKind.Always),
                Names(spec, spec.Pending(s), PropertyKind.Eventually), Names(spec, spec.Reached(s), PropertyKind.Sometimes), next);
        }

        private static string LaneOf<TState, TAction>(ISpec<TState, TAction> spec, in TAction action) where TState : unmanaged where TAction : unmanaged
        {
            try { return spec.Lane(action); }
            catch (Exception e) when (e is not OutOfMemoryException) { return "environment"; }
        }

        private static List<string> Names(ISpecHandle spec, ulong bits, PropertyKind kind)
        {
            var names = new List<string>();
            for (int i = 0; i < spec.Properties.Count && i < 64; i++)
                if ((bits & (1UL << i)) != 0 && spec.Properties[i].Kind == kind) names.Add(spec.Properties[i].Name);
            return names;
        }
    }
}
