// Runs the README's @azure/identity block in Node without Microsoft Entra:
// an OnBehalfOfCredential that checks it was given the caller's token and
// records the scopes it is asked for.
export class OnBehalfOfCredential {
  constructor(options) {
    if (!options?.tenantId || !options?.clientId || !options?.userAssertionToken) {
      throw new Error("OnBehalfOfCredential: tenantId, clientId and userAssertionToken are required");
    }
    if (!options.clientSecret && !options.certificatePath) throw new Error("OnBehalfOfCredential: a secret or a certificate is required");
  }
  async getToken(scopes, options) {
    (globalThis.__readme ??= { scopes: [] }).scopes.push(scopes);
    if (options?.abortSignal?.aborted) throw new Error("aborted");
    return { token: "identity-token", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
  }
}
