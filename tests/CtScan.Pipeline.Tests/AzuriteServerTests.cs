using System.Net;
using System.Net.Sockets;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CtScan.LocalHost.Azurite;

namespace CtScan.Pipeline.Tests;

public class AzuriteServerTests
{
    [Fact]
    public async Task StartAsync_ServesBlobsAndQueues_AndDisposeLeavesNothingListening()
    {
        var server = await AzuriteServer.StartAsync();
        int blobPort = server.BlobPort, queuePort = server.QueuePort;
        try
        {
            var container = new BlobServiceClient(server.ConnectionString).GetBlobContainerClient("probe");
            await container.CreateAsync();
            await container.UploadBlobAsync("a/b c é.txt", BinaryData.FromString("hello"));
            var content = await container.GetBlobClient("a/b c é.txt").DownloadContentAsync();
            Assert.Equal("hello", content.Value.Content.ToString());

            var queue = new QueueClient(server.ConnectionString, "probe");
            await queue.CreateAsync();
            await queue.SendMessageAsync("m1");
            Assert.Equal("m1", (await queue.ReceiveMessageAsync()).Value.Body.ToString());
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(await AcceptsAsync(blobPort));
        Assert.False(await AcceptsAsync(queuePort));
    }

    [Fact]
    public async Task StartAsync_NoPackageAndNoInstall_SaysWhatToRun()
    {
        var empty = Directory.CreateTempSubdirectory("ctscan-azurite-test-");
        try
        {
            var error = await Assert.ThrowsAsync<AzuriteException>(() =>
                AzuriteServer.StartAsync(new AzuriteOptions { PackageDirectory = empty.FullName, InstallIfMissing = false }));
            Assert.Contains("npm install", error.Message);
            Assert.Contains(empty.FullName, error.Message);
            Assert.Equal(AzuriteFailure.NotInstalled, error.Failure);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
