using System.Reflection;
using Multikernel.Model.Balloon;
using Multikernel.Model.Checking;
using Multikernel.Model.Restore;
using Multikernel.Properties.Restore;
using Multikernel.Model.Ipi;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Ipi;
using Multikernel.Properties.Uffd;
using Multikernel.Properties.Balloon;
using Multikernel.Proofs.Balloon;
using Multikernel.Proofs.Restore;
using Multikernel.Proofs.Ipi;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Uffd;
using Multikernel.Cli.Commands;

namespace Multikernel.Cli.Registry;

/// <summary>Settings of a benchmark run.</summary>
internal sealed record BenchSettings(int Runs, int MessagesPerRun);

/// <summary>
/// A file a counterexample can be written as besides its trace, for the mechanism's own tools to
/// reproduce (restore's shortest bad image): the audit option that asks for it, the extension of
/// one file per property, and how a trace of the mechanism's spec becomes its bytes.
/// </summary>
internal sealed record TraceArtifact(string Option, string Extension, Func<ISpecHandle, Properties.Explorer.Trace, byte[]> Bytes);

/// <summary>
/// One mechanism with everything the project has for it: the model (designs, bounds,
/// specification), the implementation checks, the proofs, and the implementation's
/// benchmark. Any part but the model may be absent.
/// </summary>
internal sealed record MechanismEntry(
    Mechanism Model,
    ImplementationChecks? Checks = null,
    ProofEncoding? Proofs = null,
    Action<TextWriter, BenchSettings>? ImplBench = null,
    string BenchBounds = "",
    string? BenchMutant = null,
    string? BenchLarge = null,
    Func<long, ulong, (bool Holds, string Summary)>? Soak = null,
    TraceArtifact? Artifact = null,
    KernelOracle? KernelOracle = null)
{
    public string Name => Model.Name;
}

/// <summary>differ MECHANISM: the reference against the running kernel (cases, seed, whether it may raise vm.nr_hugepages); the exit code.</summary>
internal delegate int KernelOracle(int cases, ulong seed, bool hugePages, TextWriter o);

/// <summary>The mechanisms every command walks. Adding one is one line here and its own folders.</summary>
internal static class Mechanisms
{
    public static readonly IReadOnlyList<MechanismEntry> All =
    [
        new(IpiMechanism.Instance, IpiSuite.Checks, RingProofs.ForDesign, ImplBench.Ipi, BenchBounds: "senders=3",
            BenchMutant: "ref-no-full-check", BenchLarge: "senders=3 messages=3 ring=1 handlers=2"),
        new(UffdMechanism.Instance, UffdSuite.Checks, UffdProofs.ForDesign, ImplBench.Uffd, BenchMutant: "uffd-ref-no-wake", KernelOracle: Differ.Uffd),
        new(BalloonMechanism.Instance, BalloonSuite.Checks, BalloonProofs.ForDesign, ImplBench.Balloon, BenchBounds: "pages=4 resets=2 refusals=2 changes=2", BenchMutant: "balloon-ref-no-lock",
            Soak: (n, seed) => BalloonSoak.Run(n, seed) is var r ? (r.Holds, r.ToString()) : default),
        new(RestoreMechanism.Instance, RestoreProperties.Checks, RestoreProofs.ForDesign, ImplBench.Restore,
            Artifact: new("--image", ".img", RestoreImages.FromTrace), KernelOracle: Differ.Restore),
    ];

    public static MechanismEntry? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    public static string Names => string.Join(", ", All.Select(m => m.Name));

    /// <summary>
    /// A design by name: "mechanism/design", or a bare name that exactly one mechanism has.
    /// An ambiguous or unknown name is a usage error listing the candidates.
    /// </summary>
    public static (MechanismEntry Mechanism, IDesign Design) Resolve(string? name, string command)
    {
        if (string.IsNullOrEmpty(name)) throw new UsageException($"{command}: which design? (see 'multikernel designs')");
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            var m = Find(name[..slash]) ?? throw new UsageException($"{command}: unknown mechanism '{Clip(name[..slash])}' (known: {Names})");
            var d = m.Model.Designs.Find(name[(slash + 1)..])
                    ?? throw new UsageException($"{command}: unknown design '{Clip(name)}'; {m.Name} has: {string.Join(", ", m.Model.Designs.All.Select(x => x.Name))}");
            return (m, d);
        }
        var hits = All.Select(m => (m, d: m.Model.Designs.Find(name))).Where(x => x.d is not null).ToList();
        return hits.Count switch
        {
            1 => (hits[0].m, hits[0].d!),
            0 => throw new UsageException($"{command}: unknown design '{Clip(name)}' (see 'multikernel designs')"),
            _ => throw new UsageException($"{command}: '{Clip(name)}' is ambiguous: {string.Join(" or ", hits.Select(x => x.m.Model.Qualified(x.d!)))}"),
        };
    }

    private static readonly HashSet<string> Loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// Loads the designs of a user's assembly: every public, non-abstract class with a public
    /// parameterless constructor that a mechanism accepts (derived from IpiDesign, UffdDesign, …).
    /// Returns how many were added; a design of a type loaded before is not added twice.
    /// </summary>
    public static int Load(string path, string command)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"{command}: --load needs an assembly path");
        Assembly asm;
        try { asm = Assembly.LoadFrom(Path.GetFullPath(path)); }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: --load {Clip(path)}: {FirstLine(e.Message)}"); }
        Type[] types;
        try { types = asm.GetExportedTypes(); }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        { throw new UsageException($"{command}: --load {Clip(path)}: {FirstLine(e.Message)}"); }
        int added = 0;
        foreach (var t in types)
        {
            if (t.IsAbstract || !typeof(IDesign).IsAssignableFrom(t) || t.GetConstructor(Type.EmptyTypes) is null) continue;
            lock (Loaded) if (!Loaded.Add(t.AssemblyQualifiedName ?? t.FullName ?? t.Name)) continue;
            IDesign d;
            try { d = (IDesign)Activator.CreateInstance(t)!; }
            catch (TargetInvocationException e) { throw new UsageException($"{command}: --load: new {t.Name}() threw {e.InnerException?.GetType().Name}: {FirstLine(e.InnerException?.Message ?? "")}"); }
            var m = All.FirstOrDefault(x => x.Model.Accepts(d))
                    ?? throw new UsageException($"{command}: --load: {t.Name} is a design of no known mechanism (known: {Names})");
            try { m.Model.Designs.Add(d, DesignOrigin.User); }
            catch (ArgumentException e) { throw new UsageException($"{command}: --load: {t.Name}: {e.Message}"); }
            added++;
        }
        return added;
    }

    /// <summary>Handles every --load in <paramref name="argv"/> before the arguments are parsed (they may name a loaded design).</summary>
    public static void LoadFrom(IReadOnlyList<string> argv, string command)
    {
        for (int i = 0; i < argv.Count; i++)
        {
            if (argv[i] == "--load")
            {
                if (i + 1 >= argv.Count) throw new UsageException($"{command}: --load needs a value");
                Load(argv[i + 1], command);
            }
            else if (argv[i].StartsWith("--load=", StringComparison.Ordinal)) Load(argv[i][7..], command);
        }
    }

    private static string Clip(string s) => BoundsText.Clip(s);
    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
