using System.CommandLine;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>--connection</c> / <c>--account-url</c>, shared by the verbs that talk to the pipeline's storage account. Without
/// either, the connection string comes from CTSCAN_STORAGE, then AzureWebJobsStorage; <c>--account-url</c> signs in
/// as the user-assigned managed identity AZURE_CLIENT_ID names (the retraining job), else with DefaultAzureCredential.
/// </summary>
internal sealed class StorageOptions
{
    public const string ConnectionVariable = "CTSCAN_STORAGE";
    public const string FunctionsConnectionVariable = "AzureWebJobsStorage";

    private readonly Option<string?> _connection = new("--connection")
    {
        Description = $"Storage connection string (default: ${ConnectionVariable}, then ${FunctionsConnectionVariable}, then .azurite/connection.txt left by `ctscan up`)",
    };

    private readonly Option<Uri?> _accountUrl = new("--account-url")
    {
        Description = "Blob service URL (https://ACCOUNT.blob.core.windows.net), signed in as the managed identity $AZURE_CLIENT_ID names, else with DefaultAzureCredential (az login)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_connection);
        command.Options.Add(_accountUrl);
    }

    /// <summary>The options for the verb's storage clients, which fail fast (<see cref="StorageRetry.FailFast"/>): a user is waiting.</summary>
    public PipelineOptions Resolve(ParseResult parse) => Account(parse) with { StorageRetry = StorageRetry.FailFast };

    private PipelineOptions Account(ParseResult parse)
    {
        var connection = parse.GetValue(_connection);
        var accountUrl = parse.GetValue(_accountUrl);
        if (connection is not null && accountUrl is not null)
            throw new ArgumentException("give either --connection or --account-url, not both");
        // The retraining job runs as a user-assigned identity named by AZURE_CLIENT_ID; a workstation signs in with az login.
        if (accountUrl is not null) return PipelineOptions.ForAccountFromEnvironment(accountUrl, Environment.GetEnvironmentVariable).Validated();
        connection ??= Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } fromEnv ? fromEnv
            : Environment.GetEnvironmentVariable(FunctionsConnectionVariable) is { Length: > 0 } fromFunctions ? fromFunctions
            : ConnectionFile.Find();
        return connection is null
            ? throw new NoStorageException($"no storage account: pass --connection or --account-url, set {ConnectionVariable} (or {FunctionsConnectionVariable}), or start `ctscan up` (it writes {ConnectionFile.DefaultDataFolder}/{ConnectionFile.FileName})")
            : PipelineOptions.ForConnectionString(connection).Validated();
    }
}

/// <summary>No storage account is configured anywhere the storage verbs look (exit code 4, like one that does not answer).</summary>
internal sealed class NoStorageException(string message) : Exception(message);
