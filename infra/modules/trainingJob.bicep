// A Container Apps environment with a serverless GPU workload profile, and the scheduled training job that runs
// `ctscan train --from-storage` on it. The job pulls its image and reaches storage as the training identity; it holds
// no secrets.

import { isImageDigestReference } from 'imageReference.bicep'

param environmentName string
param jobName string
param location string
param tags object
param logAnalyticsName string

@description('Serverless GPU for training: T4 (Consumption-GPU-NC8as-T4) or A100 (Consumption-GPU-NC24-A100).')
@allowed([
  'T4'
  'A100'
])
param gpuProfile string

@description('Create the job (false until the training image has been pushed to the registry).')
param deployJob bool

param identityId string
param identityClientId string
param registryLoginServer string

@description('Image pinned by digest: <registryLoginServer>/<repository>@sha256:<64 hex>.')
param image string

@description('Cron expression (UTC) of the training schedule.')
param cronExpression string

@description('Seconds one training run may take before it is stopped.')
param replicaTimeout int

@description('Blob endpoint without a trailing slash: https://<account>.blob.core.windows.net.')
param storageAccountUrl string
param trainingArgs string[]

@description('Subnet of the environment (delegated to Microsoft.App/environments); empty: the platform\'s network.')
param subnetId string

var gpuProfiles = {
  T4: {
    type: 'Consumption-GPU-NC8as-T4'
    cpu: 8
    memory: '56Gi'
  }
  A100: {
    type: 'Consumption-GPU-NC24-A100'
    cpu: 24
    memory: '220Gi'
  }
}
var gpu = gpuProfiles[gpuProfile]

// A tag can be moved to other content; a digest cannot. Refuse anything else before the job is created.
var imageIsPinned = isImageDigestReference(image) && startsWith(image, '${registryLoginServer}/')
var gpuProfileName = 'gpu'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    vnetConfiguration: empty(subnetId)
      ? null
      : {
          infrastructureSubnetId: subnetId
          internal: false
        }
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      {
        name: gpuProfileName
        workloadProfileType: gpu.type
      }
    ]
  }
}

resource job 'Microsoft.App/jobs@2024-03-01' = if (deployJob) {
  name: jobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: gpuProfileName
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: replicaTimeout
      replicaRetryLimit: 0
      scheduleTriggerConfig: {
        cronExpression: cronExpression
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'train'
          image: imageIsPinned
            ? image
            : fail('trainingImage must be ${registryLoginServer}/<repository>@sha256:<64 lowercase hex> (this deployment\'s registry, pinned by digest); got \'${image}\'')
          command: [
            'ctscan'
          ]
          args: concat(
            [
              'train'
              '--from-storage'
              '--account-url'
              storageAccountUrl
            ],
            trainingArgs
          )
          env: [
            {
              // DefaultAzureCredential picks the user-assigned identity by this client ID.
              name: 'AZURE_CLIENT_ID'
              value: identityClientId
            }
            {
              name: 'CTSCAN_DEVICE'
              value: 'cuda'
            }
            {
              name: 'NVIDIA_VISIBLE_DEVICES'
              value: 'all'
            }
          ]
          resources: {
            cpu: gpu.cpu
            memory: gpu.memory
          }
        }
      ]
    }
  }
}

output environmentName string = environment.name
output jobName string = deployJob ? job.name : ''
output gpuWorkloadProfileType string = gpu.type
