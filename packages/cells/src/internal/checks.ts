// Argument checks of the cells, stacks, the char model and the operators: the shared ones of
// @rxrnn/kernels/internal (one message style across the packages).
export {
  checkDim,
  checkDisjoint,
  checkF32,
  checkFinite,
  checkIds,
  checkPositiveFinite,
  checkPositiveInt,
  checkUnitInterval,
  describe,
  fail,
} from '@rxrnn/kernels/internal';
