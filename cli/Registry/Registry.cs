using System.Reflection;
using System.Runtime.Loader;
using Multikernel.Cli.Balloon;
using Multikernel.Cli.Ipi;
using Multikernel.Cli.Restore;
using Multikernel.Cli.Uffd;
using Multikernel.Model.Checking;

namespace Multikernel.Cli.Registry;

/// <summary>The mechanisms every command walks. Adding one is one line here and its own folders.</summary>
internal static class Mechanisms
{
    private static readonly IReadOnlyList<MechanismEntry> Builtin =
    [
        new IpiEntry(),
        new UffdEntry(),
        new BalloonEntry(),
        new RestoreEntry(),
    ];

    /// <summary>Mechanisms registered by a test for the code that runs under it (the fifth-mechanism test), and nowhere else.</summary>
    private static readonly AsyncLocal<IReadOnlyList<MechanismEntry>?> Scoped = new();

    public static IReadOnlyList<MechanismEntry> All => Scoped.Value is { } extra ? [.. Builtin, .. extra] : Builtin;

    /// <summary>
    /// Registers <paramref name="entry"/> for the calling flow until the result is disposed: the test-only
    /// hook through which a test adds a mechanism with one line, as the built-in ones are added above.
    /// </summary>
    public static IDisposable Register(MechanismEntry entry)
    {
        if (All.Any(m => m.Name == entry.Name)) throw new ArgumentException($"a mechanism named {entry.Name} is registered already", nameof(entry));
        var before = Scoped.Value;
        Scoped.Value = [.. before ?? [], entry];
        return new Unregister(() => Scoped.Value = before);
    }

    private sealed class Unregister(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

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
        // Loading opens the file: a FIFO would block it forever.
        if (FileKinds.Of(path) is var kind and not FileKind.Regular)
            throw new UsageException($"{command}: --load {Clip(path)}: {(kind == FileKind.Missing ? "no such file" : $"is {FileKinds.Describe(kind)}, not a regular file")}");
        Assembly asm;
        try { asm = DesignContext.Load(Path.GetFullPath(path)); }
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

    /// <summary>Loads every --load the command was given, before a design name is resolved (it may name a loaded design).</summary>
    public static void LoadAll(Args a)
    {
        foreach (var path in a.Values("--load")) Load(path, a.Command);
    }

    private static string Clip(string s) => BoundsText.Clip(s);
    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}

/// <summary>
/// The load context of one --load assembly. The project's assemblies and whatever else this program already
/// has come from the default context, so a design's base class is the one the registry knows; the rest of
/// the assembly's dependencies resolve from beside it (its deps.json, else its directory). Kept apart from the
/// default context, it is not scanned by the cluster host (Orleans reads every assembly of the default
/// context, and one with a dependency only the user has would end the run).
/// </summary>
internal sealed class DesignContext : AssemblyLoadContext
{
    private static readonly Dictionary<string, Assembly> ByPath = new(StringComparer.Ordinal);
    private readonly AssemblyDependencyResolver _resolver;
    private readonly string _dir;

    private DesignContext(string path) : base($"--load {Path.GetFileName(path)}")
    {
        _resolver = new AssemblyDependencyResolver(path);
        _dir = Path.GetDirectoryName(path)!;
    }

    /// <summary>
    /// The assembly at <paramref name="path"/> (a full path), loaded once per process; the default context's copy
    /// when this process already runs it (a host that links the designs, such as the tests).
    /// </summary>
    public static Assembly Load(string path)
    {
        lock (ByPath)
        {
            if (ByPath.TryGetValue(path, out var a)) return a;
            a = Default.Assemblies.FirstOrDefault(x => !x.IsDynamic && string.Equals(x.Location, path, StringComparison.Ordinal))
                ?? new DesignContext(path).LoadFromAssemblyPath(path);
            ByPath.Add(path, a);
            return a;
        }
    }

    protected override Assembly? Load(AssemblyName name)
    {
        // null: the default context's copy (shared types), when it has or can find one.
        try
        {
            Default.LoadFromAssemblyName(name);
            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException) { }
        string? at = _resolver.ResolveAssemblyToPath(name) ?? Beside(name);
        return at is null ? null : LoadFromAssemblyPath(at);
    }

    private string? Beside(AssemblyName name) =>
        name.Name is { } n && Path.Combine(_dir, n + ".dll") is var p && File.Exists(p) ? p : null;
}

