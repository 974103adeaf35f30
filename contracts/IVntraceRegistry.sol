// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IVntraceRegistry
 * @dev Interface of the vntrace traceability registry: the on-chain anchor of record roots, the
 * producer registry, revocations and recalls, and proof verification against anchored roots.
 *
 * Roles (OpenZeppelin {AccessControl}):
 *
 * - `DEFAULT_ADMIN_ROLE`: the regulator. Registers node operators and producers, may revoke any
 *   root and recall any lot.
 * - `ANCHORER_ROLE`: node operators. Anchor epoch roots (strictly sequential epochs per anchorer,
 *   starting at 1), may revoke their own roots and relay producers' recalls.
 *
 * Producers are registry entries, not roles: they never transact, the node relays their signed
 * events and anchors them.
 */
interface IVntraceRegistry {
    // ------------------------------------------------------------------ errors

    /// @dev A zero address was given where an account is required.
    error VntraceZeroAddress();

    /// @dev `producer` is already in the producer registry.
    error VntraceProducerAlreadyRegistered(address producer);

    /// @dev `producer` is not in the producer registry.
    error VntraceUnknownProducer(address producer);

    /// @dev `producer` is already active (`active == true`) or already inactive (`active == false`).
    error VntraceProducerAlreadyInState(address producer, bool active);

    /// @dev `anchorer` must anchor epoch `expected` next (its last epoch + 1) but gave `given`.
    error VntraceUnexpectedEpoch(address anchorer, uint64 expected, uint64 given);

    /// @dev `root` has already been anchored; roots are never anchored twice or overwritten.
    error VntraceRootAlreadyAnchored(bytes32 root);

    /// @dev The zero root cannot be anchored.
    error VntraceZeroRoot();

    /// @dev An epoch must contain at least one record.
    error VntraceEmptyEpoch();

    /// @dev `root` has never been anchored.
    error VntraceUnknownRoot(bytes32 root);

    /// @dev `root` has already been revoked.
    error VntraceRootAlreadyRevoked(bytes32 root);

    /// @dev `caller` is neither the admin nor an account this action allows.
    error VntraceNotAuthorized(address caller);

    /// @dev The lot `lotKey` has already been recalled.
    error VntraceLotAlreadyRecalled(bytes32 lotKey);

    /// @dev The zero lot key cannot be recalled.
    error VntraceZeroLotKey();

    // ------------------------------------------------------------------ events

    /// @dev `anchorer` was granted `ANCHORER_ROLE` (or re-registered) with `metadata`.
    event AnchorerRegistered(address indexed anchorer, string metadata);

    /// @dev `anchorer` replaced its own metadata.
    event AnchorerMetadataUpdated(address indexed anchorer, string metadata);

    /// @dev `producer` was added to the producer registry (active).
    event ProducerRegistered(address indexed producer, string metadataURI);

    /// @dev `producer` was deactivated by the admin.
    event ProducerDeactivated(address indexed producer);

    /// @dev `producer` was reactivated by the admin.
    event ProducerReactivated(address indexed producer);

    /// @dev `anchorer` anchored `root`, the Merkle root of epoch `epoch` holding `recordCount` records.
    event RootAnchored(bytes32 indexed root, address indexed anchorer, uint64 indexed epoch, uint32 recordCount);

    /// @dev `root` was revoked by `revokedBy`; proofs against it no longer verify.
    event RootRevoked(bytes32 indexed root, address indexed revokedBy, string reason);

    /// @dev The lot `lotKey` was recalled by `recalledBy`.
    event LotRecalled(bytes32 indexed lotKey, address indexed recalledBy, string reason);

    // ------------------------------------------------------------------ roles

    /// @notice The role of node operators allowed to anchor roots: `keccak256("ANCHORER_ROLE")`.
    function ANCHORER_ROLE() external view returns (bytes32);

    // ------------------------------------------------------------------ anchorers

    /**
     * @notice Grants `ANCHORER_ROLE` to `anchorer` and stores its `metadata` (for example a JSON
     * document with the node's Ed25519 public key and endpoint).
     * @dev Admin only. Idempotent for an account that already holds the role: its metadata is
     * replaced and the event emitted again. Re-registering an account whose role was revoked
     * re-grants it; its epoch sequence continues where it stopped.
     *
     * Reverts with {VntraceZeroAddress} for the zero address.
     * Emits {AnchorerRegistered} (and {IAccessControl-RoleGranted} when the role is newly granted).
     */
    function registerAnchorer(address anchorer, string calldata metadata) external;

    /**
     * @notice Replaces the caller's own anchorer metadata.
     * @dev Caller must hold `ANCHORER_ROLE`. Emits {AnchorerMetadataUpdated}.
     */
    function setAnchorerMetadata(string calldata metadata) external;

    /// @notice Returns the metadata stored for `anchorer` (empty if none).
    function anchorerMetadata(address anchorer) external view returns (string memory);

    // ------------------------------------------------------------------ producers

    /**
     * @notice Adds `producer` to the producer registry, active, with a URI to its public profile.
     * @dev Admin only. Reverts with {VntraceZeroAddress} for the zero address and with
     * {VntraceProducerAlreadyRegistered} if already registered. Emits {ProducerRegistered}.
     */
    function registerProducer(address producer, string calldata metadataURI) external;

    /**
     * @notice Marks `producer` inactive: the node stops accepting its events.
     * @dev Admin only. Reverts with {VntraceUnknownProducer} or {VntraceProducerAlreadyInState}.
     * Emits {ProducerDeactivated}. Records already anchored stay valid.
     */
    function deactivateProducer(address producer) external;

    /**
     * @notice Marks a deactivated `producer` active again.
     * @dev Admin only. Reverts with {VntraceUnknownProducer} or {VntraceProducerAlreadyInState}.
     * Emits {ProducerReactivated}.
     */
    function reactivateProducer(address producer) external;

    /**
     * @notice Returns the registry entry of `producer`; all zero if it was never registered.
     * @return registered whether `producer` was ever registered
     * @return active whether it is currently active
     * @return registeredAt block timestamp of its registration
     * @return metadataURI URI of its public profile
     */
    function getProducer(
        address producer
    ) external view returns (bool registered, bool active, uint64 registeredAt, string memory metadataURI);

    /// @notice Returns true if `producer` is registered and active.
    function isActiveProducer(address producer) external view returns (bool);

    // ------------------------------------------------------------------ anchoring

    /**
     * @notice Anchors `root`, the Merkle root of the caller's epoch `epoch` holding `recordCount`
     * records.
     * @dev Caller must hold `ANCHORER_ROLE`. Epochs are strictly sequential per anchorer, starting
     * at 1: `epoch` must equal `lastEpoch(msg.sender) + 1`. The anchor is one storage slot.
     *
     * Reverts with {VntraceZeroRoot}, {VntraceEmptyEpoch}, {VntraceUnexpectedEpoch} or
     * {VntraceRootAlreadyAnchored} (a root is never anchored twice, even by another anchorer,
     * and never overwritten, even after revocation). Emits {RootAnchored}.
     */
    function anchor(bytes32 root, uint64 epoch, uint32 recordCount) external;

    /// @notice Returns the last epoch anchored by `anchorer` (0 if none).
    function lastEpoch(address anchorer) external view returns (uint64);

    /**
     * @notice Returns the anchor of `root`; all zero if `root` was never anchored.
     * @return anchorer the account that anchored it
     * @return epoch its epoch number in the anchorer's sequence (never 0 for an anchored root)
     * @return recordCount number of records (leaves) in the epoch tree
     * @return timestamp block timestamp of the anchoring transaction
     * @return revoked whether the root has been revoked
     */
    function getAnchor(
        bytes32 root
    ) external view returns (address anchorer, uint64 epoch, uint32 recordCount, uint64 timestamp, bool revoked);

    /// @notice Returns true if `root` is anchored and not revoked.
    function isRootValid(bytes32 root) external view returns (bool);

    // ------------------------------------------------------------------ revocation

    /**
     * @notice Revokes `root`: proofs against it stop verifying. Irreversible.
     * @dev Allowed to the admin, and to the anchorer that anchored `root` while it still holds
     * `ANCHORER_ROLE`. Reverts with {VntraceUnknownRoot}, {VntraceNotAuthorized} or
     * {VntraceRootAlreadyRevoked}, checked in that order. `reason` is only logged.
     * Emits {RootRevoked}.
     */
    function revokeRoot(bytes32 root, string calldata reason) external;

    // ------------------------------------------------------------------ recalls

    /**
     * @notice Records the recall of the lot `lotKey` (keccak256 of its GS1 Digital Link path).
     * @dev Allowed to the admin and to any `ANCHORER_ROLE` holder: the node relays a producer's
     * recall after checking off-chain that the producer owns the lot. Irreversible.
     * Reverts with {VntraceNotAuthorized}, {VntraceZeroLotKey} or {VntraceLotAlreadyRecalled}.
     * Emits {LotRecalled}.
     */
    function recallLot(bytes32 lotKey, string calldata reason) external;

    /**
     * @notice Returns the recall of `lotKey`; all zero if it was never recalled.
     * @return recalled whether the lot is recalled
     * @return timestamp block timestamp of the recall
     * @return recalledBy the account that recorded the recall
     * @return reason the reason given
     */
    function getRecall(
        bytes32 lotKey
    ) external view returns (bool recalled, uint64 timestamp, address recalledBy, string memory reason);

    /// @notice Returns true if the lot `lotKey` has been recalled.
    function isRecalled(bytes32 lotKey) external view returns (bool);

    // ------------------------------------------------------------------ verification

    /**
     * @notice Returns the leaf of a record: the OpenZeppelin StandardMerkleTree leaf for the types
     * `["bytes32","bytes32"]` over `(lotKey, digest)`, i.e.
     * `keccak256(bytes.concat(keccak256(abi.encode(lotKey, digest))))`.
     */
    function leafOf(bytes32 lotKey, bytes32 digest) external pure returns (bytes32);

    /**
     * @notice Returns true if `root` is valid (anchored, not revoked) and `proof` proves `leaf`
     * in the tree of `root` (OpenZeppelin {MerkleProof-verify}, sorted-pair hashing).
     * @dev Compute `leaf` with {leafOf}: the double hash is what keeps an inner node from passing
     * for a leaf. Never reverts.
     */
    function verifyProof(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /**
     * @notice Returns true if `root` is valid (anchored, not revoked) and the multiproof
     * (`proof`, `proofFlags`) proves all of `leaves` in the tree of `root`
     * (OpenZeppelin {MerkleProof-multiProofVerify}; leaves in the order the OpenZeppelin
     * merkle-tree library returns them).
     * @dev Returns false for an empty `leaves` array: an empty multiproof proves nothing (OpenZeppelin
     * accepts `proof == [root]` with no leaves). Returns false without further checks if `root`
     * is not valid. For a valid root, a malformed multiproof reverts, as in OpenZeppelin 5:
     * {MerkleProof-MerkleProofInvalidMultiproof} when the array lengths do not match or proof
     * items are left over, or a `Panic(0x32)` when the flags ask for more proof items than given.
     * Callers should treat a revert as "not proven".
     */
    function verifyMultiProof(
        bytes32 root,
        bytes32[] calldata leaves,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);

    // ------------------------------------------------------------------ meta

    /// @notice Returns the version of this registry's interface: "1".
    function version() external pure returns (string memory);
}
