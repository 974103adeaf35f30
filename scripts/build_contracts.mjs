#!/usr/bin/env node
// Builds contracts/artifacts/VntraceRegistry.json from the Solidity sources under contracts/
// with the `solc` npm package (solcjs, standard-JSON API) and OpenZeppelin Contracts from
// node_modules. Running the node never needs Node.js: the artifact is committed.
//
//   node scripts/build_contracts.mjs           write the artifact
//   node scripts/build_contracts.mjs --check   rebuild in memory; exit 1 if the committed artifact
//                                              differs (stale bytecode/abi/sources), exit 2 on errors
//
// The output is deterministic: sorted keys, two-space JSON, no timestamps, and
// `metadata.bytecodeHash: "none"` so the bytecode depends on the code only, not on comments or
// paths. Source hashes are sha256 (Node's crypto and Python's hashlib agree on it, and the
// sourcesHash line format is that of `sha256sum`), so a Python test can detect a stale artifact
// without Node.js: see contracts/__init__.py.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const NODE_MODULES = join(ROOT, "node_modules");
const CONTRACTS_DIR = join(ROOT, "contracts");
const CONTRACT_NAME = "VntraceRegistry";
const MAIN_SOURCE = `contracts/${CONTRACT_NAME}.sol`;
const ARTIFACT = join(CONTRACTS_DIR, "artifacts", `${CONTRACT_NAME}.json`);
const SOURCES_HASH_FORMAT = "sha256 of the lines '<sha256 hex of file>  <path>\\n' sorted by path";

// Optimizer runs: measured with scripts/gas_report.py (see docs/contract.md). Runs only trade
// deployment size against runtime gas; 10,000 runs saves a little runtime gas per call.
const OPTIMIZER_RUNS = 10000;

// Exact standard-JSON settings, keys sorted (they are recorded verbatim in the artifact).
const SETTINGS = {
  evmVersion: "prague",
  metadata: { bytecodeHash: "none" },
  optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
  outputSelection: {
    [MAIN_SOURCE]: {
      [CONTRACT_NAME]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"],
    },
  },
  viaIR: false,
};

const EIP170_LIMIT = 24576;

function fail(message, code = 2) {
  process.stderr.write(`build_contracts: ${message}\n`);
  process.exit(code);
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

function loadSolc() {
  const require = createRequire(join(ROOT, "package.json"));
  try {
    return require("solc");
  } catch (err) {
    fail(`cannot load the 'solc' npm package (run 'npm ci' in ${ROOT}): ${err.message}`);
  }
}

function projectSources() {
  // Every .sol under contracts/ is compiled and hashed (artifacts/ holds JSON only).
  const out = {};
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "artifacts" && entry.name !== "__pycache__") walk(full);
      } else if (entry.name.endsWith(".sol")) {
        const path = relative(ROOT, full).split(sep).join("/");
        out[path] = readFileSync(full); // raw bytes: hashed as stored, decoded for solc
      }
    }
  };
  walk(CONTRACTS_DIR);
  return out;
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function compareByCodePoint(a, b) {
  // Same order as Python's sorted() for str (code points), unlike the default UTF-16 sort.
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function sourcesHash(hashes) {
  const lines = Object.keys(hashes)
    .sort(compareByCodePoint)
    .map((path) => `${hashes[path]}  ${path}\n`)
    .join("");
  return sha256(Buffer.from(lines, "utf8"));
}

function build() {
  const solc = loadSolc();
  const project = projectSources();
  if (!(MAIN_SOURCE in project)) fail(`missing ${MAIN_SOURCE}`);

  const imported = {};
  const findImports = (path) => {
    if (path.startsWith("@openzeppelin/contracts/")) {
      const full = join(NODE_MODULES, ...path.split("/"));
      if (!existsSync(full)) return { error: `not found in node_modules: ${path}` };
      const bytes = readFileSync(full);
      imported[path] = bytes;
      return { contents: bytes.toString("utf8") };
    }
    return { error: `import outside the project and @openzeppelin/contracts: ${path}` };
  };

  const input = {
    language: "Solidity",
    sources: Object.fromEntries(
      Object.keys(project)
        .sort(compareByCodePoint)
        .map((p) => [p, { content: project[p].toString("utf8") }]),
    ),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  // Warnings in our own sources fail the build; OpenZeppelin's are only shown.
  const ownWarnings = diagnostics.filter(
    (d) => d.severity === "warning" && d.sourceLocation?.file?.startsWith("contracts/"),
  );
  for (const d of diagnostics) process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
  if (errors.length) fail(`${errors.length} compiler error(s)`);
  if (ownWarnings.length) fail(`${ownWarnings.length} compiler warning(s) in contracts/`);

  const compiled = output.contracts?.[MAIN_SOURCE]?.[CONTRACT_NAME];
  if (!compiled) fail(`no output for ${MAIN_SOURCE}:${CONTRACT_NAME}`);

  const hashes = {};
  for (const [path, bytes] of Object.entries({ ...project, ...imported })) hashes[path] = sha256(bytes);

  const ozVersion = JSON.parse(
    readFileSync(join(NODE_MODULES, "@openzeppelin", "contracts", "package.json"), "utf8"),
  ).version;

  const deployedBytecode = `0x${compiled.evm.deployedBytecode.object}`;
  const runtimeSize = (deployedBytecode.length - 2) / 2;
  if (runtimeSize > EIP170_LIMIT) {
    fail(`runtime code is ${runtimeSize} bytes, above the EIP-170 limit of ${EIP170_LIMIT}`);
  }

  const artifact = sortKeys({
    contractName: CONTRACT_NAME,
    sourceName: MAIN_SOURCE,
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode,
    compiler: { name: "solc", version: solc.version(), settings: SETTINGS },
    openzeppelinVersion: ozVersion,
    sources: hashes,
    sourcesHash: sourcesHash(hashes),
    sourcesHashFormat: SOURCES_HASH_FORMAT,
  });
  return { artifact, text: `${JSON.stringify(artifact, null, 2)}\n`, runtimeSize };
}

function check(fresh) {
  if (!existsSync(ARTIFACT)) {
    fail(`${relative(ROOT, ARTIFACT)} is missing: run 'node scripts/build_contracts.mjs'`, 1);
  }
  const committedText = readFileSync(ARTIFACT, "utf8");
  if (committedText === fresh.text) {
    process.stdout.write(`${relative(ROOT, ARTIFACT)} is up to date (sourcesHash ${fresh.artifact.sourcesHash})\n`);
    return;
  }
  let committed;
  try {
    committed = JSON.parse(committedText);
  } catch (err) {
    fail(`${relative(ROOT, ARTIFACT)} is not valid JSON (${err.message})`, 1);
  }
  const keys = new Set([...Object.keys(committed), ...Object.keys(fresh.artifact)]);
  const differing = [...keys]
    .sort()
    .filter((k) => JSON.stringify(committed[k]) !== JSON.stringify(fresh.artifact[k]));
  const changedSources = Object.keys({ ...(committed.sources ?? {}), ...fresh.artifact.sources })
    .sort()
    .filter((p) => committed.sources?.[p] !== fresh.artifact.sources[p]);
  const detail = [
    differing.length ? `differing fields: ${differing.join(", ")}` : "formatting differs",
    changedSources.length ? `changed sources: ${changedSources.join(", ")}` : null,
  ]
    .filter(Boolean)
    .join("; ");
  fail(
    `${relative(ROOT, ARTIFACT)} is stale (${detail}); rebuild with 'node scripts/build_contracts.mjs' and commit it`,
    1,
  );
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length) fail(`unknown argument(s): ${unknown.join(" ")}\nusage: build_contracts.mjs [--check]`);
  const fresh = build();
  if (args.includes("--check")) {
    check(fresh);
    return;
  }
  mkdirSync(dirname(ARTIFACT), { recursive: true });
  writeFileSync(ARTIFACT, fresh.text);
  process.stdout.write(
    `wrote ${relative(ROOT, ARTIFACT)}: runtime ${fresh.runtimeSize} bytes, solc ${fresh.artifact.compiler.version}, ` +
      `sourcesHash ${fresh.artifact.sourcesHash}\n`,
  );
}

main();
