// session.fetch in workerd: per request, create a session, write a range
// with PATCH, read it back with GET, close; answer what happened as JSON.
import { WorkbookSession } from "graph-workbook-session";

export default {
  async fetch(request, env) {
    const { workbook, persistChanges = true } = await request.json();
    const session = await WorkbookSession.create({
      workbook,
      persistChanges,
      accessToken: env.GRAPH_TOKEN,
      baseUrl: env.GRAPH_BASE_URL,
    });
    try {
      const range = "/worksheets('Sheet1')/range(address='A1:B1')";
      const patched = await session.fetch(range, { method: "PATCH", body: { values: [["from workerd", 14]] } });
      const read = await session.fetch(range);
      const refused = await session.fetch("https://elsewhere.example/v1.0/me").then(
        () => null,
        (e) => ({ name: e.name, code: e.code }),
      );
      return Response.json({
        sessionId: session.id,
        patchStatus: patched.status,
        getStatus: read.status,
        values: (await read.json()).values,
        refused,
        closed: (await session.close()).status,
      });
    } catch (e) {
      await session.close().catch(() => {});
      return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 500 });
    }
  },
};
