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
            Artifact: new("--image", ".img", RestoreImages.FromTrace)),
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

    /// <summary>Where --load names what it skipped: the running command's stderr (set by <see cref="Program.Run"/>), else the console's.</summary>
    private static readonly AsyncLocal<TextWriter?> SkipNotes = new();

    /// <summary>Sends --load's skip lines to <paramref name="stderr"/> for the rest of this command (this async flow only).</summary>
    public static void NotesTo(TextWriter stderr) => SkipNotes.Value = stderr;

    /// <summary>
    /// Loads the designs of a user's assembly: every public, non-abstract class that a mechanism
    /// accepts (derived from IpiDesign, UffdDesign, BalloonDesign, RestoreDesign), made with its public
    /// parameterless constructor. It takes what it can: a class it cannot use (open generic, no such
    /// constructor, a constructor or Name / Summary that throws, a design of no mechanism, a name taken)
    /// is named on stderr with the reason, one line each, and skipped. Abstract classes are bases, not
    /// designs, and are passed over. Returns how many designs of the assembly are loaded (a design of a
    /// type loaded before counts, and is not added twice); none is a usage error.
    /// </summary>
    public static int Load(string path, string command)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"{command}: --load needs an assembly path");
        Assembly asm;
        try { asm = Assembly.LoadFrom(Path.GetFullPath(path)); }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{command}: --load {Clip(path)}: {FirstLine(e.Message)}"); }
        var notes = SkipNotes.Value ?? Console.Error;
        void Skip(string what, string why) => notes.WriteLine($"multikernel: {command}: --load {Path.GetFileName(path)}: skipped {what}: {why}");
        Type[] types;
        try { types = asm.GetExportedTypes(); }
        catch (ReflectionTypeLoadException e)
        {
            // Some types did not load (a missing dependency): take the others, name the failure once.
            types = e.Types.OfType<Type>().Where(t => t.IsVisible).ToArray();
            Skip("the types that did not load", FirstLine(e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? e.Message));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException)
        { throw new UsageException($"{command}: --load {Clip(path)}: {FirstLine(e.Message)}"); }
        int loaded = 0;
        // One load at a time: commands run concurrently in one process (the tests) load the same assembly.
        lock (Loaded)
            foreach (var t in types)
                if (Take(t, Skip)) loaded++;
        if (loaded == 0) throw new UsageException($"{command}: --load {Clip(path)}: no design loaded (a design is a public class with a public parameterless constructor, derived from a mechanism's design class)");
        return loaded;
    }

    /// <summary>
    /// Adds the design of class <paramref name="t"/> to its mechanism's catalogue; true when it is there (now
    /// or from an earlier load). A class that is no design (abstract, an interface, not an IDesign) is passed
    /// over in silence; one that is but cannot be used is named with the reason, through <paramref name="skip"/>.
    /// </summary>
    private static bool Take(Type t, Action<string, string> skip)
    {
        if (t.IsAbstract || t.IsInterface || !typeof(IDesign).IsAssignableFrom(t)) return false;
        string name = t.FullName ?? t.Name;
        if (t.ContainsGenericParameters) { skip(name, "an open generic class has no instance to load (derive a closed class from it)"); return false; }
        if (t.GetConstructor(Type.EmptyTypes) is null) { skip(name, "no public parameterless constructor"); return false; }
        if (Loaded.Contains(t.AssemblyQualifiedName ?? name)) return true;
        IDesign d;
        try { d = (IDesign)Activator.CreateInstance(t)!; }
        catch (TargetInvocationException e) { skip(name, $"new {t.Name}() threw {e.InnerException?.GetType().Name}: {FirstLine(e.InnerException?.Message ?? "")}"); return false; }
        catch (Exception e) when (e is MemberAccessException or TypeLoadException or NotSupportedException) { skip(name, $"new {t.Name}() failed: {FirstLine(e.Message)}"); return false; }
        foreach (var (member, get) in new (string, Func<IDesign, string>)[] { ("Name", x => x.Name), ("Summary", x => x.Summary) })
        {
            string? why;
            try { why = get(d) is null ? $"its {member} is null" : null; }
            catch (Exception e) { why = $"its {member} threw {e.GetType().Name}: {FirstLine(e.Message)}"; }
            if (why is not null) { skip(name, why); return false; }
        }
        var m = All.FirstOrDefault(x => x.Model.Accepts(d));
        if (m is null) { skip(name, $"a design of no known mechanism (known: {Names}; derive from its design class)"); return false; }
        try { m.Model.Designs.Add(d, DesignOrigin.User); }
        catch (ArgumentException e) { skip(name, e.Message); return false; }
        Loaded.Add(t.AssemblyQualifiedName ?? name);
        return true;
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
