// ky (https://github.com/sindresorhus/ky) doing the same call: one instance
// made once, one post per call (ky throws HTTPError on a non-2xx answer).
import ky from "ky";

export function setup({ baseUrl, accessToken }) {
  const api = ky.create({ prefixUrl: baseUrl, headers: { authorization: `Bearer ${accessToken}` } });
  return async (workbook, sessionId) => {
    const r = await api.post(`${workbook.slice(1)}/workbook/refreshSession`, {
      headers: { "workbook-session-id": sessionId },
    });
    return r.status;
  };
}
