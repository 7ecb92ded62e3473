export {
  AddressPolicy,
  classifyAddress,
  type AddressCategory,
  type AddressPolicyOptions,
  type AddressRefusal,
} from './address-policy.js';
export {
  checkDestination,
  createGuardedAgent,
  createGuardedLookup,
  defaultLookupAll,
  parseDestinationUrl,
  type GuardedAgentOptions,
  type LookupAll,
  type ResolvedAddress,
} from './destination.js';
export { DestinationBlockedError, InvalidDestinationError } from '../errors/destination.errors.js';
