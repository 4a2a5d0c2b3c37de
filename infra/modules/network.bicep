// Optional private networking (main.bicep: privateNetworking = true). The storage account's blob and queue endpoints
// get private endpoints in a virtual network, with the private DNS zones that make <account>.blob/.queue resolve to
// them inside it. The Functions app (Flex Consumption VNet integration) and the Container Apps environment of the
// training job each get a subnet delegated to Microsoft.App/environments, so both reach storage privately.

param vnetName string
param location string
param tags object
param storageAccountName string

@description('Address space of the virtual network; the three subnets are carved from its first /20.')
param addressPrefix string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

var subnets = {
  functions: cidrSubnet(addressPrefix, 24, 0)
  privateEndpoints: cidrSubnet(addressPrefix, 24, 1)
  // Container Apps environments with workload profiles need at least a /27; a /23 leaves room to scale.
  training: cidrSubnet(addressPrefix, 23, 1)
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'functions'
        properties: {
          addressPrefix: subnets.functions
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: subnets.privateEndpoints
        }
      }
      {
        name: 'training'
        properties: {
          addressPrefix: subnets.training
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

// One private endpoint and one DNS zone per storage service the system uses (blob, queue).
var services = [
  'blob'
  'queue'
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for service in services: {
    name: 'privatelink.${service}.${environment().suffixes.storage}'
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (service, i) in services: {
    parent: zones[i]
    name: '${vnetName}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for service in services: {
    name: 'pe-${storageAccountName}-${service}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'private-endpoints')
      }
      privateLinkServiceConnections: [
        {
          name: service
          properties: {
            privateLinkServiceId: storage.id
            groupIds: [
              service
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (service, i) in services: {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: service
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

output functionsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'functions')
output trainingSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'training')
