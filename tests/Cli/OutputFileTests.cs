using Multikernel.Cli;
using Xunit;

namespace Multikernel.Tests.Cli;

/// <summary>Trace, image and JUnit files are written whole or not at all, with nothing left behind.</summary>
public class OutputFileTests
{
    [Fact]
    public void A_file_is_replaced_whole_and_a_failed_write_leaves_the_old_one_and_no_temporary()
    {
        string dir = Directory.CreateTempSubdirectory("mk-out-").FullName;
        try
        {
            string file = Path.Combine(dir, "trace.itf.json");
            OutputFile.Write(file, "old");
            OutputFile.Write(file, "new");
            Assert.Equal("new", File.ReadAllText(file));
            // A target that cannot be replaced (a directory): the rename fails, the directory stays, no temporary is left.
            string blocked = Path.Combine(dir, "blocked");
            Directory.CreateDirectory(blocked);
            Assert.ThrowsAny<IOException>(() => OutputFile.Write(blocked, "x"));
            Assert.True(Directory.Exists(blocked));
            Assert.Equal("blocked,trace.itf.json", string.Join(",", Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
