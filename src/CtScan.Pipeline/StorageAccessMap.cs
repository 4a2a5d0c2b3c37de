namespace CtScan.Pipeline;

/// <summary>What a principal may do with a container or queue (data actions, not management).</summary>
[Flags]
public enum StorageAccess
{
    None = 0,
    /// <summary>Read blobs and their properties.</summary>
    Read = 1,
    /// <summary>Create and overwrite blobs.</summary>
    Write = 2,
    /// <summary>Delete blobs.</summary>
    Delete = 4,
    /// <summary>List the blobs of a container.</summary>
    List = 8,
    /// <summary>Add messages to a queue.</summary>
    AddMessages = 16,
    /// <summary>Receive, update and delete messages (what a queue trigger does).</summary>
    ProcessMessages = 32,
    /// <summary>Create queues and read their properties (the Functions host manages its own queues).</summary>
    ManageQueues = 64,
}

/// <summary>Who touches the storage account.</summary>
public enum StoragePrincipal
{
    /// <summary>The Functions app's user-assigned identity (the host and the pipeline's handlers).</summary>
    FunctionsApp,
    /// <summary>The retraining job's user-assigned identity.</summary>
    TrainingJob,
    /// <summary>People or systems that upload scans (template parameter uploaderPrincipalIds).</summary>
    Uploader,
    /// <summary>People or systems that read results (template parameter resultReaderPrincipalIds).</summary>
    ResultReader,
    /// <summary>Operators who publish or roll back models and curate training data (adminPrincipalIds).</summary>
    Admin,
    /// <summary>The Event Grid system topic's identity, which writes undeliverable events to the dead-letter container.</summary>
    EventGrid,
    /// <summary>The results viewer's user-assigned identity (template parameter deployViewer; docs/viewer.md).</summary>
    Viewer,
}

/// <summary>The Azure built-in (or this deployment's custom) role a grant is given as.</summary>
public enum StorageRole
{
    /// <summary>Storage Blob Data Reader: read and list.</summary>
    BlobDataReader,
    /// <summary>Storage Blob Data Contributor: read, write, delete, list.</summary>
    BlobDataContributor,
    /// <summary>The template's custom "scan writer" role: create blobs only (no read, list or delete).</summary>
    BlobWriter,
    /// <summary>Storage Queue Data Contributor: messages and queue management.</summary>
    QueueDataContributor,
}

/// <summary>A container or queue, or (for the Functions host's own queues) every queue of the account.</summary>
public sealed record StorageResource(StorageResourceKind Kind, string? Name)
{
    public static StorageResource Container(string name) => new(StorageResourceKind.Container, name);
    public static StorageResource Queue(string name) => new(StorageResourceKind.Queue, name);
    public static StorageResource AllQueues { get; } = new(StorageResourceKind.Queue, null);

    public bool IsAccountScope => Name is null;

    public override string ToString() => Name ?? $"every {Kind.ToString().ToLowerInvariant()} of the account";
}

public enum StorageResourceKind
{
    Container,
    Queue,
}

/// <summary>One line of the access map: a principal, a resource, what it does there, the role that grants it, and why.</summary>
public sealed record StorageGrant(StoragePrincipal Principal, StorageResource Resource, StorageAccess Access, StorageRole Role, string Why)
{
    /// <summary>Set when the role is broader than <see cref="Access"/> needs: the reason no narrower role fits.</summary>
    public string? BroaderBecause { get; init; }
}

/// <summary>
/// Who may do what with which container and queue: the one statement of least privilege that infra/modules/roles.bicep
/// implements, docs/access.md shows, and tests/CtScan.Infra.Tests compares the compiled template against. Change the
/// template and this map together.
/// </summary>
public static class StorageAccessMap
{
    /// <summary>Where Event Grid writes BlobCreated events it could not deliver (the Functions app replays them).</summary>
    public const string EventGridDeadLetterContainer = "eventgrid-deadletter";

    /// <summary>The Flex Consumption plan's deployment package container.</summary>
    public const string DeploymentPackageContainer = "app-package";

    /// <summary>The Functions host's own containers (locks, blob-trigger receipts, timer status; function keys).</summary>
    public const string HostContainer = "azure-webjobs-hosts";

    public const string HostSecretsContainer = "azure-webjobs-secrets";

    /// <summary>Every container the deployment creates: the pipeline's contract, the dead letters, the host's and the package's.</summary>
    public static IReadOnlyList<string> Containers { get; } =
    [
        PipelineOptions.DefaultScansContainer, PipelineOptions.DefaultTensorsContainer, PipelineOptions.DefaultResultsContainer,
        PipelineOptions.DefaultModelsContainer, PipelineOptions.DefaultTrainingContainer, EventGridDeadLetterContainer,
        DeploymentPackageContainer, HostContainer, HostSecretsContainer,
    ];

    /// <summary>Every queue the deployment creates.</summary>
    public static IReadOnlyList<string> Queues { get; } =
    [
        PipelineOptions.DefaultScoreRequestsQueue, PipelineOptions.DefaultScoreRequestsPoisonQueue, PipelineOptions.DefaultBlobTriggerPoisonQueue,
    ];

    private const StorageAccess ReadList = StorageAccess.Read | StorageAccess.List;
    private const StorageAccess ReadWrite = StorageAccess.Read | StorageAccess.Write;
    private const StorageAccess All = StorageAccess.Read | StorageAccess.Write | StorageAccess.Delete | StorageAccess.List;

    public static IReadOnlyList<StorageGrant> Grants { get; } =
    [
        // Functions app: the pipeline's handlers.
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(PipelineOptions.DefaultScansContainer), ReadList, StorageRole.BlobDataReader,
            "blob trigger reads new scans; the pending-scan sweep lists them"),
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(PipelineOptions.DefaultTensorsContainer), ReadWrite, StorageRole.BlobDataContributor,
            "writes each scan's tensor once, reads it to score")
            { BroaderBecause = "no built-in role grants read and write without delete" },
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(PipelineOptions.DefaultResultsContainer), ReadWrite | StorageAccess.List, StorageRole.BlobDataContributor,
            "writes results, reads them back to keep the first, the sweep lists them")
            { BroaderBecause = "no built-in role grants read and write without delete" },
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(PipelineOptions.DefaultModelsContainer), ReadList, StorageRole.BlobDataReader,
            "reads `models/current.json` and the serving version; never writes the registry"),
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(EventGridDeadLetterContainer), All, StorageRole.BlobDataContributor,
            "the timer sweep replays dead-lettered events and deletes them; moves a malformed one aside (`malformed/`)"),
        // Functions app: the host itself.
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(HostContainer), All, StorageRole.BlobDataContributor,
            "Functions host: singleton locks, blob-trigger receipts, timer schedule status"),
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(HostSecretsContainer), All, StorageRole.BlobDataContributor,
            "Functions host: function and system keys (the Event Grid webhook's `blobs_extension` key)"),
        new(StoragePrincipal.FunctionsApp, StorageResource.Container(DeploymentPackageContainer), ReadWrite, StorageRole.BlobDataContributor,
            "Flex Consumption: the platform writes and reads the app package as the app's identity")
            { BroaderBecause = "no built-in role grants read and write without delete" },
        new(StoragePrincipal.FunctionsApp, StorageResource.AllQueues, StorageAccess.AddMessages | StorageAccess.ProcessMessages | StorageAccess.ManageQueues, StorageRole.QueueDataContributor,
            "queue trigger and output on score-requests, poison queues; the host creates and manages queues it names at run time (poison and blob-trigger queues), so the scope is the account's queue service"),

        // Retraining job.
        new(StoragePrincipal.TrainingJob, StorageResource.Container(PipelineOptions.DefaultTrainingContainer), ReadList, StorageRole.BlobDataReader,
            "mirrors the labelled scans"),
        new(StoragePrincipal.TrainingJob, StorageResource.Container(PipelineOptions.DefaultTensorsContainer), ReadList, StorageRole.BlobDataReader,
            "seeds its tensor cache from the pipeline's tensors (`train --from-storage`)"),
        new(StoragePrincipal.TrainingJob, StorageResource.Container(PipelineOptions.DefaultModelsContainer), ReadWrite | StorageAccess.List, StorageRole.BlobDataContributor,
            "publishes `models/<version>/` and run reports, and replaces `models/current.json` (conditional write)")
            { BroaderBecause = "no built-in role grants read and write without delete; blob versioning and the version-level immutability policy keep every written version" },

        // People and systems outside the deployment (role assignments only for principal IDs given as parameters).
        new(StoragePrincipal.Uploader, StorageResource.Container(PipelineOptions.DefaultScansContainer), StorageAccess.Write, StorageRole.BlobWriter,
            "uploads scans; cannot read, list or delete anyone's scans"),
        new(StoragePrincipal.ResultReader, StorageResource.Container(PipelineOptions.DefaultResultsContainer), ReadList, StorageRole.BlobDataReader,
            "reads results"),
        new(StoragePrincipal.Admin, StorageResource.Container(PipelineOptions.DefaultModelsContainer), All, StorageRole.BlobDataContributor,
            "publishes, promotes and rolls back models (`ctscan model ...`)"),
        new(StoragePrincipal.Admin, StorageResource.Container(PipelineOptions.DefaultTrainingContainer), All, StorageRole.BlobDataContributor,
            "curates the labelled training data"),

        // Results viewer (deployViewer): the page shows results and opens scans; it uploads nothing in Azure.
        new(StoragePrincipal.Viewer, StorageResource.Container(PipelineOptions.DefaultResultsContainer), ReadList, StorageRole.BlobDataReader,
            "lists and reads results, saliency maps and montages for the page"),
        new(StoragePrincipal.Viewer, StorageResource.Container(PipelineOptions.DefaultScansContainer), ReadList, StorageRole.BlobDataReader,
            "reads the scan a signed-in user opens, for NiiVue"),

        // Event Grid's system topic identity (the account allows no shared keys, so dead-lettering needs a role).
        new(StoragePrincipal.EventGrid, StorageResource.Container(EventGridDeadLetterContainer), StorageAccess.Write, StorageRole.BlobDataContributor,
            "writes events it could not deliver")
            { BroaderBecause = "Event Grid documents Storage Blob Data Contributor for identity-based dead-lettering" },
    ];

    /// <summary>The grants of one principal.</summary>
    public static IEnumerable<StorageGrant> For(StoragePrincipal principal) => Grants.Where(g => g.Principal == principal);

    /// <summary>What a role lets its holder do (the data actions of its definition, in this map's terms).</summary>
    public static StorageAccess AccessOf(StorageRole role) => role switch
    {
        StorageRole.BlobDataReader => ReadList,
        StorageRole.BlobDataContributor => All,
        StorageRole.BlobWriter => StorageAccess.Write,
        StorageRole.QueueDataContributor => StorageAccess.AddMessages | StorageAccess.ProcessMessages | StorageAccess.ManageQueues,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "unknown storage role"),
    };

    /// <summary>The role definition GUID of a built-in role; null for the template's custom <see cref="StorageRole.BlobWriter"/>.</summary>
    public static string? BuiltInRoleId(StorageRole role) => role switch
    {
        StorageRole.BlobDataReader => "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        StorageRole.BlobDataContributor => "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        StorageRole.QueueDataContributor => "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        StorageRole.BlobWriter => null,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "unknown storage role"),
    };
}
