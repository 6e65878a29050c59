// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Replays a transcript recorded from the installed QEMU (tools/qmp-record.py) over an in-memory duplex stream:
/// "S:" lines are sent (reply ids rewritten to the id the client actually used), "C:" lines are awaited and the
/// client's command name and arguments compared, "S: &lt;EOF&gt;" closes, "S: &lt;RESET&gt;" fails the stream like ECONNRESET.
/// </summary>
internal sealed class ScriptedQmpServer
{
    private readonly Pipe _toClient = new();
    private readonly Pipe _toServer = new();
    private readonly string[] _lines;
    private volatile bool _resetAtEnd;

    public ScriptedQmpServer(IEnumerable<string> lines)
    {
        _lines = [.. lines.Where(l => l.Length > 0)];
        ClientStream = new DuplexStream(this, _toClient.Reader.AsStream(), _toServer.Writer.AsStream());
    }

    public Stream ClientStream { get; }

    public List<JsonObject> Received { get; } = [];

    /// <summary>
    /// Called with each command the client sent, once it matched its "C:" line and before the "S:" lines after it are
    /// sent: a test acts as QEMU would between a command and its reply (connect to a socket, stream data, …).
    /// </summary>
    public Func<JsonObject, Task>? OnReceived { get; init; }

    public static ScriptedQmpServer FromTranscript(string name) =>
        new(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Transcripts", name)));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(_toServer.Reader.AsStream(), Encoding.UTF8);
        long? lastClientId = null;
        long? transcriptId = null;
        foreach (var line in _lines)
        {
            var text = line[3..];
            if (line.StartsWith("C: ", StringComparison.Ordinal))
            {
                var sent = await reader.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("client closed");
                var actual = JsonNode.Parse(sent)!.AsObject();
                var expected = JsonNode.Parse(text)!.AsObject();
                Received.Add(actual);
                Assert.Equal(expected["execute"]!.GetValue<string>(), actual["execute"]!.GetValue<string>());
                Assert.True(JsonNode.DeepEquals(expected["arguments"], actual["arguments"]), $"arguments differ: {sent}");
                lastClientId = actual["id"]!.GetValue<long>();
                transcriptId = expected["id"]?.GetValue<long>();
                if (OnReceived is { } onReceived)
                {
                    await onReceived(actual);
                }
            }
            else if (text == "<EOF>")
            {
                await _toClient.Writer.CompleteAsync();
                return;
            }
            else if (text == "<RESET>")
            {
                // Like a socket: the bytes already sent are readable, then the next read fails with ECONNRESET.
                _resetAtEnd = true;
                await _toClient.Writer.CompleteAsync();
                return;
            }
            else
            {
                var message = JsonNode.Parse(text)!.AsObject();
                if (message["id"] is JsonValue recorded && recorded.GetValue<long>() == transcriptId && lastClientId is { } id)
                {
                    message["id"] = id;
                }

                await _toClient.Writer.WriteAsync(Encoding.UTF8.GetBytes(message.ToJsonString() + "\r\n"), cancellationToken);
            }
        }
    }

    private sealed class DuplexStream(ScriptedQmpServer server, Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Reset(read.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Reset(await read.ReadAsync(buffer, cancellationToken));

        private int Reset(int read) =>
            read == 0 && server._resetAtEnd ? throw new IOException("Connection reset by peer") : read;

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            write.WriteAsync(buffer, cancellationToken);

        public override void Flush() => write.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => write.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                read.Dispose();
                write.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
