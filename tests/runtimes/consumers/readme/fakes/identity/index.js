// Runs the README's @azure/identity block in Node without Azure: a
// DefaultAzureCredential that records the scopes it is asked for.
export class ChainedTokenCredential {
  async getToken(scopes, options) {
    (globalThis.__readme ??= { scopes: [] }).scopes.push(scopes);
    if (options?.abortSignal?.aborted) throw new Error("aborted");
    return { token: "identity-token", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
  }
}
export class DefaultAzureCredential extends ChainedTokenCredential {}
