{
  "targets": [
    {
      "target_name": "layerlab_native",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/bf16.cc",
        "native/mmap.cc",
        "native/elementwise.cc",
        "native/rope.cc",
        "native/attention.cc",
        "native/attention_tiled.cc",
        "native/rowstats.cc",
        "native/finite.cc"
      ],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/x86_64-linux-gnu"],
      "libraries": ["-lopenblas", "-ldnnl", "-fopenmp", "-lpthread"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-std=c++17", "-fopenmp"],
      "cflags_cc!": ["-std=gnu++17", "-O2", "-O0", "-fno-exceptions", "-fno-rtti"],
      "cflags!": ["-O2", "-O0"]
    }
  ]
}
