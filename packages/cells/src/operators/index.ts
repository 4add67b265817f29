// The cells' RxJS operators, re-exported by the package index.
export {};
