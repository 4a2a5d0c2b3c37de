// The one storage account: the pipeline's containers and queues, the Functions host's own state, and the
// container the Flex Consumption plan deploys the app package from. Entra ID only (no shared keys).

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object

@description('Days a deleted blob or container can be restored.')
@minValue(1)
@maxValue(365)
param softDeleteDays int

@description('Blob containers to create.')
param containerNames string[]

@description('The container whose blob versions are immutable for immutabilityDays (the model registry).')
param immutableContainerName string

@minValue(1)
@maxValue(3650)
param immutabilityDays int

@description('Queues to create.')
param queueNames string[]

@description('Refuse public networks (private endpoints are added by modules/network.bicep).')
param privateNetworking bool

@description('Log Analytics workspace that receives the blob and queue audit logs (who read, wrote, deleted what).')
param logAnalyticsName string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Private networking: no public network reaches the account (default action Deny, no IP rules); only its private
    // endpoints and trusted Azure services acting as their own identity (Event Grid writing dead letters) get in.
    // publicNetworkAccess 'Disabled' would also shut out that trusted-service path, and undeliverable events with it.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Every overwrite keeps the previous version: models/current.json and each model can be traced and restored.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
      // Version-level WORM support on the model registry: with the policy below every model version (and every
      // version of current.json) is kept unchanged for immutabilityDays; new versions can still be written.
      immutableStorageWithVersioning: containerName == immutableContainerName
        ? {
            enabled: true
          }
        : null
    }
  }
]

// The default version-level policy of the registry container. Left unlocked: an administrator can still shorten or
// remove it while the deployment is being proven; lock it (az storage container immutability-policy lock) once done.
resource modelImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: containers[indexOf(containerNames, immutableContainerName)]
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: immutabilityDays
    allowProtectedAppendWrites: false
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

// The audit trail: every read, write and delete of a blob or a queue message, with the caller's identity.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
