// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IVntraceRegistry} from "../IVntraceRegistry.sol";

/**
 * @title AnchorBook
 * @dev Storage and rules of anchored epoch roots, per-anchorer epoch sequences and anchorer
 * metadata.
 *
 * Gas is what matters here (one anchor per epoch, forever), so an anchor is packed into a single
 * storage slot: instead of the anchorer's 20-byte address it stores a 4-byte anchorer id, assigned
 * once by {enroll} when the account is first granted the anchorer role. The per-anchorer state
 * (id and last epoch) is one slot as well, so anchoring writes one fresh slot and updates one warm,
 * already non-zero slot, including for an anchorer's first epoch.
 *
 * An anchor exists iff its `epoch` is non-zero: epochs start at 1.
 */
library AnchorBook {
    /// @dev One anchored root: 32 + 64 + 32 + 48 + 8 = 184 bits, one slot.
    struct Anchor {
        uint32 anchorerId;
        uint64 epoch;
        uint32 recordCount;
        uint48 timestamp;
        bool revoked;
    }

    /// @dev Per-anchorer state: 32 + 64 bits, one slot.
    struct Anchorer {
        uint32 id;
        uint64 lastEpoch;
    }

    struct Book {
        mapping(bytes32 root => Anchor) anchors;
        mapping(address account => Anchorer) anchorers;
        mapping(uint32 id => address account) accounts;
        mapping(address account => string) metadata;
        uint32 count;
    }

    /**
     * @dev Assigns an anchorer id to `account` if it has none yet, and returns its id. Ids start
     * at 1 and are never reused, so an account keeps its id (and its epoch sequence) if its role
     * is revoked and granted again.
     */
    function enroll(Book storage self, address account) internal returns (uint32 id) {
        id = self.anchorers[account].id;
        if (id == 0) {
            id = ++self.count;
            self.anchorers[account].id = id;
            self.accounts[id] = account;
        }
    }

    /**
     * @dev Records `root` as epoch `epoch` of `anchorer` with `recordCount` records. The caller
     * checks the role. Reverts with {IVntraceRegistry-VntraceZeroRoot},
     * {IVntraceRegistry-VntraceEmptyEpoch}, {IVntraceRegistry-VntraceUnexpectedEpoch} or
     * {IVntraceRegistry-VntraceRootAlreadyAnchored}.
     */
    function record(Book storage self, address anchorer, bytes32 root, uint64 epoch, uint32 recordCount) internal {
        if (root == bytes32(0)) revert IVntraceRegistry.VntraceZeroRoot();
        if (recordCount == 0) revert IVntraceRegistry.VntraceEmptyEpoch();

        Anchorer memory state = self.anchorers[anchorer];
        // Enrolled when the role was granted; this only guards against a role granted some other way.
        if (state.id == 0) state.id = enroll(self, anchorer);
        uint64 expected = state.lastEpoch + 1;
        if (epoch != expected) revert IVntraceRegistry.VntraceUnexpectedEpoch(anchorer, expected, epoch);

        Anchor storage slot = self.anchors[root];
        if (slot.epoch != 0) revert IVntraceRegistry.VntraceRootAlreadyAnchored(root);

        self.anchors[root] = Anchor({
            anchorerId: state.id,
            epoch: epoch,
            recordCount: recordCount,
            timestamp: Time.timestamp(),
            revoked: false
        });
        self.anchorers[anchorer] = Anchorer({id: state.id, lastEpoch: epoch});
    }

    /**
     * @dev Marks `root` revoked. The caller checks authorisation (see {anchorerOf}). Reverts with
     * {IVntraceRegistry-VntraceUnknownRoot} or {IVntraceRegistry-VntraceRootAlreadyRevoked}.
     */
    function revoke(Book storage self, bytes32 root) internal {
        Anchor storage slot = self.anchors[root];
        if (slot.epoch == 0) revert IVntraceRegistry.VntraceUnknownRoot(root);
        if (slot.revoked) revert IVntraceRegistry.VntraceRootAlreadyRevoked(root);
        slot.revoked = true;
    }

    /// @dev Sets the metadata of `account`.
    function setMetadata(Book storage self, address account, string calldata metadata) internal {
        self.metadata[account] = metadata;
    }

    /// @dev Returns the metadata of `account`.
    function metadataOf(Book storage self, address account) internal view returns (string memory) {
        return self.metadata[account];
    }

    /// @dev Returns the account that anchored `root`, or the zero address if it is unknown.
    function anchorerOf(Book storage self, bytes32 root) internal view returns (address) {
        return self.accounts[self.anchors[root].anchorerId];
    }

    /// @dev Returns the last epoch anchored by `account` (0 if none).
    function lastEpochOf(Book storage self, address account) internal view returns (uint64) {
        return self.anchorers[account].lastEpoch;
    }

    /// @dev Returns the anchor of `root` with its anchorer resolved to an address; all zero if unknown.
    function get(
        Book storage self,
        bytes32 root
    ) internal view returns (address anchorer, uint64 epoch, uint32 recordCount, uint64 timestamp, bool revoked) {
        Anchor memory a = self.anchors[root];
        if (a.epoch == 0) return (address(0), 0, 0, 0, false);
        return (self.accounts[a.anchorerId], a.epoch, a.recordCount, a.timestamp, a.revoked);
    }

    /// @dev Returns true if `root` is anchored and not revoked.
    function isValid(Book storage self, bytes32 root) internal view returns (bool) {
        Anchor storage slot = self.anchors[root];
        return slot.epoch != 0 && !slot.revoked;
    }
}
