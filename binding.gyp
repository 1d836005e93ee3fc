{
  "variables": {
    # 1 when scripts/build-unicorn.sh has built the patched static Unicorn into
    # vendor/unicorn/ (see bench/README.md), 0 to link the system's libunicorn.
    "vendored_unicorn%": "<!(node -p \"const f=require('fs');+(f.existsSync('vendor/unicorn/lib/libunicorn.a')&&f.existsSync('vendor/unicorn/include/unicorn/unicorn.h'))\")"
  },
  "targets": [
    {
      "target_name": "syscage_engine",
      "sources": ["engine/engine.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["vendored_unicorn==1", {
          "include_dirs": ["vendor/unicorn/include"],
          # --exclude-libs keeps Unicorn's symbols inside the addon (Node exports a crc32 too).
          "libraries": ["<(module_root_dir)/vendor/unicorn/lib/libunicorn.a", "-lpthread", "-lm", "-Wl,--exclude-libs,ALL"]
        }, {
          "libraries": ["-lunicorn"]
        }]
      ]
    }
  ]
}
