namespace CtScan.Infra.Tests;

/// <summary>The GPU training job, the registry, and the Event Grid delivery of new scans.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class TrainingAndEventsTests(MainTemplateFixture main)
{
    private ArmTemplate Template => main.Compiled;

    [Theory]
    [InlineData("T4", "Consumption-GPU-NC8as-T4")]
    [InlineData("A100", "Consumption-GPU-NC24-A100")]
    public void GpuWorkloadProfile_FollowsTheParameter(string gpuProfile, string expectedType)
    {
        var environment = Template.Single("Microsoft.App/managedEnvironments");
        var variables = environment.Template["variables"]!;
        var profiles = environment.Properties["workloadProfiles"]!.AsArray();
        var gpu = profiles.Single(p => (string?)p!["name"] == "[variables('gpuProfileName')]")!;
        var allowed = Template.Root["parameters"]!["gpuProfile"]!["allowedValues"]!.AsArray().Select(v => (string)v!);

        // gpu = gpuProfiles[gpuProfile]; the profile's type is gpu.type: resolve it for this parameter value.
        Assert.Equal("[variables('gpuProfiles')[parameters('gpuProfile')]]", (string?)variables["gpu"]);
        Assert.Equal("[variables('gpu').type]", (string?)gpu["workloadProfileType"]);
        Assert.Equal(expectedType, (string?)variables["gpuProfiles"]![gpuProfile]!["type"]);
        Assert.Equal("[parameters('gpuProfile')]", (string?)Template.ModuleParameters("training")["gpuProfile"]!["value"]);
        Assert.Equal(["T4", "A100"], allowed);
        Assert.Contains(profiles, p => (string?)p!["workloadProfileType"] == "Consumption");
    }

    [Fact]
    public void Job_RunsOnTheGpuProfile_OnASchedule_FromTheCronParameter()
    {
        var job = Template.Single("Microsoft.App/jobs");
        var configuration = job.Properties["configuration"]!;

        Assert.Equal("Schedule", (string?)configuration["triggerType"]);
        Assert.Equal("[parameters('cronExpression')]", (string?)configuration["scheduleTriggerConfig"]!["cronExpression"]);
        Assert.Equal("[parameters('trainingSchedule')]", (string?)Template.ModuleParameters("training")["cronExpression"]!["value"]);
        Assert.Equal("0 3 * * 0", (string?)Template.DefaultOf("trainingSchedule"));
        Assert.Equal("[parameters('replicaTimeout')]", (string?)configuration["replicaTimeout"]);
        Assert.Equal("[variables('gpuProfileName')]", (string?)job.Properties["workloadProfileName"]);
        Assert.Equal("[parameters('deployJob')]", job.Condition);
    }

    [Fact]
    public void Job_PullsAndReachesStorageByIdentity_WithNoSecrets()
    {
        var job = Template.Single("Microsoft.App/jobs");
        var configuration = job.Properties["configuration"]!;
        var container = job.Properties["template"]!["containers"]!.AsArray().Single()!;
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => e!);

        Assert.Null(configuration["secrets"]);
        Assert.Equal("UserAssigned", (string?)job.Node["identity"]!["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)configuration["registries"]![0]!["identity"]);
        Assert.Null(configuration["registries"]![0]!["passwordSecretRef"]);
        Assert.All(env.Values, e => Assert.Null(e["secretRef"]));
        Assert.Equal("[parameters('identityClientId')]", (string?)env["AZURE_CLIENT_ID"]["value"]);
        Assert.Equal("cuda", (string?)env["CTSCAN_DEVICE"]["value"]);
        Assert.Equal(["ctscan"], container["command"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("[concat(createArray('train', '--from-storage', '--account-url', parameters('storageAccountUrl')), parameters('trainingArgs'))]",
            (string?)container["args"]);
        Assert.Equal("[format('https://{0}.blob.{1}', variables('names').storage, environment().suffixes.storage)]",
            (string?)Template.ModuleParameters("training")["storageAccountUrl"]!["value"]);
    }

    [Fact]
    public void Registry_AdminUserOff_Basic()
    {
        var registry = Template.Single("Microsoft.ContainerRegistry/registries").Node;

        Assert.False((bool)registry["properties"]!["adminUserEnabled"]!);
        Assert.Equal("Basic", (string?)registry["sku"]!["name"]);
    }

    [Fact]
    public void SystemTopic_IsOnTheStorageAccount()
    {
        var topic = Template.Single("Microsoft.EventGrid/systemTopics").Properties;

        Assert.Equal("Microsoft.Storage.StorageAccounts", (string?)topic["topicType"]);
        Assert.Contains("Microsoft.Storage/storageAccounts", (string?)topic["source"]);
    }

    [Fact]
    public void EventSubscription_DeliversBlobCreatedInScans_ToTheBlobExtensionWebhook_OnlyWhenAskedFor()
    {
        var subscription = Template.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions");
        var module = Template.Module("eventSubscription");
        var filter = subscription.Properties["filter"]!;
        var destination = subscription.Properties["destination"]!;

        Assert.Equal("[parameters('deployEventSubscription')]", (string?)module["condition"]);
        Assert.False(Template.DefaultOf("deployEventSubscription")!.GetValue<bool>());
        Assert.Equal(["Microsoft.Storage.BlobCreated"], filter["includedEventTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("[format('/blobServices/default/containers/{0}/', parameters('containerName'))]", (string?)filter["subjectBeginsWith"]);
        Assert.Equal("[variables('containers').scans]", (string?)Template.ModuleParameters("eventSubscription")["containerName"]!["value"]);
        Assert.Equal("WebHook", (string?)destination["endpointType"]);
        var url = (string)destination["properties"]!["endpointUrl"]!;
        Assert.Contains("/runtime/webhooks/blobs?functionName=Host.Functions.{1}&code={2}", url);
        Assert.Contains("systemKeys.blobs_extension", url);
    }

    [Fact]
    public void EventSubscription_DeadLettersToItsOwnContainer_AsTheTopicsIdentity_AfterAnExplicitRetryPolicy()
    {
        // Finding 4: without a dead-letter destination an undeliverable BlobCreated event loses the scan silently.
        var subscription = Template.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions").Properties;
        var deadLetter = subscription["deadLetterWithResourceIdentity"]!;
        var retry = subscription["retryPolicy"]!;
        var parameters = Template.ModuleParameters("eventSubscription");

        Assert.Equal("SystemAssigned", (string?)deadLetter["identity"]!["type"]);
        Assert.Equal("StorageBlob", (string?)deadLetter["deadLetterDestination"]!["endpointType"]);
        Assert.Equal("[parameters('deadLetterContainerName')]", (string?)deadLetter["deadLetterDestination"]!["properties"]!["blobContainerName"]);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]",
            (string?)deadLetter["deadLetterDestination"]!["properties"]!["resourceId"]);
        Assert.Equal("[variables('containers').deadLetter]", (string?)parameters["deadLetterContainerName"]!["value"]);
        Assert.Equal(CtScan.Pipeline.StorageAccessMap.EventGridDeadLetterContainer, (string?)Template.Root["variables"]!["containers"]!["deadLetter"]);
        Assert.Null(subscription["deadLetterDestination"]); // the key-based form would need shared keys, which are off
        Assert.Equal(30, retry["maxDeliveryAttempts"]!.GetValue<int>());
        Assert.Equal(1440, retry["eventTimeToLiveInMinutes"]!.GetValue<int>());
    }

    [Fact]
    public void SystemTopic_HasTheIdentityThatWritesDeadLetters()
    {
        var topic = Template.Single("Microsoft.EventGrid/systemTopics").Node;

        Assert.Equal("SystemAssigned", (string?)topic["identity"]!["type"]);
        Assert.Equal("[variables('names').systemTopic]", (string?)Template.ModuleParameters("roles")["systemTopicName"]!["value"]);
    }

    [Fact]
    public void Job_Image_IsTheDigestParameter_CheckedBeforeTheJobIsCreated()
    {
        // Finding 6: `ctscan-train:latest` could be replaced under the job; a digest cannot.
        var container = Template.Single("Microsoft.App/jobs").Properties["template"]!["containers"]!.AsArray().Single()!;
        var image = (string)container["image"]!;

        Assert.Equal("[parameters('trainingImage')]", (string?)Template.ModuleParameters("training")["image"]!["value"]);
        Assert.Equal("", (string?)Template.DefaultOf("trainingImage"));
        // The parameters file must not pin a tag that the check would refuse.
        var file = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!;
        Assert.Null(file["parameters"]!["trainingImage"]);
        Assert.StartsWith("[if(variables('imageIsPinned'), parameters('image'), fail(", image);
        var imageIsPinned = (string)Template.Single("Microsoft.App/jobs").Template["variables"]!["imageIsPinned"]!;
        Assert.Contains("__bicep.isImageDigestReference(parameters('image'))", imageIsPinned);
        Assert.Contains("startsWith(parameters('image'), format('{0}/', parameters('registryLoginServer')))", imageIsPinned);
    }
}
