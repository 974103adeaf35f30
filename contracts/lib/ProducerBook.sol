// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IVntraceRegistry} from "../IVntraceRegistry.sol";

/**
 * @title ProducerBook
 * @dev Storage and rules of the producer registry. A producer is an entry, not a role: it never
 * transacts, the node checks its EIP-712 signatures off-chain against this registry.
 */
library ProducerBook {
    /// @dev Flags and registration time share one slot; the URI lives in its own slots.
    struct Producer {
        bool registered;
        bool active;
        uint48 registeredAt;
        string metadataURI;
    }

    struct Book {
        mapping(address account => Producer) producers;
    }

    /**
     * @dev Registers `producer`, active. Reverts with {IVntraceRegistry-VntraceZeroAddress} or
     * {IVntraceRegistry-VntraceProducerAlreadyRegistered}.
     */
    function register(Book storage self, address producer, string calldata metadataURI) internal {
        if (producer == address(0)) revert IVntraceRegistry.VntraceZeroAddress();
        Producer storage p = self.producers[producer];
        if (p.registered) revert IVntraceRegistry.VntraceProducerAlreadyRegistered(producer);
        p.registered = true;
        p.active = true;
        p.registeredAt = Time.timestamp();
        p.metadataURI = metadataURI;
    }

    /**
     * @dev Sets the active flag of `producer` to `active`. Reverts with
     * {IVntraceRegistry-VntraceUnknownProducer} or {IVntraceRegistry-VntraceProducerAlreadyInState}.
     */
    function setActive(Book storage self, address producer, bool active) internal {
        Producer storage p = self.producers[producer];
        if (!p.registered) revert IVntraceRegistry.VntraceUnknownProducer(producer);
        if (p.active == active) revert IVntraceRegistry.VntraceProducerAlreadyInState(producer, active);
        p.active = active;
    }

    /// @dev Returns the entry of `producer`; all zero if it was never registered.
    function get(
        Book storage self,
        address producer
    ) internal view returns (bool registered, bool active, uint64 registeredAt, string memory metadataURI) {
        Producer storage p = self.producers[producer];
        return (p.registered, p.active, p.registeredAt, p.metadataURI);
    }

    /// @dev Returns true if `producer` is registered and active.
    function isActive(Book storage self, address producer) internal view returns (bool) {
        Producer storage p = self.producers[producer];
        return p.registered && p.active;
    }
}
