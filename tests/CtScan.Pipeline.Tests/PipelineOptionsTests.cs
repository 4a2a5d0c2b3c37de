using CtScan.Contracts;

namespace CtScan.Pipeline.Tests;

public sealed class PipelineOptionsTests
{
    [Fact]
    public void FromSettings_ConnectionStringAndTuning_Applied()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["CtScan__ModelRefreshSeconds"] = "2.5",
            ["CtScan__MaxScanBytes"] = "1000",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));

        Assert.Equal("UseDevelopmentStorage=true", options.ConnectionString);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.ModelRefreshInterval);
        Assert.Equal(1000, options.MaxScanBytes);
        Assert.Equal("scans", options.ScansContainer);
        Assert.Equal("score-requests-poison", options.ScoreRequestsPoisonQueue);
        Assert.Equal("webjobs-blobtrigger-poison", options.BlobTriggerPoisonQueue);
        Assert.Equal(Azure.Storage.Queues.QueueMessageEncoding.Base64, options.MessageEncoding);
    }

    [Fact]
    public void FromSettings_IdentityConnection_UsesServiceUris()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage__accountName"] = "ctscanprod" };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
        var clients = new PipelineClients(options);

        Assert.Null(options.ConnectionString);
        Assert.Equal("https://ctscanprod.blob.core.windows.net/", clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal("https://ctscanprod.queue.core.windows.net/", clients.QueueService.Uri.AbsoluteUri);
    }

    [Fact]
    public void FromSettings_Nothing_SaysWhatToSet()
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(_ => null));
        Assert.Contains("AzureWebJobsStorage", error.Message);
    }

    [Theory]
    [InlineData("Scans")]
    [InlineData("ab")]
    [InlineData("a--b")]
    public void Validated_BadContainerName_NamesIt(string name)
    {
        var error = Assert.Throws<PipelineConfigurationException>(() =>
            (PipelineOptions.ForConnectionString("UseDevelopmentStorage=true") with { ResultsContainer = name }).Validated());
        Assert.Contains($"'{name}'", error.Message);
    }

    [Theory]
    [InlineData("a.nii", null)]
    [InlineData("x/y z/ü 名.nii.gz", null)]
    [InlineData("..", "'..'")]
    [InlineData("a/./b.nii", "'.'")]
    [InlineData("/a.nii", "slash")]
    [InlineData("a\\b.nii", "backslash")]
    [InlineData("a\tb.nii", "U+0009")]
    [InlineData("a/", "empty path segment")]
    public void UnsafeReason_ExplainsWhy(string name, string? expected)
    {
        var reason = ScanNames.UnsafeReason(name);
        if (expected is null) Assert.Null(reason);
        else Assert.Contains(expected, reason);
        if (expected is not null)
        {
            string safe = ScanNames.ResultBlobName(name);
            Assert.StartsWith(ScanNames.UnsafeNamesFolder + "/", safe);
            Assert.Null(ScanNames.UnsafeReason(safe));
        }
    }

    [Theory]
    [InlineData(1018, false)]
    [InlineData(1019, false)]
    [InlineData(1020, true)]
    [InlineData(1024, true)]
    public void ResultBlobName_NameTooLongForSuffix_HashedUnderLongNames(int length, bool hashed)
    {
        string name = "ward/" + new string('x', length - "ward/".Length - ".nii".Length) + ".nii";

        string result = ScanNames.ResultBlobName(name);

        Assert.Null(ScanNames.UnsafeReason(name)); // acceptable: storage holds names up to 1,024 characters
        Assert.True(result.Length <= ScanNames.MaxBlobNameLength, $"{result.Length} characters");
        if (hashed) Assert.Matches($"^{ScanNames.LongNamesFolder}/[0-9a-f]{{16}}-ward_x{{75}}\\.json$", result);
        else Assert.Equal(name + ".json", result);
        Assert.Equal(result, ScanNames.ResultBlobName(name)); // stable
        Assert.Contains("1025 characters", ScanNames.UnsafeReason(name + new string('y', 1025 - length)));
    }

    [Fact]
    public void UnsafeReason_LoneSurrogate_Rejected()
    {
        // Built at run time: attribute strings cannot carry a lone surrogate (metadata is UTF-8).
        string name = "bad" + (char)0xD800 + ".nii";
        Assert.Contains("surrogate", ScanNames.UnsafeReason(name));
        Assert.Null(ScanNames.UnsafeReason("ok" + char.ConvertFromUtf32(0x1F600) + ".nii"));
    }
}

/// <summary>
/// Identity-based connections sign in as the settings say (finding 1 of the deployment review: a user-assigned identity
/// without AZURE_CLIENT_ID gets no token from DefaultAzureCredential, so every handler's storage call failed).
/// </summary>
public sealed class StorageSignInTests
{
    private const string ClientId = "0d7a3c1e-5b2f-4e8a-9c61-2f4b8e0a7d35";

    [Fact]
    public void FromSettings_ManagedIdentityWithClientId_SignsInAsThatIdentity()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            ["AzureWebJobsStorage__clientId"] = ClientId,
            ["AzureWebJobsStorage__blobServiceUri"] = "https://stctfunc.blob.core.windows.net/",
            ["AzureWebJobsStorage__queueServiceUri"] = "https://stctfunc.queue.core.windows.net/",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
        var clients = new PipelineClients(options);

        Assert.Equal(new StorageSignIn(StorageSignInMethod.ManagedIdentity, ClientId), options.SignIn);
        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(options.SignIn.CreateCredential());
        Assert.Equal("https://stctfunc.blob.core.windows.net/", clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal("https://stctfunc.queue.core.windows.net/", clients.QueueService.Uri.AbsoluteUri);
    }

    [Fact]
    public void FromSettings_ColonSeparatedKeys_AsConfigurationReadsEnvironmentVariables()
    {
        var settings = new Dictionary<string, string>
        {
            ["Storage:credential"] = "ManagedIdentity",
            ["Storage:accountName"] = "stctfunc",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key), "Storage");

        Assert.Equal(StorageSignIn.ForManagedIdentity(null), options.SignIn); // the system-assigned identity
        Assert.Equal("https://stctfunc.blob.core.windows.net/", options.BlobServiceUri!.AbsoluteUri);
    }

    [Fact]
    public void FromSettings_NoCredentialSetting_DefaultAzureCredential_ToldTheClientId()
    {
        var withClientId = new Dictionary<string, string> { ["AzureWebJobsStorage__accountName"] = "st", ["AzureWebJobsStorage__clientId"] = ClientId };
        var bare = new Dictionary<string, string> { ["AzureWebJobsStorage__accountName"] = "st" };

        Assert.Equal(new StorageSignIn(StorageSignInMethod.DefaultAzureCredential, ClientId), PipelineOptions.FromSettings(key => withClientId.GetValueOrDefault(key)).SignIn);
        Assert.Equal(StorageSignIn.Default, PipelineOptions.FromSettings(key => bare.GetValueOrDefault(key)).SignIn);
        Assert.IsType<Azure.Identity.DefaultAzureCredential>(StorageSignIn.Default.CreateCredential());
    }

    [Fact]
    public void FromSettings_UnknownCredential_NamesTheSettingAndWhatIsAllowed()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage__accountName"] = "st", ["AzureWebJobsStorage__credential"] = "clientsecret" };

        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key)));

        Assert.Equal("AzureWebJobsStorage__credential: expected 'managedidentity' (or no setting, for DefaultAzureCredential); got 'clientsecret'", error.Message);
    }

    [Fact]
    public void FromSettings_BadServiceUri_NamesTheSetting()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage__blobServiceUri"] = "stctfunc.blob" };

        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key)));

        Assert.Equal("AzureWebJobsStorage__blobServiceUri: expected an absolute http(s) URL; got 'stctfunc.blob'", error.Message);
    }

    [Theory]
    [InlineData(new string[0], "DefaultAzureCredential", null)]
    [InlineData(new[] { "AZURE_CLIENT_ID", ClientId }, "ManagedIdentity", ClientId)]
    [InlineData(new[] { "AZURE_CLIENT_ID", ClientId, "AZURE_CLIENT_SECRET", "s", "AZURE_TENANT_ID", "t" }, "DefaultAzureCredential", null)]
    [InlineData(new[] { "AZURE_CLIENT_ID", ClientId, "AZURE_FEDERATED_TOKEN_FILE", "/var/run/token" }, "DefaultAzureCredential", null)]
    public void ForAccountFromEnvironment_ClientIdAlone_IsTheUserAssignedIdentity(string[] variables, string method, string? clientId)
    {
        var environment = variables.Chunk(2).ToDictionary(p => p[0], p => p[1]);

        var options = PipelineOptions.ForAccountFromEnvironment(new Uri("https://stctfunc.blob.core.windows.net"), environment.GetValueOrDefault);

        Assert.Equal(new StorageSignIn(Enum.Parse<StorageSignInMethod>(method), clientId), options.SignIn);
        Assert.Equal("https://stctfunc.queue.core.windows.net/", new PipelineClients(options).QueueService.Uri.AbsoluteUri);
    }

    [Fact]
    public async Task CreateCredential_ManagedIdentity_AsksTheTokenEndpointForThatClientId()
    {
        // The transport is Azure.Core's own over an HttpClient whose handler plays the instance metadata endpoint.
        var endpoint = new TokenEndpoint();
        var credential = StorageSignIn.ForManagedIdentity(ClientId)
            .CreateCredential(new Azure.Core.Pipeline.HttpClientTransport(new HttpClient(endpoint)));

        var token = await credential.GetTokenAsync(new Azure.Core.TokenRequestContext(["https://storage.azure.com/.default"]), CancellationToken.None);

        Assert.Equal("token-for-" + ClientId, token.Token);
        var request = Assert.Single(endpoint.Requests);
        var query = System.Web.HttpUtility.ParseQueryString(request.Query);
        Assert.Equal(ClientId, query["client_id"]);
        Assert.Equal("https://storage.azure.com", query["resource"]);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    [InlineData("False", false)]
    public void FromSettings_LogScanNames_OffByDefault(string? value, bool expected)
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" };
        if (value is not null) settings["CtScan__LogScanNames"] = value;

        Assert.Equal(expected, PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key)).LogScanNames);
    }

    [Fact]
    public void FromSettings_LogScanNamesNotABoolean_NamesIt()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true", ["CtScan__LogScanNames"] = "yes" };

        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key)));

        Assert.Equal("CtScan__LogScanNames: expected true or false; got 'yes'", error.Message);
    }

    /// <summary>
    /// Answers like the instance metadata service of a VM without IMDSv2, quickly: MSAL's IMDSv2 probe gets an answer it
    /// rejects (a 404 would be retried for ~25 s), the header-less IMDSv1 probe and the compute-metadata lookup get 400,
    /// and the token request gets a token named after the client ID it asked for.
    /// </summary>
    private sealed class TokenEndpoint : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (uri.AbsolutePath.EndsWith("/getplatformmetadata", StringComparison.Ordinal))
                return Task.FromResult(Json(System.Net.HttpStatusCode.OK, "{}"));
            if (!uri.AbsolutePath.EndsWith("/oauth2/token", StringComparison.Ordinal)
                || !request.Headers.TryGetValues("Metadata", out var metadata) || !metadata.Contains("true"))
                return Task.FromResult(Json(System.Net.HttpStatusCode.BadRequest,
                    """{"error":"invalid_request","error_description":"Required metadata header not specified"}"""));
            Requests.Add(uri);
            var clientId = System.Web.HttpUtility.ParseQueryString(uri.Query)["client_id"];
            long expiresOn = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
            return Task.FromResult(Json(System.Net.HttpStatusCode.OK,
                $$"""{"access_token":"token-for-{{clientId}}","expires_in":"3600","expires_on":"{{expiresOn}}","resource":"https://storage.azure.com","token_type":"Bearer"}"""));
        }

        private static HttpResponseMessage Json(System.Net.HttpStatusCode status, string body) =>
            new(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
    }
}
