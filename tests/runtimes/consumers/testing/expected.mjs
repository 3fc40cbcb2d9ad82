// What consumers/testing/scenario.mjs must give in every runtime.
export const expected = {
  sheets: ["Sheet1"],
  range: [[42]],
  live: [{ id: true, item: "/me/drive/items/01TESTING", persistChanges: true }],
  throttled: { faultId: "string", status: 204, attempts: 2, waited: true },
  expired: true,
  gone: { instance: true, code: "notFound", status: 404, recreatable: true },
  requests: { refreshes: [429, 204, 404], faulted: 1 },
  afterReset: { sessions: 0, requests: 0 },
  held: true,
  missing: { code: "itemNotFound", innerCode: null, status: 404 },
  elsewhere: true,
  aborted: { name: "AbortError", soon: true },
};
