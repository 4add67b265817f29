// @rxrnn/cells/onnx: ONNX in and out for the cells' models. toOnnx writes a CharModel or an
// RnnStack (+ Dense head) as standard LSTM/GRU/RNN nodes; fromOnnx reads graphs as PyTorch's
// exporter and tf2onnx write them. The builder and graph reader that @rxrnn/bidirectional/onnx
// shares are in internal.ts (@rxrnn/cells/onnx/internal). Parsing and writing go through
// onnx-proto (protobufjs + onnx.proto).

/**
 * ONNX in and out: toOnnx writes a CharModel or an RnnStack (+ Dense head) as standard
 * LSTM/GRU/RNN nodes (opset 14); fromOnnx reads what PyTorch's exporter and tf2onnx write.
 *
 * @module @rxrnn/cells/onnx
 */
export { CONFIG_METADATA_KEY, type OnnxExportOptions, toOnnx, VOCAB_METADATA_KEY } from './export.js';
export { EXPORT_IR_VERSION, EXPORT_OPSET } from './graph-builder.js';
export { fromOnnx, type OnnxImport, type OnnxImportOptions, type OnnxModelInfo } from './import.js';
