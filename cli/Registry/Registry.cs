using System.Reflection;
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

    /// <summary>
    /// Loads the designs of a user's assembly: every public, non-abstract class with a public
    /// parameterless constructor that a mechanism accepts (derived from IpiDesign, UffdDesign, …).
    /// Returns how many were added; a design of a type loaded before is not added twice.
    /// </summary>
    public static int Load(string path, string command)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"{command}: --load needs an assembly path");
        // Loading opens the file: a FIFO would block it forever.
        if (FileKinds.Of(path) is var kind and not FileKind.Regular)
            throw new UsageException($"{command}: --load {Clip(path)}: {(kind == FileKind.Missing ? "no such file" : $"is {FileKinds.Describe(kind)}, not a regular file")}");
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

    /// <summary>Loads every --load the command was given, before a design name is resolved (it may name a loaded design).</summary>
    public static void LoadAll(Args a)
    {
        foreach (var path in a.Values("--load")) Load(path, a.Command);
    }

    private static string Clip(string s) => BoundsText.Clip(s);
    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
