// The results viewer (src/CtScan.Viewer) as its own Linux App Service, behind App Service Authentication with
// Microsoft Entra ID: an anonymous request never reaches the app. The app reads storage as its user-assigned identity
// (Storage Blob Data Reader on results and scans only, infra/modules/roles.bicep); the browser gets no key, no SAS,
// no connection string. Why this and not the Functions app or a Static Web App: docs/viewer.md.

param planName string
param appName string
param location string
param tags object

@description('Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Client ID of that identity (the app signs in to storage with it).')
param identityClientId string

@description('Blob endpoint of the pipeline\'s storage account.')
param blobEndpoint string

@description('Application (client) ID of the Entra ID app registration users sign in through.')
param clientId string

@description('App Service plan SKU (B1 is the smallest that runs always-on .NET; F1 stops when idle).')
param sku string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: sku
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      linuxFxVersion: 'DOTNETCORE|10.0'
      appCommandLine: 'dotnet CtScan.Viewer.dll'
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      alwaysOn: sku != 'F1'
      appSettings: [
        // PipelineOptions.FromSettings(…, "CtScanStorage"): identity-based, like the Functions app's AzureWebJobsStorage.
        {
          name: 'CtScanStorage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'CtScanStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'CtScanStorage__clientId'
          value: identityClientId
        }
        // The identity only reads: the page hides its upload.
        {
          name: 'CtScan__ViewerAllowUpload'
          value: 'false'
        }
      ]
    }
  }
}

// Deployment by `az webapp deploy` with Entra sign-in only: no FTP or basic-auth publishing credentials exist.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service Authentication: every request signs in with Entra ID of this tenant first; the app never sees an
// anonymous one. No client secret: the registration issues ID tokens to the app's /.auth/login/aad/callback.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${clientId}'
            clientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
