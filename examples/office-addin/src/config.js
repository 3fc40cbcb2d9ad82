// The only values you set (see README.md, "What you configure").
export const config = {
  // Application (client) ID of your Entra app registration (SPA platform with
  // the redirect URI brk-multihub://<your add-in's domain>).
  clientId: "00000000-0000-0000-0000-000000000000",
  // Delegated Microsoft Graph permission for workbook sessions.
  scopes: ["Files.ReadWrite"],
  baseUrl: "https://graph.microsoft.com/v1.0",
  // Refresh every 3 minutes (a persistent session expires after ~5 idle minutes).
  intervalMs: 180_000,
};
