// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IVntraceRegistry} from "../IVntraceRegistry.sol";

/**
 * @title RecallBook
 * @dev Storage and rules of lot recalls, keyed by lot key (keccak256 of the lot's GS1 Digital
 * Link path). A recall is final: there is no un-recall.
 */
library RecallBook {
    /// @dev Flag, time and author share one slot (8 + 48 + 160 bits); the reason has its own slots.
    struct Recall {
        bool recalled;
        uint48 timestamp;
        address recalledBy;
        string reason;
    }

    struct Book {
        mapping(bytes32 lotKey => Recall) recalls;
    }

    /**
     * @dev Records the recall of `lotKey` by `by`. The caller checks authorisation. Reverts with
     * {IVntraceRegistry-VntraceZeroLotKey} or {IVntraceRegistry-VntraceLotAlreadyRecalled}.
     */
    function recall(Book storage self, bytes32 lotKey, address by, string calldata reason) internal {
        if (lotKey == bytes32(0)) revert IVntraceRegistry.VntraceZeroLotKey();
        Recall storage r = self.recalls[lotKey];
        if (r.recalled) revert IVntraceRegistry.VntraceLotAlreadyRecalled(lotKey);
        r.recalled = true;
        r.timestamp = Time.timestamp();
        r.recalledBy = by;
        r.reason = reason;
    }

    /// @dev Returns the recall of `lotKey`; all zero if it was never recalled.
    function get(
        Book storage self,
        bytes32 lotKey
    ) internal view returns (bool recalled, uint64 timestamp, address recalledBy, string memory reason) {
        Recall storage r = self.recalls[lotKey];
        return (r.recalled, r.timestamp, r.recalledBy, r.reason);
    }

    /// @dev Returns true if `lotKey` has been recalled.
    function isRecalled(Book storage self, bytes32 lotKey) internal view returns (bool) {
        return self.recalls[lotKey].recalled;
    }
}
