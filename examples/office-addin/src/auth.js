// Microsoft Graph tokens for the task pane through MSAL nested app
// authentication (NAA): Office brokers the sign-in of the user who is
// already signed in to Office; no server, no On-Behalf-Of flow.
import { createNestablePublicClientApplication, InteractionRequiredAuthError } from "@azure/msal-browser";

/**
 * `getToken`: graph-workbook-session's `accessToken` option, a function
 * called before every Graph request, keep-alive's timer included. Silent
 * only: a popup opened from a timer is blocked. When MSAL needs the user
 * (consent, a sign-in that expired) it throws InteractionRequiredAuthError,
 * which reaches keep-alive's onError as the GraphError's `cause`.
 *
 * `signIn`: the interactive part, for a button's click handler (a user
 * gesture), where the popup is allowed.
 */
export function msalTokenProvider({ clientId, scopes }) {
  const pca = createNestablePublicClientApplication({
    auth: { clientId, authority: "https://login.microsoftonline.com/common" },
  });
  return {
    getToken: async () => (await (await pca).acquireTokenSilent({ scopes })).accessToken,
    signIn: async () => {
      await (await pca).acquireTokenPopup({ scopes });
    },
  };
}

/** True for an error (or a GraphError whose cause is one) that only the user can resolve. */
export function needsUser(e) {
  return e instanceof InteractionRequiredAuthError || e?.cause instanceof InteractionRequiredAuthError;
}
