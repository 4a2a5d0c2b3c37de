// Every role assignment of the deployment, each at the narrowest scope that works. The storage grants implement the
// access map in src/CtScan.Pipeline/StorageAccessMap.cs (docs/access.md shows it); tests/CtScan.Infra.Tests compares
// this module, compiled, against that map: change both together.
// Role definition IDs are built-in roles (the same GUID in every tenant):
//   2a2b9908-6ea1-4ae2-8e65-a410df84e7d1  Storage Blob Data Reader
//   ba92f5b4-2d11-453d-a403-e96b0029c9fe  Storage Blob Data Contributor
//   974c5e8b-45b9-4653-ba55-5f855dd0fb88  Storage Queue Data Contributor
//   3913510d-42f4-4e42-8a64-420c390055eb  Monitoring Metrics Publisher
//   7f951dda-4ed3-4680-a7ca-43fe172d538d  AcrPull
// plus one custom role, the scan writer (create blobs; no read, list or delete), for uploaders.

param functionIdentityName string
param trainingIdentityName string
param storageAccountName string
param appInsightsName string
param registryName string

@description('The Event Grid system topic on the account: its identity writes dead-lettered events.')
param systemTopicName string

@description('Container names: the pipeline\'s (scans, tensors, results, models, training), deadLetter, deployment, hosts, secrets.')
param containerNames object

@description('Principals (users, groups, service principals) that upload scans: they get the scan writer role on scans only.')
param uploaderPrincipalIds string[]

@description('Principals that read results: Storage Blob Data Reader on results only.')
param resultReaderPrincipalIds string[]

@description('Principals that administer models and training data: Storage Blob Data Contributor on models and training.')
param adminPrincipalIds string[]

@description('Whether the results viewer is deployed (its identity reads results and scans).')
param deployViewer bool

param viewerIdentityName string

var roleIds = {
  blobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: functionIdentityName
}

resource trainingIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: trainingIdentityName
}

resource viewerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = if (deployViewer) {
  name: viewerIdentityName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource scans 'containers' existing = {
      name: containerNames.scans
    }

    resource tensors 'containers' existing = {
      name: containerNames.tensors
    }

    resource results 'containers' existing = {
      name: containerNames.results
    }

    resource models 'containers' existing = {
      name: containerNames.models
    }

    resource training 'containers' existing = {
      name: containerNames.training
    }

    resource deadLetter 'containers' existing = {
      name: containerNames.deadLetter
    }

    resource deployment 'containers' existing = {
      name: containerNames.deployment
    }

    resource hosts 'containers' existing = {
      name: containerNames.hosts
    }

    resource secrets 'containers' existing = {
      name: containerNames.secrets
    }
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

// Uploaders must not read, list or delete anyone's scans (they may identify patients), so no built-in role fits:
// this role creates blobs and nothing else. Assignable in this resource group only.
resource scanWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'ctscan-scan-writer')
  properties: {
    // Role names are unique per tenant: the group's name for people, its ID's hash for uniqueness.
    roleName: 'CtScan scan writer (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Create blobs in a container it is assigned on; no read, list or delete.'
    type: 'CustomRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
        ]
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

// ---- Functions app: the pipeline's handlers ----

resource functionScansReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::scans.id, functionIdentity.id, roleIds.blobDataReader)
  scope: storage::blobService::scans
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: blob trigger reads new scans; the pending-scan sweep lists them'
  }
}

resource functionTensorsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::tensors.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::tensors
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: writes and reads the tensor cache'
  }
}

resource functionResultsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::results.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::results
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: writes results'
  }
}

// Read only: the app serves models and never writes the registry.
resource functionModelsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::models.id, functionIdentity.id, roleIds.blobDataReader)
  scope: storage::blobService::models
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: reads models/current.json and the serving version'
  }
}

resource functionDeadLetterContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetter.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: replays dead-lettered events and deletes them'
  }
}

// ---- Functions app: the host itself ----
// Contributor, not the Owner the Functions docs list: on an account without hierarchical namespace Owner adds only
// ACL actions, which do not apply.

resource functionHostsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::hosts.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::hosts
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions host: locks, blob-trigger receipts, timer status'
  }
}

resource functionSecretsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::secrets.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::secrets
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions host: function and system keys'
  }
}

resource functionDeploymentContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deployment.id, functionIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::deployment
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: Flex Consumption deployment package'
  }
}

// Account scope, queue data only: the host creates and manages queues it names at run time (poison queues, the blob
// trigger's azure-webjobs-blobtrigger-<host id>), which a queue-scoped assignment made at deployment cannot cover.
resource functionQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentity.id, roleIds.queueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.queueDataContributor)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: score-requests trigger and output, poison queues, host queues'
  }
}

// Application Insights with local auth disabled accepts telemetry only from this role.
resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionIdentity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: functionIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'functions: telemetry to Application Insights (local auth disabled)'
  }
}

// ---- Training job ----

resource trainingDataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::training.id, trainingIdentity.id, roleIds.blobDataReader)
  scope: storage::blobService::training
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: mirrors the labelled scans'
  }
}

// train --from-storage seeds its cache from the pipeline's tensors: without this every run ends in 403.
resource trainingTensorsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::tensors.id, trainingIdentity.id, roleIds.blobDataReader)
  scope: storage::blobService::tensors
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: reads the tensor cache'
  }
}

resource trainingModelsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::models.id, trainingIdentity.id, roleIds.blobDataContributor)
  scope: storage::blobService::models
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: publishes model versions and run reports, replaces models/current.json'
  }
}

resource trainingAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, trainingIdentity.id, roleIds.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: trainingIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'training: image pull'
  }
}

// ---- Event Grid: dead letters (the account takes no shared keys, so the topic writes as its own identity) ----

resource eventGridDeadLetterContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetter.id, systemTopic.id, roleIds.blobDataContributor)
  scope: storage::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'event grid: writes undeliverable BlobCreated events'
  }
}

// ---- Results viewer (deployViewer): reads only, and only the two containers the page shows ----

resource viewerResultsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployViewer) {
  name: guid(storage::blobService::results.id, viewerIdentityName, roleIds.blobDataReader)
  scope: storage::blobService::results
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: viewerIdentity!.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'viewer: lists and reads results, saliency maps and montages'
  }
}

resource viewerScansReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployViewer) {
  name: guid(storage::blobService::scans.id, viewerIdentityName, roleIds.blobDataReader)
  scope: storage::blobService::scans
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
    principalId: viewerIdentity!.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'viewer: reads the scan a user opens, for NiiVue'
  }
}

// ---- People and systems outside the deployment (principal type left for ARM to look up: users, groups or apps) ----

resource uploaderScanWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in uploaderPrincipalIds: {
    name: guid(storage::blobService::scans.id, principalId, scanWriterRole.id)
    scope: storage::blobService::scans
    properties: {
      roleDefinitionId: scanWriterRole.id
      principalId: principalId
      description: 'uploader: writes scans'
    }
  }
]

resource resultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in resultReaderPrincipalIds: {
    name: guid(storage::blobService::results.id, principalId, roleIds.blobDataReader)
    scope: storage::blobService::results
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataReader)
      principalId: principalId
      description: 'result reader: reads results'
    }
  }
]

resource adminModelsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in adminPrincipalIds: {
    name: guid(storage::blobService::models.id, principalId, roleIds.blobDataContributor)
    scope: storage::blobService::models
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
      principalId: principalId
      description: 'admin: publishes, promotes and rolls back models'
    }
  }
]

resource adminTrainingContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in adminPrincipalIds: {
    name: guid(storage::blobService::training.id, principalId, roleIds.blobDataContributor)
    scope: storage::blobService::training
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobDataContributor)
      principalId: principalId
      description: 'admin: curates training data'
    }
  }
]
