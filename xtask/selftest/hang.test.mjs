// The watchdog's self-test (`cargo xtask test watchdog-selftest`, never in
// the default run): a test that hangs on purpose, the way the browser
// runtime test hung in issue 19. Its server's close() waits on a client
// that never lets go (there, Chromium's connection; here, a request head
// that never ends, with the server's own timeouts off), and the test has
// no timeout, so only the watchdog can end it. It also starts a `sleep` in
// a process group of its own, as Playwright starts Chromium, so the
// watchdog's kill must reach past the layer's process group.
//
// XTASK_SELFTEST_PIDS names a file that gets the pids to check afterwards:
// the node:test runner, this file's process and the sleep.
import { test } from "node:test";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { once } from "node:events";

test("hangs on purpose: a server's close() waits on a client that never lets go", async () => {
  const sleeper = spawn("sleep", ["3600"], { detached: true, stdio: "ignore" });
  console.log(`hang self-test: runner ${process.ppid}, test file ${process.pid}, sleep ${sleeper.pid} (a group of its own)`);
  if (process.env.XTASK_SELFTEST_PIDS) {
    writeFileSync(process.env.XTASK_SELFTEST_PIDS, `${process.ppid} ${process.pid} ${sleeper.pid}\n`);
  }
  const server = createServer({ requestTimeout: 0, headersTimeout: 0 }, (_, res) => res.end("ok"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = connect(server.address().port, "127.0.0.1");
  await once(client, "connect");
  client.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  console.log("hang self-test: the client sent half a request head; server.close() now waits on it");
  await new Promise((closed) => server.close(closed));
  console.log("hang self-test: closed (it must not get here)");
});
