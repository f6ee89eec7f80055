{
  "targets": [
    {
      "target_name": "auth_socket",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/peercred.cc",
        "native/peercred_binding.cc",
        "native/nss.cc",
        "native/nss_binding.cc",
        "native/packet.cc",
        "native/packet_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "AUTH_SOCKET_SOURCE_HASH=\"<!(node scripts/source-hash.js)\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
