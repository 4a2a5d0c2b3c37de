using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CtScan.Cli.Tests.Datasets;

/// <summary>A one-shot misbehaviour the server applies to the next request for a file.</summary>
internal enum Fault
{
    /// <summary>Send the headers and half the body, then close the connection (a clean FIN, so the half arrives).</summary>
    DropMidBody,

    /// <summary>Answer HTTP 500.</summary>
    ServerError,
}

/// <summary>A request as the server saw it.</summary>
internal sealed record RecordedRequest(string Path, string? Range, int BytesSent);

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 with a free port (TcpListener, one response per connection) that honours
/// <c>Range: bytes=N-</c> (206, or 416 past the end), can ignore Range, and plays queued faults. Unknown paths get 404.
/// </summary>
internal sealed class TestHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Fault>> _faults = new();
    private readonly Task _accepting;

    public TestHttpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>When true, Range headers are ignored and the whole file is sent with 200.</summary>
    public bool IgnoreRange { get; set; }

    public void Serve(string name, byte[] content) => _files[name] = content;

    public void Enqueue(string name, Fault fault) => _faults.GetOrAdd(name, _ => new()).Enqueue(fault);

    public IReadOnlyList<RecordedRequest> RequestsFor(string name) => [.. Requests.Where(r => r.Path == "/" + name)];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var (path, range) = await ReadRequestAsync(stream);
            string name = path.TrimStart('/');
            int sent = 0;
            Fault? fault = _faults.TryGetValue(name, out var queue) && queue.TryDequeue(out var f) ? f : null;
            if (!_files.TryGetValue(name, out var content))
            {
                await WriteAsync(stream, 404, "Not Found", [], "not found"u8.ToArray());
            }
            else if (fault == Fault.ServerError)
            {
                await WriteAsync(stream, 500, "Internal Server Error", [], "boom"u8.ToArray());
            }
            else
            {
                long from = 0;
                if (range is not null && !IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                {
                    from = long.Parse(range["bytes=".Length..^1]);
                }
                if (from >= content.Length && from > 0)
                {
                    await WriteAsync(stream, 416, "Range Not Satisfiable", [$"Content-Range: bytes */{content.Length}"], ReadOnlyMemory<byte>.Empty);
                }
                else
                {
                    var body = content.AsMemory((int)from);
                    var headers = from > 0 ? new[] { $"Content-Range: bytes {from}-{content.Length - 1}/{content.Length}" } : [];
                    int limit = fault == Fault.DropMidBody ? body.Length / 2 : body.Length;
                    sent = limit;
                    await WriteAsync(stream, from > 0 ? 206 : 200, from > 0 ? "Partial Content" : "OK", headers, body, limit);
                }
            }
            Requests.Enqueue(new RecordedRequest(path, range, sent));
        }
    }

    private static async Task<(string Path, string? Range)> ReadRequestAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
        {
            head.Append((char)one[0]);
        }
        var lines = head.ToString().Split("\r\n");
        string path = lines[0].Split(' ')[1];
        string? range = lines.Skip(1).Where(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["Range:".Length..].Trim()).FirstOrDefault();
        return (path, range);
    }

    private static async Task WriteAsync(NetworkStream stream, int status, string reason, string[] headers, ReadOnlyMemory<byte> body, int? limit = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {reason}\r\nContent-Length: {body.Length}\r\nContent-Type: application/zip\r\nConnection: close\r\n");
        foreach (var header in headers) head.Append(header).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(body[..(limit ?? body.Length)]);
        await stream.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
