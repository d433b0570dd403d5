// `npm run demo`: the main job end to end on this machine — a simulated scholarly web on loopback,
// `queue import`, `queue run --drain`, `report` — on the embedded SQLite queue.
// The runner and the simulated web are not part of this build yet, so this says so and fails.
process.stderr.write(
  [
    "npm run demo: not available in this build yet.",
    "It will start a simulated scholarly web on 127.0.0.1, import a list of works into ./state,",
    "run the queue until it drains and print the report. Until then, try:",
    "  dist/docstokg --help",
    "  dist/docstokg config print",
    "",
  ].join("\n"),
);
process.exit(1);
