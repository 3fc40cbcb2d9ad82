// Test build of examples/office-addin: the real task pane and the harness.
// (A plain object: `vite` itself is not installed in the consumer project.)
export default {
  logLevel: "warn",
  build: { rollupOptions: { input: { taskpane: "taskpane.html", harness: "harness.html" } } },
};
