#!/usr/bin/env node
// Reference oracle for the interop tests: a thin JSON-in/JSON-out CLI over
// @openzeppelin/merkle-tree, so Python can compare its Merkle engine with the
// implementation that OpenZeppelin's MerkleProof contracts are tested against.
//
// Usage: node scripts/js/oz_merkle.mjs < request.json > response.json
//
// Requests (one JSON object on stdin; one JSON object on stdout):
//   {"op":"build","values":[...],"leafEncoding":[...],"sortLeaves":true,
//    "proofs":true,"multiproofs":[[valueIndex,...],...]}
//     -> {"root","dump","proofs":[[hex,...] per value index],
//         "multiproofs":[{"leaves","proof","proofFlags"}]}
//   {"op":"verify","root","leafEncoding","items":[{"value","proof"}],
//    "multiproofs":[{"leaves","proof","proofFlags"}]}
//     -> {"items":[bool | {"error"}], "multiproofs":[bool | {"error"}]}
//   {"op":"load","dump":{...},"proofs":false,"multiproofs":[[...]]}
//     -> {"root", "proofs"?, "multiproofs"?} or {"error"}
//   {"op":"batch","requests":[request,...]} -> {"responses":[response,...]}
// A request that throws answers {"error": message}; the process exits 0 unless
// stdin is not JSON. Values go in as JSON: uint as decimal strings (OZ rejects
// JS numbers as leaf values), bytes as 0x-hex, bool as true/false.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function errorOf(e) {
  return { error: String(e && e.message ? e.message : e) };
}

function guarded(fn) {
  try {
    return fn();
  } catch (e) {
    return errorOf(e);
  }
}

function proofsOf(tree, wantProofs, multiproofs) {
  const out = {};
  if (wantProofs) {
    out.proofs = [];
    for (let i = 0; i < tree.length; i++) out.proofs.push(tree.getProof(i));
  }
  if (multiproofs) {
    out.multiproofs = multiproofs.map(indices => guarded(() => tree.getMultiProof(indices)));
  }
  return out;
}

function build(req) {
  const tree = StandardMerkleTree.of(req.values, req.leafEncoding, {
    sortLeaves: req.sortLeaves ?? true,
  });
  return {
    root: tree.root,
    dump: tree.dump(),
    ...proofsOf(tree, req.proofs ?? true, req.multiproofs ?? []),
  };
}

function verify(req) {
  const { root, leafEncoding } = req;
  return {
    items: (req.items ?? []).map(({ value, proof }) =>
      guarded(() => StandardMerkleTree.verify(root, leafEncoding, value, proof)),
    ),
    multiproofs: (req.multiproofs ?? []).map(mp =>
      guarded(() => StandardMerkleTree.verifyMultiProof(root, leafEncoding, mp)),
    ),
  };
}

function load(req) {
  const tree = StandardMerkleTree.load(req.dump);
  return { root: tree.root, ...proofsOf(tree, req.proofs ?? false, req.multiproofs) };
}

const OPS = { build, verify, load, batch: req => ({ responses: req.requests.map(handle) }) };

function handle(req) {
  return guarded(() => {
    const op = OPS[req && req.op];
    if (!op) throw new Error(`unknown op ${JSON.stringify(req && req.op)}`);
    return op(req);
  });
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
process.stdout.write(JSON.stringify(handle(request)));
