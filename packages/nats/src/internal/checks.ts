// Argument checks of the NATS package: the shared ones of @rxrnn/kernels/internal (one message
// style across the packages).
export {
  checkBoolean,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  describe,
  fail,
} from '@rxrnn/kernels/internal';
