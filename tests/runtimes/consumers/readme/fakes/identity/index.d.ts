// The declarations of @azure/identity (4.x) and @azure/core-auth that a
// README block touches, as those packages write them: DefaultAzureCredential
// is a ChainedTokenCredential whose getToken takes `string | string[]` and
// core-auth's GetTokenOptions (abortSignal is an AbortSignalLike).
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: any;
  addEventListener(type: "abort", listener: (this: AbortSignalLike, ev: any) => any, options?: any): void;
  removeEventListener(type: "abort", listener: (this: AbortSignalLike, ev: any) => any, options?: any): void;
}
export interface GetTokenOptions {
  abortSignal?: AbortSignalLike;
  requestOptions?: { timeout?: number };
  tracingOptions?: { tracingContext?: unknown };
  claims?: string;
  enableCae?: boolean;
  tenantId?: string;
}
export interface AccessToken {
  token: string;
  expiresOnTimestamp: number;
  refreshAfterTimestamp?: number;
  tokenType?: "Bearer" | "pop";
}
export interface TokenCredential {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>;
}
export interface DefaultAzureCredentialOptions {
  tenantId?: string;
  managedIdentityClientId?: string;
}
export declare class ChainedTokenCredential implements TokenCredential {
  constructor(...sources: TokenCredential[]);
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
}
export declare class DefaultAzureCredential extends ChainedTokenCredential {
  constructor(options?: DefaultAzureCredentialOptions);
}
