{
  "targets": [
    {
      "target_name": "rxrnn_kernels",
      "sources": ["src/addon.c", "src/isa-avx512.c", "src/isa-avx2.c", "src/isa-portable.c"],
      "cflags": ["-O3", "-std=gnu11", "-ffp-contract=fast", "-fno-math-errno", "-Wall", "-Wno-unused-parameter"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-std=gnu11", "-ffp-contract=fast", "-fno-math-errno"]
      }
    }
  ]
}
