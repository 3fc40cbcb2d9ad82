// workerd (Miniflare): the scenario per request, its result as JSON.
import { scenario } from "./scenario.mjs";

export default {
  async fetch() {
    try {
      return Response.json(await scenario());
    } catch (e) {
      return Response.json({ error: String(e && e.stack ? e.stack : e) }, { status: 500 });
    }
  },
};
