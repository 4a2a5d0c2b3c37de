// The Functions app on the Flex Consumption plan (FC1, Linux). Every storage access (the host's AzureWebJobsStorage,
// the triggers, the deployment package) goes through the user-assigned identity: no connection string, no key.

param planName string
param appName string
param location string
param tags object

@description('Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Client ID of that identity (AzureWebJobsStorage__clientId, App Insights authentication).')
param identityClientId string

param storageAccountName string

@description('Container the Flex plan deploys the app package from.')
param deploymentContainerName string

param appInsightsName string

@description('Functions runtime stack version for dotnet-isolated.')
param runtimeVersion string

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@allowed([
  2048
  4096
])
param instanceMemoryMB int

// The memory one scan's preprocessing may take (CtScan__ScanMemoryBudgetBytes; docs/deployment.md, "Memory per scan"):
// what an instance has left after the Functions host and the OS (512 MiB) and the worker's runtime, model session and
// one inference (1024 MiB, docs/operations.md), shared by the scans one instance preprocesses at once (host.json
// blobs.maxDegreeOfParallelism: 2). A 512x512x300 int16 chest CT stored RAS is estimated at about 210 MB.
var scanMemoryBudgetMiB = {
  '2048': 256
  '4096': 1280
}

@description('Subnet the app integrates with (delegated to Microsoft.App/environments); empty: no VNet integration.')
param subnetId string

@description('Log scan names; when false the pipeline logs content hashes and the host\'s per-invocation lines (they name the blob) are dropped.')
param logScanNames bool

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // With private networking all outbound traffic (storage included) leaves through this subnet.
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      // Flex Consumption takes the worker runtime and version from functionAppConfig; FUNCTIONS_WORKER_RUNTIME and
      // FUNCTIONS_EXTENSION_VERSION must not be set here.
      appSettings: [
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: storage.properties.primaryEndpoints.queue
        }
        {
          // Per scan, so that the scans preprocessed at once and the model fit the instance; over it a scan is refused
          // as too-large before anything is allocated.
          name: 'CtScan__ScanMemoryBudgetBytes'
          value: string(scanMemoryBudgetMiB[string(instanceMemoryMB)] * 1048576)
        }
        {
          // One inference at a time per instance, of one scan: each inference already uses every core, and each scan in
          // it holds ~250 MB of activations, which the instance's memory plan leaves room for once (docs/operations.md,
          // "Memory budget of the scoring app"; batches measured no cheaper per scan on CPU).
          name: 'CtScan__MaxConcurrentInferences'
          value: '1'
        }
        {
          name: 'CtScan__MaxInferenceBatch'
          value: '1'
        }
        {
          // ONNX Runtime's threads sleep between operators instead of spinning: preprocessing shares the cores.
          name: 'CtScan__OnnxSpinning'
          value: 'false'
        }
        {
          // With one inference of one scan at a time, ONNX Runtime's arena keeps that inference's activations for the
          // next (counted once in the memory plan) instead of the kernel zeroing ~300 MB afresh for every scan.
          name: 'CtScan__OnnxArena'
          value: 'true'
        }
        {
          // Scan names may identify patients: by default the pipeline's logs name scans by content hash.
          name: 'CtScan__LogScanNames'
          value: string(logScanNames)
        }
        {
          // The host logs "Executing 'Functions.PreprocessScan' (Reason='New blob detected: scans/<name>')" at
          // Information in the Function.<name> categories; Warning keeps failures and drops those lines.
          name: 'AzureFunctionsJobHost__logging__logLevel__Function'
          value: logScanNames ? 'Information' : 'Warning'
        }
        {
          // Not a secret: with DisableLocalAuth the component only accepts Entra-authenticated telemetry.
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
      ]
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
