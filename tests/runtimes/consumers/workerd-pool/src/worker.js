// SessionPool in workerd: per request, the pool scenario (three sessions on
// two workbooks kept alive through $batch, then closed); answers its JSON.
import { poolScenario } from "../pool-scenario.mjs";

export default {
  async fetch(request, env) {
    try {
      return Response.json(await poolScenario(env.GRAPH_BASE_URL, "workerd"));
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 500 });
    }
  },
};
