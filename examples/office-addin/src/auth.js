// Microsoft Graph tokens for the task pane through MSAL nested app
// authentication (NAA): Office brokers the sign-in of the user who is
// already signed in to Office; no server, no On-Behalf-Of flow.
import { createNestablePublicClientApplication, InteractionRequiredAuthError } from "@azure/msal-browser";

/**
 * A token provider for graph-workbook-session's `accessToken` option: a
 * function called before every Graph request. MSAL caches the token and
 * renews it silently; only when consent or sign-in is needed does it open a
 * popup (which must follow a user gesture in some hosts: call
 * `getToken()` once from a button click if the first silent call fails).
 */
export function msalTokenProvider({ clientId, scopes }) {
  let pca;
  return async function getToken() {
    pca ??= await createNestablePublicClientApplication({
      auth: { clientId, authority: "https://login.microsoftonline.com/common" },
    });
    try {
      return (await pca.acquireTokenSilent({ scopes })).accessToken;
    } catch (e) {
      if (!(e instanceof InteractionRequiredAuthError)) throw e;
      return (await pca.acquireTokenPopup({ scopes })).accessToken;
    }
  };
}
