// The hand-written anchor: one fetch, the two headers, a status check.
export function setup({ baseUrl, accessToken }) {
  const authorization = `Bearer ${accessToken}`;
  return async (workbook, sessionId) => {
    const r = await fetch(`${baseUrl}${workbook}/workbook/refreshSession`, {
      method: "POST",
      headers: { authorization, "workbook-session-id": sessionId },
    });
    if (r.status !== 204) throw new Error(`refreshSession answered ${r.status}`);
    return r.status;
  };
}
