using TaskTempest.PostgreSql.Tests.Support;

namespace TaskTempest.PostgreSql.Tests;

/// <summary>Database names need no quoting and are never truncated by the server (no server needed here).</summary>
public class DatabaseNameTests
{
    [Theory]
    [InlineData("ServerTests", "tt_servertests")]
    [InlineData("Queue.Tests`1+Nested", "tt_queue_tests_1_nested")]
    [InlineData("snake_case_42", "tt_snake_case_42")]
    [InlineData("Ünïcode-Name", "tt__n_code_name")]
    public void A_name_becomes_lower_case_letters_digits_and_underscores_after_tt_(string name, string expected) =>
        Assert.Equal(expected, PostgresServer.DatabaseNameFor(name));

    [Fact]
    public void A_long_name_is_cut_at_63_characters_the_servers_identifier_limit() =>
        Assert.Equal("tt_" + new string('a', 60), PostgresServer.DatabaseNameFor(new string('A', 100)));
}
