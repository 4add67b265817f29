// @rxrnn/cells/onnx/internal: the ONNX graph builder, the weight conversions and the graph reader
// that @rxrnn/bidirectional/onnx (and the tests) build on. For the rxrnn packages themselves, not
// for applications: no compatibility promise.
export {
  addDenseHead,
  addForwardLayers,
  addStateInputs,
  addStateOutputs,
  concatStates,
  stackLayers,
} from './export.js';
export { cellParamsOf, GATE_COUNT, ONNX_OP, type OnnxDirectionWeights, onnxWeightsOf } from './gates.js';
export { type OnnxAttribute, type OnnxDim, OnnxGraphBuilder } from './graph-builder.js';
export {
  type OnnxRecurrentGraph,
  type OnnxRecurrentInput,
  type OnnxRecurrentLayer,
  readOnnxRecurrent,
} from './graph-reader.js';
export { buildUnidirectional, denseOf, onnxModelInfo, uniformLayers } from './import.js';
export { DataType, decodeModel, encodeModel, type IModelProto, type INodeProto, onnx } from './proto.js';
export { addRecurrentLayer, layerState, type OnnxLayerSpec } from './recurrent-layer.js';
