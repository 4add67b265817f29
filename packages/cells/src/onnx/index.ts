// @rxrnn/cells/onnx: ONNX in and out for the cells' models. toOnnx writes a CharModel or an
// RnnStack (+ Dense head) as standard LSTM/GRU/RNN nodes; fromOnnx reads graphs as PyTorch's
// exporter and tf2onnx write them. The builder and graph reader are shared with
// @rxrnn/bidirectional/onnx. Parsing and writing go through onnx-proto (protobufjs + onnx.proto).
export {
  addDenseHead,
  addForwardLayers,
  addStateInputs,
  addStateOutputs,
  CONFIG_METADATA_KEY,
  concatStates,
  type OnnxExportOptions,
  stackLayers,
  toOnnx,
  VOCAB_METADATA_KEY,
} from './export.js';
export { cellParamsOf, GATE_COUNT, ONNX_OP, type OnnxDirectionWeights, onnxWeightsOf } from './gates.js';
export {
  EXPORT_IR_VERSION,
  EXPORT_OPSET,
  type OnnxAttribute,
  type OnnxDim,
  OnnxGraphBuilder,
} from './graph-builder.js';
export {
  type OnnxRecurrentGraph,
  type OnnxRecurrentInput,
  type OnnxRecurrentLayer,
  readOnnxRecurrent,
} from './graph-reader.js';
export {
  buildUnidirectional,
  denseOf,
  fromOnnx,
  type OnnxImport,
  type OnnxImportOptions,
  type OnnxModelInfo,
  onnxModelInfo,
  uniformLayers,
} from './import.js';
export {
  DataType,
  decodeModel,
  encodeModel,
  type IModelProto,
  type INodeProto,
  onnx,
} from './proto.js';
export { addRecurrentLayer, layerState, type OnnxLayerSpec } from './recurrent-layer.js';
