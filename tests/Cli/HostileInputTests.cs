using System.Text;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The hostile-input reproducers: every command, given any file or argument, ends with exit
/// 0-3, and an error is one line. Each case is generated here, small enough to keep. Memory is
/// bounded by a linear function of the input (allocated bytes are measured, not time).
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    // Every file a test writes goes here, and goes away with the test (some are tens of MB).
    private readonly string _dir = Directory.CreateTempSubdirectory("mk-hostile").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TempFile(string name, string text)
    {
        string file = Path.Combine(_dir, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static (int Code, string Out, string Err, long Allocated) RunMeasured(params string[] args)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (code, o, e) = Run(args);
        return (code, o, e, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("flags", "")]
    [InlineData("replay", "")]
    public void An_empty_file_name_is_a_usage_error(string command, string file)
    {
        var (code, o, e) = Run(command, file);
        OneLineError(code, o, e, "empty");
    }

    [Theory]
    [InlineData("flags")]
    [InlineData("replay")]
    public void A_directory_is_said_to_be_one(string command)
    {
        var (code, o, e) = Run(command, Path.GetTempPath());
        OneLineError(code, o, e, "is a directory");
    }

    [Theory]
    [InlineData("flags")]
    [InlineData("replay")]
    public void A_device_is_refused_with_nothing_read(string command)
    {
        var (code, o, e, allocated) = RunMeasured(command, "/dev/zero");
        OneLineError(code, o, e, "is a character device");
        Assert.True(allocated < 1L << 20, $"{allocated:N0} bytes allocated");
    }

    private string Header(string body) => TempFile("mm.h", body);

    public static TheoryData<string, string> DeepHeaders()
    {
        var d = new TheoryData<string, string>
        {
            { "5,000 nested parentheses", $"#define VM_A {new string('(', 5000)}1{new string(')', 5000)}\n" },
            { "30,000 unary minus", $"#define VM_A {string.Concat(Enumerable.Repeat("- ", 30_000))}1\n" },
            { "100,000 unary not", $"#define VM_A {new string('!', 100_000)}1\n" },
            { "500,000 unary complement", $"#define VM_A {new string('~', 500_000)}1\n" },
            { "BIT() 10,000 deep", $"#define VM_A {string.Concat(Enumerable.Repeat("BIT(", 10_000))}0{new string(')', 10_000)}\n" },
        };
        var chain = new StringBuilder("#define C0 1\n");
        for (int i = 1; i <= 5000; i++) chain.Append(System.Globalization.CultureInfo.InvariantCulture, $"#define C{i} C{i - 1}\n");
        chain.Append("#define VM_A C5000\n");
        d.Add("a 5,000-link macro chain", chain.ToString());
        return d;
    }

    [Theory]
    [MemberData(nameof(DeepHeaders))]
    public void Deep_nesting_is_refused_with_a_reason_not_a_stack_overflow(string what, string body)
    {
        var (code, o, e, allocated) = RunMeasured("flags", Header(body));
        Assert.True(code == 3, $"{what}: exit {code}: {e}");
        Assert.Contains("nested deeper than 200", o);
        Assert.True(allocated < 50L * body.Length + (64L << 20), $"{what}: {allocated:N0} bytes allocated for {body.Length:N0} bytes of input");
    }

    [Fact]
    public void A_doubling_chain_is_evaluated_once_per_macro()
    {
        var vm = new StringBuilder("#define VM_L0 0x1\n");
        var cond = new StringBuilder("#define L0 1\n");
        for (int i = 1; i <= 30; i++)
        {
            vm.Append(System.Globalization.CultureInfo.InvariantCulture, $"#define VM_L{i} (VM_L{i - 1}|VM_L{i - 1})\n");
            cond.Append(System.Globalization.CultureInfo.InvariantCulture, $"#define L{i} (L{i - 1}+L{i - 1})\n");
        }
        cond.Append("#if L30 == 1073741824\n#define VM_OK 0x2\n#endif\n");
        var (code, o, _, allocated) = RunMeasured("flags", Header(vm.ToString() + cond));
        Assert.Equal(0, code);                           // VM_L1..VM_L30 are ORs: masks, whatever their value
        Assert.Contains("2 single-bit VM_* flags", o);   // VM_L0 and VM_OK: the #if on L30 was decided
        Assert.Contains("30 masks", o);
        Assert.DoesNotContain("cannot evaluate", o);
        Assert.True(allocated < 64L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void Two_thousand_single_bit_flags_are_grouped_by_bit_not_paired()
    {
        var h = new StringBuilder();
        for (int i = 0; i < 2000; i++) h.Append(System.Globalization.CultureInfo.InvariantCulture, $"#define VM_F{i} (1UL << {i % 64})\n");
        var (code, o, _, allocated) = RunMeasured("flags", Header(h.ToString()));
        Assert.Equal(1, code);
        Assert.Equal(64, o.Split('\n').Count(l => l.Contains("OVERLAP", StringComparison.Ordinal)));
        Assert.True(allocated < 200L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void Deeply_nested_ifs_are_linear()
    {
        int n = 200_000;
        string body = string.Concat(Enumerable.Repeat("#if 1\n", n)) + "#define VM_A 0x1\n" + string.Concat(Enumerable.Repeat("#endif\n", n));
        var (code, o, _, allocated) = RunMeasured("flags", Header(body));
        Assert.Equal(0, code);
        Assert.Contains("1 single-bit VM_* flags", o);
        Assert.True(allocated < 100L * body.Length + (64L << 20), $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData("#define VM_A 02000000000000000000001\n#define VM_B 0x1\n", "does not fit 64 bits")]
    [InlineData("#define VM_A 010000000000000000000000\n", "does not fit 64 bits")]
    [InlineData("#define VM_A 0x10000000000000000\n", "does not fit 64 bits")]
    [InlineData("#define VM_A 99999999999999999999\n", "does not fit 64 bits")]
    public void A_literal_past_64_bits_is_not_wrapped(string body, string reason)
    {
        var (code, o, _) = Run("flags", Header(body));
        Assert.Equal(3, code);
        Assert.Contains(reason, o);
        Assert.DoesNotContain("OVERLAP", o);
    }

    [Theory]
    [InlineData("#define D(x) (x)\n#define VM_A D(D(1))\n", 0, "1 single-bit")]
    [InlineData("#if 1\n#else\n#else\n#endif\n", 2, "a second #else")]
    [InlineData("#if 1\n#else\n#elif 1\n#endif\n", 2, "#elif after #else")]
    [InlineData("#define VM_A(x (x)\n", 2, "is not a parameter name")]
    public void Preprocessor_edge_cases(string body, int exit, string says)
    {
        var (code, o, e) = Run("flags", Header(body));
        Assert.Equal(exit, code);
        Assert.Contains(says, o + e);
    }

    [Fact]
    public void Config_m_is_a_module_and_the_last_value_wins()
    {
        string h = Header("#ifdef CONFIG_X\n#define VM_A 0x1\n#endif\n#if IS_ENABLED(CONFIG_X)\n#define VM_B 0x1\n#endif\n");
        var (m, om, _) = Run("flags", h, "--config", "CONFIG_X=m");
        Assert.Equal(0, m);        // =m: #ifdef CONFIG_X is false, IS_ENABLED true: only VM_B
        Assert.Contains("1 single-bit", om);
        var (yn, oyn, _) = Run("flags", h, "--config", "CONFIG_X=y", "--config", "CONFIG_X=n");
        Assert.Equal(0, yn);       // =n last: neither
        Assert.Contains("0 single-bit", oyn);
        var (y, _, _) = Run("flags", h, "--config", "CONFIG_X=n", "--config", "CONFIG_X=y");
        Assert.Equal(1, y);        // =y last: both, on one bit
        var (v, ov, _) = Run("flags", Header("#if CONFIG_ARCH_PKEY_BITS > 3\n#define VM_A 0x1\n#endif\n"), "--config", "CONFIG_ARCH_PKEY_BITS=5");
        Assert.Equal(0, v);
        Assert.Contains("1 single-bit", ov);
    }

    [Theory]
    [InlineData("--json", "")]
    [InlineData("--dot", "")]
    [InlineData("--json", "/nonexistent-dir/t.json")]
    public void A_bad_output_path_is_refused_before_any_work(string option, string path)
    {
        var (code, o, e) = Run("audit", "ipi/ipi-v2", option, path);
        Assert.Equal(2, code);
        Assert.Empty(o); // nothing explored, nothing printed
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_directory_output_path_gets_the_files_inside_it_and_json_and_dot_may_not_collide()
    {
        var (code, _, _) = Run("audit", "ipi/ipi-v2", "--json", _dir);
        Assert.Equal(1, code);
        Assert.Contains(Directory.GetFiles(_dir), f => f.EndsWith("trace.intact.itf.json", StringComparison.Ordinal));
        var (same, o, e) = Run("audit", "ipi/ipi-v2", "--json", Path.Combine(_dir, "x"), "--dot", Path.Combine(_dir, "x"));
        Assert.Equal(2, same);
        Assert.Empty(o);
        Assert.Contains("name the same file", e);
    }

    [Theory]
    [InlineData("audit", "ipi/ipi-v2", "--max-states", "x")]
    [InlineData("bench", "--messages-per-run", "999")]
    [InlineData("bench", "--max-states", "5")]
    [InlineData("designs", "extra")]
    [InlineData("help", "extra")]
    public void Arguments_are_checked_before_any_work_or_output(params string[] args)
    {
        var (code, o, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_trace_of_a_million_steps_is_refused_before_it_is_replayed()
    {
        var sb = new StringBuilder("{\"#meta\": {\"source\": \"ipi/ipi-v2\", \"design\": \"ipi-v2\", \"bounds\": \"senders=2\", \"property\": \"intact\", \"initial\": 0, \"choices\": [");
        sb.AppendJoin(',', Enumerable.Repeat("0", 1_000_000));
        sb.Append("]}, \"states\": []}");
        RefusedTrace(sb.ToString(), "more than 10000 steps");
    }

    [Fact]
    public void A_trace_of_too_many_json_values_is_refused_by_a_streaming_count()
    {
        var sb = new StringBuilder("{\"states\": [");
        sb.AppendJoin(',', Enumerable.Repeat("{}", 5_000_000));
        sb.Append("]}");
        RefusedTrace(sb.ToString(), "JSON values");
    }

    /// <summary>replay refuses the trace in one line, having allocated far less than the file would take parsed.</summary>
    private void RefusedTrace(string json, string mentions)
    {
        var (code, o, e, allocated) = RunMeasured("replay", TempFile("t.json", json));
        OneLineError(code, o, e, mentions);
        Assert.True(allocated < 200L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void Checkpoint_refuses_more_pages_than_it_builds_in_memory()
    {
        string file = Path.Combine(_dir, "big.img");
        var (code, o, e, allocated) = RunMeasured("checkpoint", "--vmas", "0x0-0x2000000:anon,0x2000000-0x4000000:anon,0x4000000-0x4001000:anon", "--out", file);
        OneLineError(code, o, e, "at most 16384 pages in all");
        Assert.False(File.Exists(file)); // no partial effect
        Assert.True(allocated < 200L << 20, $"{allocated:N0} bytes allocated");
    }
}
