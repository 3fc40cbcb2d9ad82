// Row 8: ky doing the same GET: one instance made once, one get(...).json()
// per call (ky throws HTTPError on a non-2xx answer).
import ky from "ky";

export function setup({ baseUrl, accessToken, path }) {
  const api = ky.create({ prefixUrl: baseUrl, headers: { authorization: `Bearer ${accessToken}` } });
  return (workbook, sessionId) =>
    api.get(`${workbook.slice(1)}/workbook${path}`, { headers: { "workbook-session-id": sessionId } }).json();
}
