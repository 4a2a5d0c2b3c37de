// Every role assignment of the deployment, one per line of need, each at the narrowest scope that works.
// Role definition IDs are built-in roles (the same GUID in every tenant):
//   b7e6dc6d-f1e8-4753-8033-0f276bb0955b  Storage Blob Data Owner
//   ba92f5b4-2d11-453d-a403-e96b0029c9fe  Storage Blob Data Contributor
//   974c5e8b-45b9-4653-ba55-5f855dd0fb88  Storage Queue Data Contributor
//   3913510d-42f4-4e42-8a64-420c390055eb  Monitoring Metrics Publisher
//   7f951dda-4ed3-4680-a7ca-43fe172d538d  AcrPull
// tests/CtScan.Infra.Tests asserts this exact set per identity: change both together.

param functionIdentityName string
param trainingIdentityName string
param storageAccountName string
param appInsightsName string
param registryName string

@description('Container the training job reads labelled scans from.')
param trainingContainerName string

@description('Container the training job publishes model versions to.')
param modelsContainerName string

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: functionIdentityName
}

resource trainingIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: trainingIdentityName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource trainingContainer 'containers' existing = {
      name: trainingContainerName
    }

    resource modelsContainer 'containers' existing = {
      name: modelsContainerName
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

// Functions app. Blob Data Owner (not Contributor) on the account: the Functions host with an identity-based
// AzureWebJobsStorage needs it (host locks, keys and blob-trigger receipts in azure-webjobs-* containers), and the
// blob trigger documents Owner as its requirement. It also covers the deployment package container.
resource functionBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentity.id, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: host storage, blob trigger on scans, tensors and results, model reads'
  }
}

// Functions app. Queue Data Contributor covers the queue trigger (read, update, delete = Message Processor), the queue
// output (add = Message Sender) and the poison queues the host writes to; Processor + Sender alone would not let the
// blob trigger's poison handling and the host's queue management through.
resource functionQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentity.id, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: score-requests queue trigger and output, poison queues'
  }
}

// Functions app. Application Insights with local auth disabled accepts telemetry only from this role.
resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionIdentity.id, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: telemetry to Application Insights (local auth disabled)'
  }
}

// Training job: reads labelled data from the training container only.
resource trainingDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::trainingContainer.id, trainingIdentity.id, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  scope: storage::blobService::trainingContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: labelled scans (and any cache it keeps beside them)'
  }
}

// Training job: publishes models/<version>/ and replaces models/current.json (conditional write).
resource trainingModelsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::modelsContainer.id, trainingIdentity.id, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  scope: storage::blobService::modelsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: model registry'
  }
}

// Training job: pulls its image.
resource trainingAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, trainingIdentity.id, '7f951dda-4ed3-4680-a7ca-43fe172d538d')
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538d')
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: image pull'
  }
}
