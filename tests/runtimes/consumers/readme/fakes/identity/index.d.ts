// The declarations of @azure/identity (4.x) and @azure/core-auth that a
// README block touches, as those packages write them: OnBehalfOfCredential's
// getToken takes `string | string[]` and core-auth's GetTokenOptions
// (abortSignal is an AbortSignalLike); its options take a secret or a
// certificate with the caller's token (userAssertionToken).
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
export interface MultiTenantTokenCredentialOptions {
  additionallyAllowedTenants?: string[];
  authorityHost?: string;
}
export interface OnBehalfOfCredentialSecretOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  userAssertionToken: string;
}
export interface OnBehalfOfCredentialCertificateOptions {
  tenantId: string;
  clientId: string;
  certificatePath: string;
  userAssertionToken: string;
  sendCertificateChain?: boolean;
}
export declare class OnBehalfOfCredential implements TokenCredential {
  constructor(options: OnBehalfOfCredentialSecretOptions & MultiTenantTokenCredentialOptions);
  constructor(options: OnBehalfOfCredentialCertificateOptions & MultiTenantTokenCredentialOptions);
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
}
