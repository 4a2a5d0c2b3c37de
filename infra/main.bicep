// CtFunctions in one resource group: storage (scans → tensors → results, models, training), the Functions app on
// Flex Consumption, Event Grid delivery of new scans to the blob trigger, Application Insights, and the scheduled
// GPU training job on Container Apps. Who may touch which container and queue: docs/access.md. Deployment order
// (docs/deployment.md):
//   1. this template with the defaults        → everything but the event subscription and the training job
//   2. publish the function code, `az acr build` the training image
//   3. this template again with deployEventSubscription=true deployTrainingJob=true
targetScope = 'resourceGroup'

@description('Region of every resource (Flex Consumption and serverless GPUs are offered in a subset of regions).')
param location string = resourceGroup().location

@description('Prefix of resource names.')
@minLength(2)
@maxLength(10)
param baseName string = 'ctfunc'

@description('Tags applied to every resource.')
param tags object = {
  application: 'CtFunctions'
}

@description('dotnet-isolated version on Flex Consumption. 10.0 needs the platform to list it (az functionapp list-flexconsumption-runtimes); fall back to 9.0/8.0 only together with the project\'s TargetFramework.')
@allowed([
  '8.0'
  '9.0'
  '10.0'
])
param functionsRuntimeVersion string = '10.0'

@description('Most instances the Flex plan scales out to.')
@minValue(40)
@maxValue(1000)
param functionsMaximumInstanceCount int = 40

@description('Memory of one Flex instance: preprocessing holds a 512x512xN volume in float64 while rotating it.')
@allowed([
  512
  2048
  4096
])
param functionsInstanceMemoryMB int = 2048

@description('Name of the Event Grid-sourced blob-trigger function (its [Function] name).')
param blobTriggerFunctionName string = 'PreprocessScan'

@description('Second deployment only: subscribe the blob trigger to BlobCreated events (needs the code deployed).')
param deployEventSubscription bool = false

@description('Second deployment only: create the training job (needs the image in the registry).')
param deployTrainingJob bool = false

@description('Serverless GPU of the training job.')
@allowed([
  'T4'
  'A100'
])
param gpuProfile string = 'T4'

@description('When training runs: a cron expression in UTC (default: Sundays 03:00).')
param trainingSchedule string = '0 3 * * 0'

@description('Seconds one training run may take before Container Apps stops it.')
@minValue(600)
@maxValue(86400)
param trainingReplicaTimeout int = 21600

@description('The training image pinned by digest: <registry login server>/<repository>@sha256:<64 hex> (docs/deployment.md shows how to read it after `az acr build`). Required with deployTrainingJob; a tag is refused.')
param trainingImage string = ''

@description('Arguments appended to `ctscan train --from-storage --account-url <blob endpoint>`.')
param trainingArgs string[] = []

@description('Days deleted blobs and containers stay restorable.')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 14

@description('Days a model blob version stays immutable (version-level WORM on models; the policy is left unlocked, see docs/deployment.md).')
@minValue(1)
@maxValue(3650)
param modelImmutabilityDays int = 365

@description('Principal IDs (users, groups, apps) that upload scans: a write-only role on scans.')
param uploaderPrincipalIds string[] = []

@description('Principal IDs that read results: Storage Blob Data Reader on results.')
param resultReaderPrincipalIds string[] = []

@description('Principal IDs that administer models and training data: Storage Blob Data Contributor on models and training.')
param adminPrincipalIds string[] = []

@description('Log scan names (blob names may identify patients). Off: logs name scans by content hash, and the host\'s per-invocation lines (which carry the blob name) are not logged.')
param logScanNames bool = false

@description('Private networking: storage refuses public networks (private endpoints for blob and queue in a new virtual network, with their DNS zones), and the Functions app and the training job reach it through that network. Off by default; see docs/deployment.md for what changes.')
param privateNetworking bool = false

@description('Address space of the virtual network created when privateNetworking is on.')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Deploy the results viewer (docs/viewer.md): its own App Service behind Entra ID sign-in, reading results and scans as its own identity.')
param deployViewer bool = false

@description('With deployViewer: the application (client) ID of the Entra ID app registration users sign in through (docs/viewer.md shows how to make one).')
param viewerClientId string = ''

@description('App Service plan SKU of the viewer.')
@allowed([
  'F1'
  'B1'
  'B2'
  'P0v3'
])
param viewerSku string = 'B1'

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

var suffix = uniqueString(subscription().id, resourceGroup().id)
var compactBase = toLower(replace(baseName, '-', ''))
var names = {
  storage: take('st${compactBase}${suffix}', 24)
  registry: take('cr${compactBase}${suffix}', 50)
  logAnalytics: 'log-${baseName}-${suffix}'
  appInsights: 'appi-${baseName}-${suffix}'
  functionIdentity: 'id-${baseName}-func-${suffix}'
  trainingIdentity: 'id-${baseName}-train-${suffix}'
  viewerIdentity: 'id-${baseName}-view-${suffix}'
  viewerPlan: 'plan-${baseName}-view-${suffix}'
  viewerApp: 'app-${baseName}-view-${suffix}'
  plan: 'plan-${baseName}-${suffix}'
  functionApp: 'func-${baseName}-${suffix}'
  systemTopic: 'evgt-${baseName}-storage-${suffix}'
  containerAppsEnvironment: 'cae-${baseName}-${suffix}'
  trainingJob: take('caj-${baseName}-train-${suffix}', 32)
  vnet: 'vnet-${baseName}-${suffix}'
}

// The product's contracts (docs/contracts.md) plus the Flex plan's deployment package container.
var containers = {
  scans: 'scans'
  tensors: 'tensors'
  results: 'results'
  models: 'models'
  training: 'training'
  deadLetter: 'eventgrid-deadletter'
  deployment: 'app-package'
  hosts: 'azure-webjobs-hosts'
  secrets: 'azure-webjobs-secrets'
}
var queues = [
  'score-requests'
  'score-requests-poison'
  'webjobs-blobtrigger-poison'
]

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.functionIdentity
  location: location
  tags: tags
}

resource trainingIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.trainingIdentity
  location: location
  tags: tags
}

resource viewerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (deployViewer) {
  name: names.viewerIdentity
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionDays: logRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    softDeleteDays: softDeleteDays
    containerNames: map(items(containers), c => c.value)
    immutableContainerName: containers.models
    immutabilityDays: modelImmutabilityDays
    queueNames: queues
    logAnalyticsName: names.logAnalytics
    privateNetworking: privateNetworking
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  params: {
    vnetName: names.vnet
    location: location
    tags: tags
    storageAccountName: names.storage
    addressPrefix: vnetAddressPrefix
  }
  dependsOn: [
    storage
  ]
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: names.registry
    location: location
    tags: tags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    functionIdentityName: functionIdentity.name
    trainingIdentityName: trainingIdentity.name
    storageAccountName: names.storage
    appInsightsName: names.appInsights
    registryName: names.registry
    systemTopicName: systemTopic.name
    containerNames: containers
    uploaderPrincipalIds: uploaderPrincipalIds
    resultReaderPrincipalIds: resultReaderPrincipalIds
    adminPrincipalIds: adminPrincipalIds
    deployViewer: deployViewer
    viewerIdentityName: names.viewerIdentity
  }
  dependsOn: [
    storage
    monitoring
    registry
    viewerIdentity
  ]
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    identityId: functionIdentity.id
    identityClientId: functionIdentity.properties.clientId
    storageAccountName: names.storage
    deploymentContainerName: containers.deployment
    appInsightsName: names.appInsights
    runtimeVersion: functionsRuntimeVersion
    maximumInstanceCount: functionsMaximumInstanceCount
    instanceMemoryMB: functionsInstanceMemoryMB
    logScanNames: logScanNames
    subnetId: privateNetworking ? network!.outputs.functionsSubnetId : ''
  }
  // The host starts with the app and reads its storage at once: let the roles exist first.
  dependsOn: [
    roles
  ]
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: names.storage
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: names.systemTopic
  location: location
  tags: tags
  // Its own identity writes dead letters (the account takes no shared keys).
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storageAccount.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
  dependsOn: [
    storage
  ]
}

module viewer 'modules/viewer.bicep' = if (deployViewer) {
  name: 'viewer'
  params: {
    planName: names.viewerPlan
    appName: names.viewerApp
    location: location
    tags: tags
    identityId: viewerIdentity.id
    identityClientId: viewerIdentity!.properties.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    clientId: viewerClientId
    sku: viewerSku
  }
  // The app reads storage as soon as the first page loads.
  dependsOn: [
    roles
  ]
}

module eventSubscription 'modules/eventSubscription.bicep' = if (deployEventSubscription) {
  name: 'eventSubscription'
  params: {
    systemTopicName: systemTopic.name
    functionAppName: names.functionApp
    blobTriggerFunctionName: blobTriggerFunctionName
    containerName: containers.scans
    storageAccountName: names.storage
    deadLetterContainerName: containers.deadLetter
  }
  dependsOn: [
    functions
    roles
  ]
}

module training 'modules/trainingJob.bicep' = {
  name: 'training'
  params: {
    environmentName: names.containerAppsEnvironment
    jobName: names.trainingJob
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    gpuProfile: gpuProfile
    deployJob: deployTrainingJob
    identityId: trainingIdentity.id
    identityClientId: trainingIdentity.properties.clientId
    registryLoginServer: registry.outputs.loginServer
    image: trainingImage
    cronExpression: trainingSchedule
    replicaTimeout: trainingReplicaTimeout
    storageAccountUrl: 'https://${names.storage}.blob.${environment().suffixes.storage}'
    trainingArgs: trainingArgs
    subnetId: privateNetworking ? network!.outputs.trainingSubnetId : ''
  }
  // The workspace must exist, and AcrPull and the storage roles before the job's first pull.
  dependsOn: [
    monitoring
    roles
  ]
}

output resourceGroupName string = resourceGroup().name
output storageAccountName string = storage.outputs.name
output blobEndpoint string = storage.outputs.blobEndpoint
output queueEndpoint string = storage.outputs.queueEndpoint
output functionAppName string = functions.outputs.name
output functionAppHostName string = functions.outputs.defaultHostName
output registryName string = registry.outputs.name
output registryLoginServer string = registry.outputs.loginServer
output containerAppsEnvironmentName string = training.outputs.environmentName
output trainingJobName string = training.outputs.jobName
output gpuWorkloadProfileType string = training.outputs.gpuWorkloadProfileType
output functionIdentityPrincipalId string = functionIdentity.properties.principalId
output functionIdentityClientId string = functionIdentity.properties.clientId
output trainingIdentityPrincipalId string = trainingIdentity.properties.principalId
output trainingIdentityClientId string = trainingIdentity.properties.clientId
output applicationInsightsName string = monitoring.outputs.appInsightsName
output viewerHostName string = deployViewer ? viewer!.outputs.defaultHostName : ''
output viewerIdentityPrincipalId string = deployViewer ? viewerIdentity!.properties.principalId : ''
