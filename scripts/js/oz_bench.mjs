#!/usr/bin/env node
// Peer benchmark: @openzeppelin/merkle-tree measured on the same workload as the
// Python engine (vntrace.node.bench), in the same run, so ratios are fair.
//
// Usage: node scripts/js/oz_bench.mjs < config.json > results.json
// Config: {"sizes":[1000,10000,100000], "budget":0.6, "repeats":3,
//          "buildBudget":2.0, "multiproofRuns":[64,1024], "lotSize":16}
//   budget       seconds per operation and size, split over `repeats` rounds;
//                the best round's rate is reported (noisy shared machine).
//   buildBudget  builds repeat (best of) until this much time has passed; at
//                least one build always runs, however long it takes.
// Workload: leaves are (bytes32 lot_key, bytes32 digest) pairs, `lotSize`
// records per lot, kept in insertion order (sortLeaves: false) as the node does.
// Output: {"peer","version","node","sizes":[{size, depth, build, proof, verify,
//          verifyLeaf, multiproof:{run: {leaves, fromValues, fromLeaves}}}]}
// Every measured op is {ops, seconds, perSec}; rates are per op (per leaf for
// build and multiproofs).
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
// The package's internal core (no exports map, so it is reachable): lets us time
// verification from leaf hashes, the same work the Python row measures.
const core = require('@openzeppelin/merkle-tree/dist/core.js');
const hashes = require('@openzeppelin/merkle-tree/dist/hashes.js');
const { version } = require('@openzeppelin/merkle-tree/package.json');

const ENCODING = ['bytes32', 'bytes32'];
const hex32 = () => '0x' + randomBytes(32).toString('hex');

function makeValues(n, lotSize) {
  const values = [];
  let lot = hex32();
  for (let i = 0; i < n; i++) {
    if (i % lotSize === 0) lot = hex32();
    values.push([lot, hex32()]);
  }
  return values;
}

// Run op(i) for i = 0, 1, ... until `seconds` pass; best per-op rate of `rounds`.
function rate(op, seconds, rounds, unitsPerOp = 1) {
  let best = null;
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const stop = start + (seconds * 1000) / rounds;
    let ops = 0;
    let now = start;
    do {
      op(total + ops);
      ops++;
      now = performance.now();
    } while (now < stop);
    total += ops;
    const secs = (now - start) / 1000;
    const perSec = (ops * unitsPerOp) / secs;
    if (best === null || perSec > best.perSec) best = { ops: ops * unitsPerOp, seconds: secs, perSec };
  }
  return best;
}

function benchSize(n, cfg) {
  const values = makeValues(n, cfg.lotSize);
  // Build: best of a few, within buildBudget (one run minimum).
  let tree = null;
  let build = null;
  const buildStart = performance.now();
  do {
    const t0 = performance.now();
    tree = StandardMerkleTree.of(values, ENCODING, { sortLeaves: false });
    const secs = (performance.now() - t0) / 1000;
    if (build === null || secs < build.seconds) build = { ops: n, seconds: secs, perSec: n / secs };
  } while ((performance.now() - buildStart) / 1000 < cfg.buildBudget - build.seconds);

  const root = tree.root;
  const pick = i => (i * 7919) % n; // spread indices over the tree
  const proofs = new Map();
  const proof = rate(
    i => {
      const k = pick(i);
      proofs.set(k, tree.getProof(k));
    },
    cfg.budget,
    cfg.repeats,
  );
  const keys = [...proofs.keys()];
  const leaves = new Map(keys.map(k => [k, hashes.standardLeafHash(ENCODING, values[k])]));
  const depth = Math.max(...keys.map(k => proofs.get(k).length));
  const check = ok => {
    if (!ok) throw new Error('OZ verification failed in the benchmark');
  };
  const verify = rate(
    i => {
      const k = keys[i % keys.length];
      check(StandardMerkleTree.verify(root, ENCODING, values[k], proofs.get(k)));
    },
    cfg.budget,
    cfg.repeats,
  );
  const verifyLeaf = rate(
    i => {
      const k = keys[i % keys.length];
      check(core.processProof(leaves.get(k), proofs.get(k)) === root);
    },
    cfg.budget,
    cfg.repeats,
  );

  const multiproof = {};
  for (const run of cfg.multiproofRuns) {
    if (run > n) continue;
    const start = Math.floor((n - run) / 2);
    const indices = Array.from({ length: run }, (_, j) => start + j);
    const mp = tree.getMultiProof(indices);
    const hashed = {
      leaves: mp.leaves.map(v => hashes.standardLeafHash(ENCODING, v)),
      proof: mp.proof,
      proofFlags: mp.proofFlags,
    };
    multiproof[run] = {
      leaves: run,
      proofLength: mp.proof.length,
      fromValues: rate(
        () => check(StandardMerkleTree.verifyMultiProof(root, ENCODING, mp)),
        cfg.budget,
        cfg.repeats,
        run,
      ),
      fromLeaves: rate(() => check(core.processMultiProof(hashed) === root), cfg.budget, cfg.repeats, run),
    };
  }
  return { size: n, depth, build, proof, verify, verifyLeaf, multiproof };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString('utf8').trim();
const cfg = {
  sizes: [1000, 10000, 100000],
  budget: 0.6,
  repeats: 3,
  buildBudget: 2.0,
  multiproofRuns: [64, 1024],
  lotSize: 16,
  ...(text ? JSON.parse(text) : {}),
};
const sizes = cfg.sizes.map(n => benchSize(n, cfg));
process.stdout.write(
  JSON.stringify({ peer: '@openzeppelin/merkle-tree', version, node: process.version, sizes }),
);
