// Runs README blocks written for @azure/msal-browser in Node: the names they
// import, shaped like msal-browser's (they were compiled against its real
// types). The first silent call needs interaction, as after a consent
// change, so a block's InteractionRequiredAuthError branch runs too.
const calls = () => (globalThis.__readme ??= { msal: [] }).msal;
const account = { homeAccountId: "readme.home", environment: "login.microsoftonline.com", tenantId: "readme", username: "user@example.com", localAccountId: "readme" };
let interactionNeeded = true;

export class InteractionRequiredAuthError extends Error {
  constructor(errorCode = "interaction_required") {
    super(errorCode);
    this.name = "InteractionRequiredAuthError";
    this.errorCode = errorCode;
  }
}

class FakeClient {
  constructor(configuration) {
    if (!configuration?.auth?.clientId) throw new Error("msal fake: auth.clientId is required");
    this.ready = false;
  }
  async initialize() {
    this.ready = true;
  }
  getActiveAccount() {
    return null;
  }
  getAllAccounts() {
    return [account];
  }
  async acquireTokenSilent(request) {
    this.check(request);
    calls().push("acquireTokenSilent");
    if (interactionNeeded) throw new InteractionRequiredAuthError();
    return { accessToken: "msal-token", account, scopes: request.scopes };
  }
  async acquireTokenPopup(request) {
    this.check(request);
    calls().push("acquireTokenPopup");
    interactionNeeded = false;
    return { accessToken: "msal-token", account, scopes: request.scopes };
  }
  check(request) {
    if (!this.ready) throw new Error("msal fake: initialize() was not awaited (uninitialized_public_client_application)");
    if (!Array.isArray(request?.scopes) || request.scopes.length === 0) throw new Error("msal fake: scopes are required");
  }
}

export class PublicClientApplication extends FakeClient {}

export async function createNestablePublicClientApplication(configuration) {
  const client = new FakeClient(configuration);
  await client.initialize();
  return client;
}
