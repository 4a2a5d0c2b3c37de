using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace CtScan.Pipeline;

/// <summary>How an identity-based storage connection obtains its tokens.</summary>
public enum StorageSignInMethod
{
    /// <summary>DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI, … (workstations).</summary>
    DefaultAzureCredential,

    /// <summary>A managed identity: the user-assigned one named by its client ID, or the system-assigned one.</summary>
    ManagedIdentity,
}

/// <summary>
/// The sign-in of an identity-based storage connection, read from settings rather than left to a credential chain: an
/// app with only a user-assigned identity and no <c>AZURE_CLIENT_ID</c> gets no token from DefaultAzureCredential's
/// managed-identity step, so the identity must be named. Data, so options stay comparable and tests can read it;
/// <see cref="CreateCredential"/> builds the credential.
/// </summary>
public sealed record StorageSignIn(StorageSignInMethod Method, string? ManagedIdentityClientId = null)
{
    /// <summary>The value of <c>&lt;connection&gt;__credential</c> that selects a managed identity (Functions convention).</summary>
    public const string ManagedIdentityCredentialSetting = "managedidentity";

    /// <summary>The variable the Azure SDKs read a user-assigned identity's client ID from.</summary>
    public const string ClientIdVariable = "AZURE_CLIENT_ID";

    // With any of these beside AZURE_CLIENT_ID, the client ID belongs to a service principal or a workload identity
    // (EnvironmentCredential, WorkloadIdentityCredential), not to a managed identity.
    private static readonly string[] ServicePrincipalVariables =
        ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME"];

    public static StorageSignIn Default { get; } = new(StorageSignInMethod.DefaultAzureCredential);

    /// <summary>A user-assigned managed identity by client ID (null: the system-assigned identity).</summary>
    public static StorageSignIn ForManagedIdentity(string? clientId) => new(StorageSignInMethod.ManagedIdentity, clientId);

    /// <summary>
    /// The Azure Functions identity-based connection convention: <c>&lt;connection&gt;__credential</c> =
    /// <c>managedidentity</c> selects a managed identity, <c>&lt;connection&gt;__clientId</c> names the user-assigned
    /// one. Without <c>__credential</c>, DefaultAzureCredential (local development), told the client ID if one is given.
    /// </summary>
    public static StorageSignIn FromConnectionSettings(Func<string, string?> setting, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var credential = setting($"{connectionName}__credential");
        var clientId = setting($"{connectionName}__clientId");
        if (credential is null)
            return clientId is null ? Default : new StorageSignIn(StorageSignInMethod.DefaultAzureCredential, clientId);
        if (!string.Equals(credential, ManagedIdentityCredentialSetting, StringComparison.OrdinalIgnoreCase))
            throw new PipelineConfigurationException(
                $"{connectionName}__credential: expected '{ManagedIdentityCredentialSetting}' (or no setting, for DefaultAzureCredential); got '{credential}'");
        return ForManagedIdentity(clientId);
    }

    /// <summary>
    /// A process outside Functions (the retraining job, the CLI): <c>AZURE_CLIENT_ID</c> alone names a user-assigned
    /// managed identity (what a Container Apps job is given); otherwise DefaultAzureCredential (az login, a service
    /// principal's variables, workload identity).
    /// </summary>
    public static StorageSignIn FromEnvironment(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var clientId = variable(ClientIdVariable) is { Length: > 0 } id ? id : null;
        if (clientId is null || ServicePrincipalVariables.Any(name => variable(name) is { Length: > 0 })) return Default;
        return ForManagedIdentity(clientId);
    }

    /// <summary>The credential this sign-in describes; <paramref name="transport"/> replaces the HTTP transport (tests, proxies).</summary>
    public TokenCredential CreateCredential(HttpPipelineTransport? transport = null) => Method switch
    {
        StorageSignInMethod.ManagedIdentity => new ManagedIdentityCredential(WithTransport(new ManagedIdentityCredentialOptions(
            ManagedIdentityClientId is { } clientId ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned), transport)),
        StorageSignInMethod.DefaultAzureCredential => new DefaultAzureCredential(WithTransport(DefaultOptions(), transport)),
        _ => throw new PipelineConfigurationException($"unknown storage sign-in method {Method}"),
    };

    private DefaultAzureCredentialOptions DefaultOptions()
    {
        var options = new DefaultAzureCredentialOptions();
        // Only when named: the default reads AZURE_CLIENT_ID, which an explicit null would discard.
        if (ManagedIdentityClientId is { } clientId) options.ManagedIdentityClientId = clientId;
        return options;
    }

    private static T WithTransport<T>(T options, HttpPipelineTransport? transport) where T : TokenCredentialOptions
    {
        if (transport is not null) options.Transport = transport;
        return options;
    }

    public override string ToString() => Method == StorageSignInMethod.ManagedIdentity
        ? $"managed identity {ManagedIdentityClientId ?? "(system-assigned)"}"
        : ManagedIdentityClientId is null ? "DefaultAzureCredential" : $"DefaultAzureCredential (managed identity {ManagedIdentityClientId})";
}
