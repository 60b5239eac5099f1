using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;

namespace Multikernel.Cli.Commands;

/// <summary>replay FILE: re-executes an ITF trace written by audit/check/explore against the specification.</summary>
internal static class Replay
{
    private const long MaxFileBytes = 64L << 20;

    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("replay", argv, [], []);
        a.NoMorePositionals(1);
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("replay: which trace file?");
        string json;
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists) throw new UsageException($"replay: {file}: no such file");
            if (info.Length > MaxFileBytes) throw new UsageException($"replay: {file}: larger than {MaxFileBytes >> 20} MiB");
            json = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new UsageException($"replay: {file}: {e.Message}"); }

        Itf.Header h;
        try { h = Itf.Read(json); }
        catch (FormatException e) { throw new UsageException($"replay: {file}: {e.Message}"); }
        if (h.Source.StartsWith("ipi/", StringComparison.Ordinal))
        {
            var design = IpiDesigns.Find(h.Design) ?? throw new UsageException($"replay: {file}: #meta.design: unknown design '{h.Design}'");
            var bounds = ParseBounds(h.Bounds, file);
            return Judge(new IpiSpec(design, bounds), h, file, $"design: {design.Name}, bounds: {bounds}", o);
        }
        if (h.Source.StartsWith("uffd/", StringComparison.Ordinal))
        {
            var design = Model.Uffd.UffdDesigns.Find(h.Design) ?? throw new UsageException($"replay: {file}: #meta.design: unknown design '{h.Design}'");
            var bounds = Model.Uffd.UffdBounds.Parse(h.Bounds, out string? problem)
                         ?? throw new UsageException($"replay: {file}: #meta.bounds: {problem}");
            return Judge(new Model.Uffd.UffdSpec(design, bounds), h, file, $"design: {design.Name}, bounds: {bounds}", o);
        }
        throw new UsageException($"replay: {file}: #meta.source: unknown specification '{h.Source}'");
    }

    /// <summary>Re-executes the trace on the specification and judges its property again.</summary>
    private static int Judge<TState>(Model.Checking.ISpec<TState> spec, Itf.Header h, string file, string context, TextWriter o) where TState : unmanaged
    {
        var prop = spec.Properties.FirstOrDefault(p => p.Name == h.Property)
                   ?? throw new UsageException($"replay: {file}: #meta.property: unknown property '{h.Property}'");
        if (h.StateCount != h.Choices.Count + 1) throw new UsageException($"replay: {file}: {h.StateCount} states for {h.Choices.Count} steps");
        int loop = h.Loop ?? h.Choices.Count;
        if (loop > h.Choices.Count) throw new UsageException($"replay: {file}: loop: index {loop} is past the last state");

        var (trace, reproduced) = Explorer.ReplayAndJudge(spec, prop, h.Initial, h.Choices.Take(loop).ToList(),
            loop < h.Choices.Count ? h.Choices.Skip(loop).ToList() : null);
        if (trace is null) throw new UsageException($"replay: {file}: does not replay on {spec.Name}: {reproduced.Reason}");
        if (reproduced.Holds)
        {
            o.Write(TraceText.Format(trace, $"replayed from {file}; {context}"));
            return 1;
        }
        o.WriteLine($"replay {file}: the trace runs on {spec.Name} but no longer violates {prop.Name}: {reproduced.Reason}");
        return 0;
    }

    private static IpiBounds ParseBounds(string text, string file)
    {
        var b = new IpiBounds();
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2) throw new UsageException($"replay: {file}: #meta.bounds: '{part}' is not name=value");
            bool yes = kv[1] == "yes";
            int Num() => int.TryParse(kv[1], out int n) ? n : throw new UsageException($"replay: {file}: #meta.bounds: '{part}' is not a number");
            b = kv[0] switch
            {
                "senders" => b with { Senders = Num() },
                "messages" => b with { Messages = Num() },
                "ring" => b with { Ring = Num() },
                "handlers" => b with { Handlers = Num() },
                "unregister" => b with { Unregister = yes },
                "destroy" => b with { Destroy = yes },
                _ => throw new UsageException($"replay: {file}: #meta.bounds: unknown bound '{kv[0]}'"),
            };
        }
        if (b.Validate() is { } problem) throw new UsageException($"replay: {file}: #meta.bounds: {problem}");
        return b;
    }
}
