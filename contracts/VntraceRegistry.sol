// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IVntraceRegistry} from "./IVntraceRegistry.sol";
import {AnchorBook} from "./lib/AnchorBook.sol";
import {ProducerBook} from "./lib/ProducerBook.sol";
import {RecallBook} from "./lib/RecallBook.sol";

/**
 * @title VntraceRegistry
 * @dev The vntrace registry: a thin contract over {AnchorBook}, {ProducerBook} and {RecallBook}
 * that adds access control (OpenZeppelin {AccessControl}) and events. See {IVntraceRegistry} for
 * the roles and the behaviour of every function.
 *
 * Records are leaves of an OpenZeppelin StandardMerkleTree (`["bytes32","bytes32"]` over
 * `(lotKey, digest)`); only the root of each epoch tree is stored.
 */
contract VntraceRegistry is IVntraceRegistry, AccessControl {
    using AnchorBook for AnchorBook.Book;
    using ProducerBook for ProducerBook.Book;
    using RecallBook for RecallBook.Book;

    /// @inheritdoc IVntraceRegistry
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    AnchorBook.Book private _anchors;
    ProducerBook.Book private _producers;
    RecallBook.Book private _recalls;

    /**
     * @dev Grants `DEFAULT_ADMIN_ROLE` to `admin`, the regulator. Reverts with {VntraceZeroAddress}
     * if `admin` is the zero address.
     */
    constructor(address admin) {
        if (admin == address(0)) revert VntraceZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ anchorers

    /// @inheritdoc IVntraceRegistry
    function registerAnchorer(address anchorer, string calldata metadata) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (anchorer == address(0)) revert VntraceZeroAddress();
        _grantRole(ANCHORER_ROLE, anchorer);
        _anchors.setMetadata(anchorer, metadata);
        emit AnchorerRegistered(anchorer, metadata);
    }

    /// @inheritdoc IVntraceRegistry
    function setAnchorerMetadata(string calldata metadata) external onlyRole(ANCHORER_ROLE) {
        address anchorer = _msgSender();
        _anchors.setMetadata(anchorer, metadata);
        emit AnchorerMetadataUpdated(anchorer, metadata);
    }

    /// @inheritdoc IVntraceRegistry
    function anchorerMetadata(address anchorer) external view returns (string memory) {
        return _anchors.metadataOf(anchorer);
    }

    // ------------------------------------------------------------------ producers

    /// @inheritdoc IVntraceRegistry
    function registerProducer(address producer, string calldata metadataURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _producers.register(producer, metadataURI);
        emit ProducerRegistered(producer, metadataURI);
    }

    /// @inheritdoc IVntraceRegistry
    function deactivateProducer(address producer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _producers.setActive(producer, false);
        emit ProducerDeactivated(producer);
    }

    /// @inheritdoc IVntraceRegistry
    function reactivateProducer(address producer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _producers.setActive(producer, true);
        emit ProducerReactivated(producer);
    }

    /// @inheritdoc IVntraceRegistry
    function getProducer(
        address producer
    ) external view returns (bool registered, bool active, uint64 registeredAt, string memory metadataURI) {
        return _producers.get(producer);
    }

    /// @inheritdoc IVntraceRegistry
    function isActiveProducer(address producer) external view returns (bool) {
        return _producers.isActive(producer);
    }

    // ------------------------------------------------------------------ anchoring

    /// @inheritdoc IVntraceRegistry
    function anchor(bytes32 root, uint64 epoch, uint32 recordCount) external onlyRole(ANCHORER_ROLE) {
        address anchorer = _msgSender();
        _anchors.record(anchorer, root, epoch, recordCount);
        emit RootAnchored(root, anchorer, epoch, recordCount);
    }

    /// @inheritdoc IVntraceRegistry
    function lastEpoch(address anchorer) external view returns (uint64) {
        return _anchors.lastEpochOf(anchorer);
    }

    /// @inheritdoc IVntraceRegistry
    function getAnchor(
        bytes32 root
    ) external view returns (address anchorer, uint64 epoch, uint32 recordCount, uint64 timestamp, bool revoked) {
        return _anchors.get(root);
    }

    /// @inheritdoc IVntraceRegistry
    function isRootValid(bytes32 root) public view returns (bool) {
        return _anchors.isValid(root);
    }

    // ------------------------------------------------------------------ revocation

    /// @inheritdoc IVntraceRegistry
    function revokeRoot(bytes32 root, string calldata reason) external {
        address anchorer = _anchors.anchorerOf(root);
        if (anchorer == address(0)) revert VntraceUnknownRoot(root);
        address caller = _msgSender();
        if (
            !hasRole(DEFAULT_ADMIN_ROLE, caller) && !(caller == anchorer && hasRole(ANCHORER_ROLE, caller))
        ) revert VntraceNotAuthorized(caller);
        _anchors.revoke(root);
        emit RootRevoked(root, caller, reason);
    }

    // ------------------------------------------------------------------ recalls

    /// @inheritdoc IVntraceRegistry
    function recallLot(bytes32 lotKey, string calldata reason) external {
        address caller = _msgSender();
        if (!hasRole(DEFAULT_ADMIN_ROLE, caller) && !hasRole(ANCHORER_ROLE, caller)) {
            revert VntraceNotAuthorized(caller);
        }
        _recalls.recall(lotKey, caller, reason);
        emit LotRecalled(lotKey, caller, reason);
    }

    /// @inheritdoc IVntraceRegistry
    function getRecall(
        bytes32 lotKey
    ) external view returns (bool recalled, uint64 timestamp, address recalledBy, string memory reason) {
        return _recalls.get(lotKey);
    }

    /// @inheritdoc IVntraceRegistry
    function isRecalled(bytes32 lotKey) external view returns (bool) {
        return _recalls.isRecalled(lotKey);
    }

    // ------------------------------------------------------------------ verification

    /// @inheritdoc IVntraceRegistry
    function leafOf(bytes32 lotKey, bytes32 digest) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(lotKey, digest))));
    }

    /// @inheritdoc IVntraceRegistry
    function verifyProof(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return isRootValid(root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IVntraceRegistry
    function verifyMultiProof(
        bytes32 root,
        bytes32[] calldata leaves,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool) {
        return
            leaves.length != 0 &&
            isRootValid(root) &&
            MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    // ------------------------------------------------------------------ meta

    /// @inheritdoc IVntraceRegistry
    function version() external pure returns (string memory) {
        return "1";
    }

    // ------------------------------------------------------------------ internals

    /**
     * @dev Extends {AccessControl-_grantRole}: every account granted `ANCHORER_ROLE` (through
     * {registerAnchorer} or {AccessControl-grantRole}) gets an anchorer id, so that its anchors
     * fit in one storage slot.
     */
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (role == ANCHORER_ROLE) _anchors.enroll(account);
    }
}
