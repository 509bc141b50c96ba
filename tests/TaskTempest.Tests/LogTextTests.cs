using System.Buffers;
using System.Text;
using TaskTempest.Logging;

namespace TaskTempest.Tests;

/// <summary>What the log-text escaping writes for each kind of hostile character, how it cuts, and what it costs on clean text.</summary>
public class LogTextTests
{
    [Theory]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\rb", "a\\rb")]
    [InlineData("a\tb", "a\\tb")]
    [InlineData("a\0b", "a\\u0000b")]
    [InlineData("\u001b[31mred", "\\u001b[31mred")]
    [InlineData("del\u007f", "del\\u007f")]
    [InlineData("next\u0085line", "next\\u0085line")]           // C1 NEL breaks lines for some readers
    [InlineData("a\u2028b\u2029c", "a\\u2028b\\u2029c")]          // line and paragraph separators
    [InlineData("abc\u202edcba", "abc\\u202edcba")]              // a right-to-left override
    [InlineData("C:\\temp\\n", "C:\\temp\\n")]                   // backslashes stay as they are
    [InlineData("é 日本 😀", "é 日本 😀")]                       // printable text beyond ASCII is kept
    public void Each_control_character_is_written_as_an_escape(string value, string expected) =>
        Assert.Equal(expected, LogText.Escape(value));

    [Fact]
    public void Clean_text_comes_back_as_it_is_and_costs_no_allocation()
    {
        const string id = "k3f9a2c1x7q0m4bd";
        Assert.Same(id, LogText.Escape(id)); // warms up, and is the same instance
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) _ = LogText.Escape(id);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_long_value_is_cut_with_its_full_length_stated()
    {
        string cut = LogText.Escape(new string('x', 5000));
        Assert.Equal(new string('x', LogText.MaxLength) + "... (cut: 5000 characters in all)", cut);
        Assert.Equal("x", LogText.Escape("x", 1));
        Assert.Equal("xx", LogText.Escape("xx", 2));
        Assert.Equal("x... (cut: 3 characters in all)", LogText.Escape("xxx", 1));
    }

    [Fact]
    public void Escapes_count_toward_the_cut_and_are_never_split()
    {
        string cut = LogText.Escape(new string('\0', 100));
        string shown = cut[..cut.IndexOf("...", StringComparison.Ordinal)];
        Assert.Equal(33 * 6, shown.Length); // 33 whole escapes of six characters fit in 200
        Assert.Equal(string.Concat(Enumerable.Repeat("\\u0000", 33)), shown);
    }

    [Fact]
    public void A_surrogate_pair_is_kept_whole_at_the_cut()
    {
        string cut = LogText.Escape(string.Concat(Enumerable.Repeat("x😀", 100)), 200);
        string shown = cut[..cut.IndexOf("...", StringComparison.Ordinal)];
        Assert.Equal(199, shown.Length); // 66 times "x😀" (3 chars each) and an "x": the next pair would make 201
        Assert.False(char.IsHighSurrogate(shown[^1]));
        Assert.EndsWith("(cut: 300 characters in all)", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_is_written_as_indented_escaped_continuation_lines()
    {
        var writer = new ArrayBufferWriter<byte>();
        TempestLogFiles.WriteException(writer, new InvalidOperationException("one\r\ntwo\u2028three\u001b[0m\nfour"));
        string text = Encoding.UTF8.GetString(writer.WrittenSpan);

        Assert.Equal(
            "\n    System.InvalidOperationException: one\n    two\n    three\\u001b[0m\n    four",
            text);
    }

    [Fact]
    public void An_exception_whose_ToString_throws_is_still_written()
    {
        var writer = new ArrayBufferWriter<byte>();
        TempestLogFiles.WriteException(writer, new BadException());
        Assert.Equal($"\n    {typeof(BadException).FullName} (its ToString threw System.InvalidOperationException)",
            Encoding.UTF8.GetString(writer.WrittenSpan));
    }

    private sealed class BadException : Exception
    {
        public override string ToString() => throw new InvalidOperationException("no");
    }
}
