// Row 8's hand-written anchor: a GET of a range inside the session with the
// two headers, a status check, the body read as JSON.
export function setup({ baseUrl, accessToken, path }) {
  const authorization = `Bearer ${accessToken}`;
  return async (workbook, sessionId) => {
    const r = await fetch(`${baseUrl}${workbook}/workbook${path}`, {
      headers: { authorization, "workbook-session-id": sessionId },
    });
    if (r.status !== 200) throw new Error(`GET range answered ${r.status}`);
    return r.json();
  };
}
