// Delivers Microsoft.Storage.BlobCreated events for the scans container to the blob extension's webhook, which is
// what a [BlobTrigger(Source = BlobTriggerSource.EventGrid)] listens on. The webhook's key (the blobs_extension system
// key) exists only once the app's code is deployed and the host has started, so this module runs in the second
// deployment (deployEventSubscription = true). The key is read at deployment time and never leaves ARM.

param systemTopicName string
param functionAppName string

@description('Name of the function (the method\'s [Function] name) with the Event Grid-sourced blob trigger.')
param blobTriggerFunctionName string

@description('Container whose new blobs are delivered.')
param containerName string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

var blobsExtensionKey = listKeys('${functionApp.id}/host/default', '2024-04-01').systemKeys.blobs_extension

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: '${containerName}-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${blobTriggerFunctionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output name string = subscription.name
