// Runs README blocks written for @azure/msal-browser in Node: the names they
// import, shaped like msal-browser's (they were compiled against its real
// types). The first silent call needs interaction, as on a first visit, so
// a block's InteractionRequiredAuthError branch runs too. A popup opens
// only in a click handler (runner.mjs's document: a user gesture), as in a
// browser: called from anywhere else (a keep-alive timer, a token function)
// it is recorded as such and fails as msal-browser's blocked popup does.
const seen = () => (globalThis.__readme ??= { msal: [] });
const calls = () => seen().msal;
const account = { homeAccountId: "readme.home", environment: "login.microsoftonline.com", tenantId: "readme", username: "user@example.com", localAccountId: "readme" };
let interactionNeeded = true;

export class InteractionRequiredAuthError extends Error {
  constructor(errorCode = "interaction_required") {
    super(errorCode);
    this.name = "InteractionRequiredAuthError";
    this.errorCode = errorCode;
  }
}

export class BrowserAuthError extends Error {
  constructor(errorCode) {
    super(errorCode);
    this.name = "BrowserAuthError";
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
    return this.active ?? null;
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
  acquireTokenPopup(request) {
    // Synchronous up to here, as msal-browser opens its window before any await.
    if (!seen().userGesture) {
      calls().push("acquireTokenPopup outside a user gesture");
      return Promise.reject(new BrowserAuthError("popup_window_error"));
    }
    calls().push("acquireTokenPopup");
    return (async () => {
      this.check(request);
      interactionNeeded = false;
      return { accessToken: "msal-token", account, scopes: request.scopes };
    })();
  }
  setActiveAccount(a) {
    this.active = a;
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
