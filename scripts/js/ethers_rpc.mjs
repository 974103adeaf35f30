// Reads a vntrace node's /rpc with ethers v6 the way an outside verifier would:
// a JsonRpcProvider with its default settings (network detected, batching on),
// then the registry's isRootValid through a Contract made from the artifact's ABI.
// In: JSON on stdin {"url", "registry", "root", "other", "address"}; out: JSON answers.
// Used by tests/interop/test_rpc_tools.py; any failure exits non-zero.
import { readFileSync } from "node:fs";
import { Contract, JsonRpcProvider } from "ethers";

const request = JSON.parse(readFileSync(0, "utf8"));
const artifact = JSON.parse(
  readFileSync(new URL("../../contracts/artifacts/VntraceRegistry.json", import.meta.url), "utf8"),
);
const provider = new JsonRpcProvider(request.url);
try {
  const network = await provider.getNetwork();
  const blockNumber = await provider.getBlockNumber();
  const fees = await provider.getFeeData();
  const balance = await provider.getBalance(request.address);
  const nonce = await provider.getTransactionCount(request.address);
  const registry = new Contract(request.registry, artifact.abi, provider);
  const valid = await registry.isRootValid(request.root);
  const other = await registry.isRootValid(request.other);
  const gas = await registry.isRootValid.estimateGas(request.root);
  const block = await provider.getBlock("latest");
  process.stdout.write(
    JSON.stringify({
      chainId: network.chainId.toString(),
      blockNumber,
      gasPrice: fees.gasPrice?.toString() ?? null,
      maxFeePerGas: fees.maxFeePerGas?.toString() ?? null,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas?.toString() ?? null,
      balance: balance.toString(),
      nonce,
      valid,
      other,
      gas: gas.toString(),
      blockHash: block.hash,
    }) + "\n",
  );
} finally {
  provider.destroy();
}
