using System.Diagnostics;
using System.Runtime.InteropServices;
using Multikernel.Model.Checking;
using Xunit;
using Xunit.Abstractions;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Cli;

/// <summary>
/// The fault campaign: blocking files, hostile text, outputs that cannot be written, two writers,
/// signals in the middle of a write. Each case failed before the change it guards (FIFOs hung,
/// ESC reached the terminal, /dev/full ended in a stack trace, checkpoint wrote in place).
/// </summary>
public sealed class FaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mk-fault").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode);

    private string Fifo()
    {
        string path = Path.Combine(_dir, "fifo");
        Assert.Equal(0, MkFifo(path, 0x1b6));
        return path;
    }

    /// <summary>
    /// Runs the command in-process; a regression that opens the FIFO would block forever, so the test
    /// gives up after a minute and says so (this bounds only the failure, never a verdict).
    /// </summary>
    private static (int Code, string Out, string Err) RunOrReportHang(params string[] args)
    {
        var run = Task.Run(() => Run(args));
        Assert.True(run.Wait(TimeSpan.FromMinutes(1)), $"{string.Join(' ', args)}: blocked (it opened the FIFO)");
        return run.Result;
    }

    [Theory]
    [InlineData("restore")]
    [InlineData("replay")]
    [InlineData("flags")]
    [InlineData("designs --load")]
    public void A_fifo_given_as_input_is_refused_before_it_is_opened(string command)
    {
        var (code, o, e) = RunOrReportHang([.. command.Split(' '), Fifo()]);
        OneLineError(code, o, e, "is a FIFO, not a regular file");
    }

    [Fact]
    public void A_fifo_given_as_a_response_file_is_refused_before_it_is_opened()
    {
        var (code, o, e) = RunOrReportHang("check", "@" + Fifo());
        OneLineError(code, o, e, "is a FIFO, not a regular file");
    }

    [Theory]
    [InlineData("flags", "/dev/zero")]
    [InlineData("replay", "/dev/zero")]
    [InlineData("restore", "/dev/urandom")]
    public void A_device_given_as_input_is_refused_before_a_byte_is_read(string command, string device)
    {
        var (code, o, e) = Run(command, device);
        OneLineError(code, o, e, "is a character device, not a regular file");
    }

    [Fact]
    public void A_fifo_or_a_device_given_as_output_is_refused_before_any_work()
    {
        string fifo = Fifo();
        var (code, o, e) = RunOrReportHang("checkpoint", "--vmas", "1000-3000:anon", "--out", fifo);
        OneLineError(code, o, e, "is a FIFO, not a regular file");
        (code, o, e) = RunOrReportHang("audit", "ipi/ipi-v2", "--json", fifo);
        OneLineError(code, o, e, "is a FIFO, not a regular file");
        // As root a rename over /dev/null would replace the device itself.
        (code, o, e) = Run("check", "--junit", "/dev/null");
        OneLineError(code, o, e, "is a character device, not a regular file");
        Assert.Equal(Multikernel.Cli.FileKind.CharDevice, Multikernel.Cli.FileKinds.Of("/dev/null"));
    }

    [Fact]
    public void Output_paths_are_checked_together_and_before_the_work()
    {
        // The same file named twice, across --json and --image.
        var (code, o, e) = Run("audit", "restore/restore-v6", "--image", Path.Combine(_dir, "x"), "--json", Path.Combine(_dir, "x"));
        OneLineError(code, o, e, "name the same file");
        // A directory the process cannot create files in (even root cannot in /proc): refused before a state is explored.
        (code, o, e) = Run("audit", "restore/restore-v6", "--image", "/proc/mk.img");
        OneLineError(code, o, e, "cannot create files in /proc");
        (code, o, e) = Run("check", "--junit", "/proc/mk.xml");
        OneLineError(code, o, e, "cannot create files in /proc");
        // --image follows --json's rules: an empty name is refused, a directory holds the file.
        (code, o, e) = Run("audit", "restore/restore-v6", "--image", "");
        OneLineError(code, o, e, "--image needs a file name");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void Text_from_a_file_reaches_the_terminal_escaped_and_an_error_stays_one_line()
    {
        // A file name that would retitle the terminal, clear it and split the error line.
        string name = Path.Combine(_dir, "img\u001b]0;owned\u0007\u001b[2J\r\nnext");
        File.WriteAllBytes(name, [1, 2, 3]);
        var (code, o, e) = Run("restore", name);
        OneLineError(code, o, e, @"img\x1b]0;owned\x07\x1b[2J\r\nnext");
        Assert.DoesNotContain('\u001b', e);

        // The last line of defence: whatever a command prints goes through the terminal writer.
        var sink = new StringWriter();
        var terminal = new Multikernel.Cli.TerminalWriter(sink, "standard output");
        terminal.WriteLine("design \u001b[31mred\u001b[0m \u202eevil\u202c ok\tand\u0085 C1");
        terminal.Write('\u0007');
        Assert.Equal(@"design \x1b[31mred\x1b[0m \u202eevil\u202c ok" + "\tand" + @"\x85 C1" + "\n" + @"\x07", sink.ToString());
    }

    [Theory]
    [InlineData("abc", "abc")]
    [InlineData("a\nb", @"a\nb")]
    [InlineData("\u001b[2J", @"\x1b[2J")]
    [InlineData("emoji \ud83d\ude00", "emoji \ud83d\ude00")]
    public void Printable_escapes_controls_and_keeps_text(string raw, string shown) =>
        Assert.Equal(shown, Printable.Line(raw));

    [Fact]
    public void Printable_escapes_an_unpaired_surrogate() => Assert.Equal(@"\ud800x", Printable.Line("\ud800x"));

    [Fact]
    public void Printable_clips_long_text_to_one_bounded_line() =>
        Assert.Equal(new string('a', 10) + "…", Printable.Line(new string('a', 1000), 10));

    // ---- faults that need a separate process: the program's own stdout, signals, two writers ----

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static Process Start(string shellCommand)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", shellCommand]) { RedirectStandardError = true, RedirectStandardOutput = true };
        return Process.Start(psi)!;
    }

    private static (int Code, string Err) Finish(Process p)
    {
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    [Fact]
    public void A_full_disk_leaves_the_previous_image_and_no_temporary()
    {
        // A 1 MiB tmpfs, mounted here where the process may (root); elsewhere the test says why and stops.
        string mnt = Path.Combine(_dir, "small");
        Directory.CreateDirectory(mnt);
        var mount = Process.Start(new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]) { RedirectStandardError = true })!;
        string why = mount.StandardError.ReadToEnd();
        mount.WaitForExit();
        if (mount.ExitCode != 0) { output.WriteLine($"skipped: cannot mount a tmpfs here ({why.Trim()})"); return; }
        try
        {
            string target = Path.Combine(mnt, "mm.img");
            Assert.Equal(0, Run("checkpoint", "--vmas", "1000-3000:anon", "--out", target).Code);
            byte[] previous = File.ReadAllBytes(target);
            var (code, o, e) = Run("checkpoint", "--vmas", "1000-401000:anon", "--out", target);
            Assert.Equal(2, code);
            Assert.Single(e.TrimEnd('\n').Split('\n'));
            Assert.Contains("No space left on device", e, StringComparison.Ordinal);
            Assert.Equal(previous, File.ReadAllBytes(target));
            Assert.Equal(["mm.img"], Directory.EnumerateFileSystemEntries(mnt).Select(Path.GetFileName));
        }
        finally { Process.Start("umount", [mnt])!.WaitForExit(); }
    }

    [Fact]
    public void Two_checkpoints_to_one_file_leave_one_whole_image()
    {
        string target = Path.Combine(_dir, "both.img");
        var a = Start($"exec '{Dotnet}' '{Cli}' checkpoint --vmas 1000-801000:anon --out '{target}'");
        var b = Start($"exec '{Dotnet}' '{Cli}' checkpoint --vmas 1000-2000:anon,3000-404000:anon --out '{target}'");
        var ra = Finish(a);
        var rb = Finish(b);
        Assert.True(ra.Code == 0, ra.Err);
        Assert.True(rb.Code == 0, rb.Err);
        var (code, o, e) = Run("restore", target);
        Assert.True(code == 0, e);
        Assert.True(o.Contains("1 VMAs, 2048 pages", StringComparison.Ordinal) || o.Contains("2 VMAs, 1026 pages", StringComparison.Ordinal), o);
        Assert.Equal(["both.img"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Sigint_in_the_middle_of_a_checkpoint_leaves_the_previous_image_and_no_temporary()
    {
        string target = Path.Combine(_dir, "prev.img");
        Assert.Equal(0, Run("checkpoint", "--vmas", "1000-3000:anon", "--out", target).Code);
        byte[] previous = File.ReadAllBytes(target);
        // The largest checkpoint (64 MiB), interrupted at several points of its run: before, during and after the write.
        var rng = new Random(7);
        output.WriteLine("seed 7");
        for (int i = 0; i < 5; i++)
        {
            var p = Start($"exec '{Dotnet}' '{Cli}' checkpoint --vmas 1000-4001000:anon --out '{target}'");
            Thread.Sleep(rng.Next(300, 3000));
            Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            var (code, err) = Finish(p);
            byte[] now = File.ReadAllBytes(target);
            // Either the old image or the new one, whole: restore takes it.
            var restored = Run("restore", target);
            Assert.Equal(0, restored.Code);
            if (code == 0) Assert.Contains("1 VMAs, 16384 pages", restored.Out, StringComparison.Ordinal);
            else Assert.Equal(previous, now);
            Assert.Equal(["prev.img"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
            output.WriteLine($"run {i}: exit {code} {err.Trim()}");
            previous = now;
        }
    }
}
