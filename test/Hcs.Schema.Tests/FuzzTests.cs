// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Hcs.Schema.Tests;

/// <summary>
/// Mutates the real sample documents (byte flips, truncations, inserted escapes and lone surrogates, type swaps, huge
/// numbers, deep nesting, huge names and values) and parses them: every rejection must be <c>HCS_E_INVALID_JSON</c>
/// naming a JSON path, with a bounded message, and no other exception may escape. The seed is fixed; the run is
/// bounded (a few seconds) unless <c>HCS_FUZZ_ITERATIONS</c> / <c>HCS_FUZZ_SECONDS</c> / <c>HCS_FUZZ_SEED</c> ask
/// for more (CONTRIBUTING.md).
/// </summary>
public sealed class FuzzTests
{
    private const int DefaultIterations = 20_000;
    private const double DefaultSeconds = 3;
    private const int MaxMessageChars = 4096;

    private static readonly string[] s_insertions =
    [
        "\\ud800", "\\udc00", "\\uDBFF", "\\ud800\\ud800", "\\udc00\\ud800", "\\u0000", "\\u", "\\x", "\\", "\"", "\\\"",
        "\ud800", "\udc00", "\udbff", "\ud83d\ude00", "\u0000", "\u001f", "\uffff", "{", "}", "[", "]", ",", ":", "null",
        "1e400", "-", ".5", "\"\":", "/*", "'",
    ];

    private static readonly string[] s_numbers =
    [
        "18446744073709551616", "-1", "1e400", "-1e400", "1e-400", "4.5", "99999999999999999999999999999999999999",
        "9223372036854775808", "-9223372036854775809", "0.0", "-0", "1E2", "4294967296", "65536",
    ];

    [Fact]
    public void MutatedSampleDocumentsAreRejectedOnlyAsInvalidJsonNamingAPath()
    {
        var seed = Setting("HCS_FUZZ_SEED", 11_2026);
        var iterations = Setting("HCS_FUZZ_ITERATIONS", DefaultIterations);
        var budget = TimeSpan.FromSeconds(Setting("HCS_FUZZ_SECONDS", DefaultSeconds));
        var random = new Random(seed);
        var documents = Samples.All.Select(s => (Sample: s, Json: s.Serialize(s.Value))).ToArray();
        var clock = Stopwatch.StartNew();
        var rejected = 0;
        var done = 0;
        for (; done < iterations && clock.Elapsed < budget; done++)
        {
            var (sample, json) = documents[random.Next(documents.Length)];
            var mutant = Mutate(json, random);
            try
            {
                var value = sample.Deserialize(mutant);
                _ = sample.Serialize(value);
            }
            catch (HcsException e)
            {
                rejected++;
                var message = e.Result.ErrorEvents is [{ Message: { } detail }, ..] ? detail : "";
                Assert.True(e.HResult == HResults.HCS_E_INVALID_JSON,
                    $"seed {seed} iteration {done} ({sample.Name}): 0x{e.HResult:X8} {Head(e.Message)}\n{Head(mutant)}");
                Assert.True(message.StartsWith('$'), $"seed {seed} iteration {done} ({sample.Name}): no path in '{Head(message)}'\n{Head(mutant)}");
                Assert.True(e.Message.Length <= MaxMessageChars,
                    $"seed {seed} iteration {done} ({sample.Name}): a {e.Message.Length}-char message: {Head(e.Message)}");
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} iteration {done} ({sample.Name}): {e.GetType().Name} escaped: {Head(e.Message)}\n{Head(mutant)}\n{e.StackTrace}");
            }
        }

        Assert.True(done >= Math.Min(iterations, 1_000), $"only {done} documents in {budget}");
        Assert.True(rejected > done / 4, $"only {rejected} of {done} mutants were rejected: the mutations are too gentle");
    }

    [Theory]
    [InlineData("ComputeSystem/Container")]
    [InlineData("ModifySettingRequest")]
    [InlineData("ProcessParameters")]
    public void EveryMutationKindOfEveryPositionIsRejectedCleanly(string name)
    {
        // Each insertion and a truncation at every token boundary of one document, so no kind depends on the random draw.
        var sample = Samples.Get(name);
        var json = sample.Serialize(sample.Value);
        for (var at = 0; at <= json.Length; at++)
        {
            if (at > 0 && json[at - 1] is not ('"' or ':' or ',' or '{' or '[' or '\\'))
            {
                continue; // the positions where a token starts or a string begins are the ones that matter
            }

            foreach (var insertion in s_insertions)
            {
                AssertClean(sample, json.Insert(at, insertion));
            }

            AssertClean(sample, json[..at]);
        }
    }

    private static void AssertClean(Sample sample, string mutant)
    {
        try
        {
            sample.Deserialize(mutant);
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_INVALID_JSON && e.Result.ErrorEvents is [{ Message: { } detail }, ..] && detail.StartsWith('$'))
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{sample.Name}: {e.GetType().Name}: {Head(e.Message)}\n{Head(mutant)}");
        }
    }

    private static string Mutate(string json, Random random)
    {
        var rounds = 1 + random.Next(3);
        for (var i = 0; i < rounds; i++)
        {
            json = random.Next(9) switch
            {
                0 => FlipByte(json, random),
                1 => json[..random.Next(json.Length + 1)],
                2 => json.Insert(random.Next(json.Length + 1), s_insertions[random.Next(s_insertions.Length)]),
                3 => ReplaceValue(json, random, TypeSwap),
                4 => ReplaceValue(json, random, (_, r) => JsonNode.Parse(s_numbers[r.Next(s_numbers.Length)])),
                5 => ReplaceValue(json, random, Nest),
                6 => ReplaceValue(json, random, (_, r) => JsonValue.Create(Huge(r))),
                7 => RenameMember(json, random),
                _ => InsertIntoString(json, random),
            };
        }

        return json;
    }

    private static string FlipByte(string json, Random random)
    {
        if (json.Length == 0)
        {
            return json;
        }

        var bytes = Encoding.UTF8.GetBytes(json);
        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));

        // Decoding turns invalid UTF-8 into U+FFFD, as the wire does; also try it raw as Latin-1 chars.
        return random.Next(2) == 0 ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
    }

    private static string InsertIntoString(string json, Random random)
    {
        var quote = json.IndexOf('"', random.Next(json.Length + 1));
        return quote < 0 ? json : json.Insert(quote + 1, s_insertions[random.Next(12)]);
    }

    private static string ReplaceValue(string json, Random random, Func<JsonNode?, Random, JsonNode?> replace)
    {
        try
        {
            var root = JsonNode.Parse(json);
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            if (nodes.Count == 0)
            {
                return json;
            }

            var target = nodes[random.Next(nodes.Count)];
            var replacement = replace(target, random);
            switch (target.Parent)
            {
                case JsonObject o:
                    o[target.GetPropertyName()] = replacement;
                    break;
                case JsonArray a:
                    a[target.GetElementIndex()] = replacement;
                    break;
                default:
                    return replacement?.ToJsonString() ?? "null";
            }

            return root!.ToJsonString();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return json; // not JSON any more (or holding a lone surrogate): this mutation does not apply
        }
    }

    private static string RenameMember(string json, Random random) => ReplaceValue(json, random, (node, r) =>
    {
        if (node is not JsonObject o || o.Count == 0)
        {
            return node?.DeepClone();
        }

        var copy = new JsonObject();
        var rename = r.Next(o.Count);
        var index = 0;
        foreach (var (key, value) in o)
        {
            var name = index++ == rename ? r.Next(3) switch { 0 => Huge(r), 1 => key.ToUpperInvariant(), _ => key + "\u00e9" } : key;
            copy[name] = value?.DeepClone();
        }

        return copy;
    });

    private static JsonNode? TypeSwap(JsonNode? node, Random random) => random.Next(6) switch
    {
        0 => JsonValue.Create("swapped"),
        1 => JsonValue.Create(42),
        2 => JsonValue.Create(true),
        3 => null,
        4 => new JsonObject { ["x"] = 1 },
        _ => new JsonArray(node?.DeepClone()),
    };

    private static JsonNode Nest(JsonNode? node, Random random)
    {
        var depth = 20 + random.Next(100);
        JsonNode nested = node?.DeepClone() ?? JsonValue.Create(0);
        for (var i = 0; i < depth; i++)
        {
            nested = random.Next(2) == 0 ? new JsonArray(nested) : new JsonObject { ["a"] = nested };
        }

        return nested;
    }

    private static string Huge(Random random) => new((char)('a' + random.Next(26)), 10_000 + random.Next(100_000));

    private static void Collect(JsonNode? node, List<JsonNode> nodes)
    {
        if (node is null)
        {
            return;
        }

        if (node.Parent is not null)
        {
            nodes.Add(node);
        }

        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o)
                {
                    Collect(child, nodes);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Collect(child, nodes);
                }

                break;
        }
    }

    private static string Head(string text) => text.Length <= 300 ? text : text[..300] + $"…({text.Length} chars)";

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static double Setting(string name, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}
