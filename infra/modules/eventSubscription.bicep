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

@description('The storage account of the dead-letter container.')
param storageAccountName string

@description('Where events that could not be delivered go (the Functions app\'s timer sweep replays them).')
param deadLetterContainerName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

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
    // Explicit rather than the platform default: up to 30 attempts over a day (Event Grid backs off exponentially,
    // up to an hour between attempts), then the event is dead-lettered, never dropped.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // An undeliverable event (app down past the retry window, key rotated, 4xx from the webhook) lands here as JSON;
    // the topic writes it with its own identity because the account takes no shared keys.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output name string = subscription.name
