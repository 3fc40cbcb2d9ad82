import { defineConfig } from "vite";

// `npm run build` writes dist/ (taskpane.html + assets, the .wasm among
// them): host it over https at the URL in manifest.xml.
export default defineConfig({
  build: { rollupOptions: { input: { taskpane: "taskpane.html" } } },
  server: { port: 3000 },
});
